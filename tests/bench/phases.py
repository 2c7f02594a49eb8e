#!/usr/bin/python3
"""phases.py TRACE - the phases of each start in a tracefs trace of
tests/bench/phases (sched_process_fork/exec/exit, sys_enter_mount,
sys_enter_pivot_root), grouped by the program that was started (sbx, limit),
as a table of medians in milliseconds."""
import re
import statistics
import sys

LINE = re.compile(r"\s*(.+?)-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+):\s+(\w+)(.*)")
# A start, from the command's exec to its exit, in the order it passes them.
MARKS = ["exec", "clone", "mount", "pivot", "payload", "payload_exit", "exit"]
PHASES = [
    ("exec", "clone", "exec of the command to the clone of pid 1 returning"),
    ("clone", "mount", "to the first mount (maps, hand-offs)"),
    ("mount", "pivot", "mounts, masks, read-only paths, to pivot_root"),
    ("pivot", "payload", "pivot_root to the payload's exec (lock, names, caps, seccomp)"),
    ("payload", "payload_exit", "the payload, exec to exit"),
    ("payload_exit", "exit", "its exit to the command's"),
    ("exec", "exit", "whole start"),
]
PROGRAMS = ["sbx", "limit"]


def starts(path):
    """Yields (program, {mark: ms}) for every complete start in the trace."""
    runs, owner = [], {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = LINE.match(line)
        if not m or line.startswith("#"):
            continue
        pid, ts, event, rest = int(m.group(2)), float(m.group(3)) * 1000, m.group(4), m.group(5)
        if event == "sched_process_exec":
            name = re.search(r"filename=(\S+)", rest)
            prog = name.group(1).rsplit("/", 1)[-1] if name else ""
            if prog in PROGRAMS and pid not in owner:
                run = {"prog": prog, "pid": pid, "exec": ts}
                runs.append(run)
                owner[pid] = run
            elif pid in owner and name and name.group(1) == "/bin/true":
                owner[pid].setdefault("payload", ts)
                owner[pid]["payload_pid"] = pid
            continue
        run = owner.get(pid)
        if event == "sched_process_fork":
            child = re.search(r"child_pid=(\d+)", rest)
            if run is not None and child:
                owner[int(child.group(1))] = run
                if pid == run["pid"]:
                    run.setdefault("clone", ts)
        elif run is None:
            continue
        elif event == "sys_mount":  # the trace prints sys_enter_mount so
            run.setdefault("mount", ts)
        elif event == "sys_pivot_root":
            run.setdefault("pivot", ts)
        elif event == "sched_process_exit":
            if pid == run.get("payload_pid"):
                run.setdefault("payload_exit", ts)
            if pid == run["pid"]:
                run["exit"] = ts
    for run in runs:
        if all(k in run for k in MARKS):
            yield run["prog"], run


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: phases.py TRACE")
    by = {p: [] for p in PROGRAMS}
    for prog, run in starts(sys.argv[1]):
        by[prog].append(run)
    if not all(by.values()):
        sys.exit("phases.py: no complete start of %s in the trace" %
                 " or ".join(p for p in PROGRAMS if not by[p]))
    print("| phase (median ms) | sbx (%d) | limit (%d) | sbx − limit |" %
          (len(by["sbx"]), len(by["limit"])))
    print("|---|---:|---:|---:|")
    for a, b, what in PHASES:
        med = {p: statistics.median(r[b] - r[a] for r in by[p]) for p in PROGRAMS}
        print("| %s | %.3f | %.3f | %+.3f |" % (what, med["sbx"], med["limit"],
                                                med["sbx"] - med["limit"]))


if __name__ == "__main__":
    main()
