#!/usr/bin/python3
"""syscount.py [--top N] [--out FILE] LABEL ARGV... - counts the system calls
of one run of ARGV and of every process it starts (`strace -f -c`), and
prints the total and the N most frequent calls (default 12). bench.py and
tests/bench/syscalls use count() and summary()."""
import os
import subprocess
import sys
import tempfile


def count(argv, env=None, keep=None):
    """Runs argv once under `strace -f -c`. Returns {"total", "errors",
    "calls": [(name, calls, errors)] most frequent first, "rc"}; keep names
    a file for strace's own table."""
    fd, tmp = tempfile.mkstemp(prefix="syscount.")
    os.close(fd)
    try:
        p = subprocess.run(["strace", "-f", "-c", "-o", tmp, *argv], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env=env)
        with open(tmp) as f:
            table = f.read()
    finally:
        os.unlink(tmp)
    if keep:
        with open(keep, "w") as f:
            f.write(table)
    res = {"rc": p.returncode, "total": None, "errors": 0, "calls": [],
           "stderr": p.stderr.strip()}
    # % time, seconds, usecs/call, calls, [errors], syscall
    for line in table.splitlines():
        f = line.split()
        if len(f) < 5 or not f[3].isdigit():
            continue
        errors = int(f[4]) if len(f) == 6 else 0
        if f[-1] == "total":
            res["total"], res["errors"] = int(f[3]), errors
        else:
            res["calls"].append((f[-1], int(f[3]), errors))
    res["calls"].sort(key=lambda c: (-c[1], c[0]))
    return res


def summary(res, top=12):
    """'N calls (E failed): name n, name n, …'"""
    if res["total"] is None:
        return f"failed (exit {res['rc']}): {res['stderr'][-200:]}"
    calls = ", ".join(f"{n} {c}" for n, c, _ in res["calls"][:top])
    return f"{res['total']} calls ({res['errors']} failed): {calls}"


def main():
    args = sys.argv[1:]
    top, out = 12, None
    while args and args[0].startswith("--"):
        if args[0] == "--top" and len(args) > 1:
            top, args = int(args[1]), args[2:]
        elif args[0] == "--out" and len(args) > 1:
            out, args = args[1], args[2:]
        else:
            break
    if len(args) < 2:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    label, argv = args[0], args[1:]
    res = count(argv, keep=out)
    print(f"{label}: {summary(res, top)}")
    return 0 if res["total"] is not None and res["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
