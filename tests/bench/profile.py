#!/usr/bin/python3
"""profile.py SBX WORKDIR RUNS - where `sbx run --rm busybox /bin/true` spends
its time. Called by tests/bench/profile-sbx inside a private sbx tree; prints
a plain-text report.

1. sbx --debug step timings (median per step over RUNS runs);
2. fixed process cost: `sbx --version` (exec, dynamic linking, exit), RSS;
3. ablations: the same run with one feature switched off, interleaved;
4. strace -c -f over 5 runs: CPU time per syscall, and -w wall time;
5. strace -f -tt -T over one run: the slowest syscalls and the exit gaps;
6. perf stat software counters, when perf is usable.
"""
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

import bench

SBX, WORK, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3])
RUN = [SBX, "run", "--rm", "busybox", "/bin/true"]
DEVNULL = subprocess.DEVNULL


def wall(argv, **kw):
    t = time.perf_counter_ns()
    p = subprocess.run(argv, stdin=DEVNULL, stdout=DEVNULL, **kw)
    return (time.perf_counter_ns() - t) / 1e6, p


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def section(title):
    print(f"\n## {title}\n", flush=True)


LINE = re.compile(r"^sbx: \[\s*([\d.]+) ms\] \[(\d+)\] (.*)$")


def norm(msg):
    msg = re.sub(r"^instance \S+ created", "instance created", msg)
    msg = re.sub(r"^image resolved: .*", "image resolved", msg)
    msg = re.sub(r"^cloned pid \d+", "cloned", msg)
    return re.sub(r"\d+", "N", msg)


def debug_steps():
    section(f"1. sbx --debug run --rm busybox /bin/true, {RUNS} runs (medians)")
    rows = {}
    order = []
    walls = []
    for i in range(RUNS):
        ms, p = wall([SBX, "--debug"] + RUN[1:], stderr=subprocess.PIPE, text=True)
        walls.append(ms)
        prev = 0.0
        for ln in p.stderr.splitlines():
            m = LINE.match(ln)
            if not m:
                continue
            t, pid, msg = float(m.group(1)), m.group(2), norm(m.group(3))
            key = ("child: " if pid == "1" and not msg.startswith("child") else "") + msg
            if key not in rows:
                rows[key] = {"at": [], "delta": []}
                order.append(key)
            rows[key]["at"].append(t)
            rows[key]["delta"].append(t - prev)
            prev = t
    last = 0.0
    print(f"{'step (time since the previous line)':48} {'at ms':>9} {'step ms':>9}")
    for k in order:
        at, d = med(rows[k]["at"]), med(rows[k]["delta"])
        last = max(last, at)
        print(f"{k:48} {at:9.3f} {d:9.3f}")
    w = med(walls)
    print(f"{'whole process, measured outside':48} {w:9.3f}")
    print(f"{'outside the traced steps (exec+ld.so before main,':48}")
    print(f"{' teardown after the payload exits)':48} {'':9} {w - last:9.3f}")
    return w


def fixed_cost():
    section("2. Fixed process cost")
    for label, argv in (("sbx --version", [SBX, "--version"]),
                        ("bwrap --version", ["bwrap", "--version"]),
                        ("/bin/true", ["/bin/true"])):
        t = [wall(argv)[0] for _ in range(30)]
        print(f"{label + ' (exec, ld.so, exit):':40} median {med(t):.3f} ms over 30 runs")
    env = dict(os.environ, LD_DEBUG="statistics")
    p = subprocess.run([SBX, "--version"], stdin=DEVNULL, stdout=DEVNULL, stderr=subprocess.PIPE,
                       text=True, env=env)
    for ln in p.stderr.splitlines():
        if "total startup time" in ln or "number of relocations:" in ln or \
                "time needed for relocation" in ln:
            print("ld.so (LD_DEBUG=statistics sbx --version): " + ln.split(":", 1)[1].strip())
    libs = subprocess.run(["ldd", SBX], capture_output=True, text=True).stdout
    names = [ln.split()[0] for ln in libs.splitlines() if "=>" in ln]
    print(f"shared libraries loaded: {len(names)}: {' '.join(names)}")
    for label, argv in (("sbx --version", [SBX, "--version"]), ("sbx run", RUN),
                        ("bwrap --version", [shutil.which("bwrap") or "/usr/bin/bwrap",
                                             "--version"])):
        vals = [v for v in (bench.rss_run(argv) for _ in range(5)) if v is not None]
        if vals:
            print(f"peak RSS of {label}: {med(vals):.0f} KiB (at exit, from the page "
                  "tables, median of 5)")


ABLATIONS = [
    ("default", []),
    ("--seccomp unconfined", ["--seccomp", "unconfined"]),
    ("--network host", ["--network", "host"]),
    ("--seccomp unconfined --network host", ["--seccomp", "unconfined", "--network", "host"]),
    ("--no-init (the payload is pid 1)", ["--no-init"]),
    ("kept instance (no --rm; removed untimed)", None),
]


def ablations():
    section(f"3. Ablations: one feature off at a time, {RUNS} interleaved runs each (medians)")
    res = {k: [] for k, _ in ABLATIONS}
    rng = random.Random(7)
    n = 0
    for r in range(RUNS + 2):
        order = list(ABLATIONS)
        rng.shuffle(order)
        for k, extra in order:
            if extra is None:
                n += 1
                argv = [SBX, "run", "--name", f"prof{n}", "busybox", "/bin/true"]
            else:
                argv = [SBX, "run", "--rm"] + extra + ["busybox", "/bin/true"]
            ms, p = wall(argv, stderr=DEVNULL)
            if p.returncode != 0:
                print(f"{k}: exit {p.returncode}")
                continue
            if r >= 2:
                res[k].append(ms)
            if extra is None:
                d = os.path.join(os.environ["XDG_DATA_HOME"], "sbx", "instances", f"prof{n}")
                subprocess.run(["chmod", "-R", "u+rwX", d])
                shutil.rmtree(d, ignore_errors=True)
    base = med(res["default"])
    for k, _ in ABLATIONS:
        m = med(res[k])
        print(f"{k:45} {m:8.3f} ms  ({m - base:+.3f} ms vs default)")


def strace_counts():
    loop = " ".join(f"'{a}'" for a in RUN)
    script = f"for i in 1 2 3 4 5; do {loop}; done"
    for flags, what in ((["-c", "-f"], "system CPU time per syscall"),
                        (["-c", "-f", "-w"], "wall-clock time per syscall")):
        section(f"4. strace {' '.join(flags)} over 5 runs ({what}, top 15)")
        out = os.path.join(WORK, "strace-c")
        subprocess.run(["strace"] + flags + ["-o", out, "/bin/sh", "-c", script],
                       stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
        with open(out) as f:
            lines = f.read().splitlines()
        for ln in lines[:17]:
            print(ln)
        total = [ln for ln in lines if ln.rstrip().endswith("total")]
        if total:
            print(total[0])


SC = re.compile(r"^(\d+)\s+(\d+:\d+:\d+\.\d+)\s+(.*?)(?: <([\d.]+)>)?$")


def strace_timeline():
    section("5. strace -f -tt -T over one run: slowest syscalls and exit gaps")
    out = os.path.join(WORK, "strace-t")
    subprocess.run(["strace", "-f", "-tt", "-T", "-o", out] + RUN, stdin=DEVNULL,
                   stdout=DEVNULL, stderr=DEVNULL)

    def secs(ts):
        h, m, s = ts.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    calls, first, lastt = [], None, None
    exit_call, exited = {}, {}
    unfinished = {}
    with open(out) as f:
        for ln in f:
            m = SC.match(ln.rstrip())
            if not m:
                continue
            pid, ts, rest, dur = m.group(1), secs(m.group(2)), m.group(3), m.group(4)
            first = ts if first is None else first
            lastt = ts
            if "<unfinished ...>" in rest:
                unfinished[pid] = (ts, rest.split("(")[0])
            if rest.startswith("exit_group(") or rest.startswith("exit("):
                exit_call[pid] = ts
            if rest.startswith("+++ exited") or rest.startswith("+++ killed"):
                exited[pid] = ts
            if dur is not None:
                name = rest.split("(")[0]
                if rest.startswith("<..."):
                    name = rest.split()[1]
                    ts0 = unfinished.get(pid, (ts, name))[0]
                else:
                    ts0 = ts
                calls.append((float(dur) * 1e3, pid, name, ts0 - first, rest[:110]))
    print(f"traced wall time: {(lastt - first) * 1e3:.1f} ms (strace slows every syscall down)")
    print(f"{'ms':>8} {'at ms':>8} pid     call")
    for d, pid, name, at, rest in sorted(calls, reverse=True)[:15]:
        print(f"{d:8.3f} {at * 1e3:8.2f} {pid:7} {rest}")
    for pid in exit_call:
        if pid in exited:
            print(f"pid {pid}: exit_group() to '+++ exited' (kernel teardown of the task and "
                  f"whatever it held last): {(exited[pid] - exit_call[pid]) * 1e3:.3f} ms")


def perf_stat():
    if not shutil.which("perf"):
        return
    section("6. perf stat -r 10 (software counters)")
    p = subprocess.run(["perf", "stat", "-r", "10", "-e",
                        "task-clock,context-switches,cpu-migrations,page-faults"] + RUN,
                       stdin=DEVNULL, stdout=DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print(f"perf is not usable here: {p.stderr.strip().splitlines()[-1:]}")
        return
    for ln in p.stderr.splitlines():
        if ln.strip():
            print(ln)


def main():
    for _ in range(3):
        wall(RUN, stderr=DEVNULL)
    debug_steps()
    fixed_cost()
    ablations()
    strace_counts()
    strace_timeline()
    perf_stat()


if __name__ == "__main__":
    main()
