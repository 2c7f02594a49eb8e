#!/usr/bin/python3
"""bench.py CONFIG.json OUTDIR - the measuring part of `make bench`.

tests/bench/run prepares everything (the unprivileged user, the busybox
rootfs, the OCI bundle) and describes it in CONFIG.json; this program runs
the measurements, writes OUTDIR/{results.json,results.tsv,samples.tsv,
results.md,startup.dat} and prints results.md to stdout.

Timing: every sample is one whole process, from posix_spawn() to wait4(),
on a monotonic clock (time.perf_counter_ns). Standard input, output and
error are /dev/null, as with hyperfine's defaults. The default harness
interleaves the commands one run at a time in a freshly shuffled order per
round, so that slow drifts of the machine (other jobs, page cache, thermal)
hit every command alike; `"harness": "hyperfine"` uses hyperfine instead,
in rounds of blocks (see run_hyperfine).
"""
import ctypes
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import syscount

SPAWN_OPEN = os.POSIX_SPAWN_OPEN
ENV = dict(os.environ)
SEQ = 0


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def unique_id():
    global SEQ
    SEQ += 1
    return f"bench-{os.getpid()}-{SEQ}"


def expand(argv):
    """{id} becomes a fresh container id (runc, crun, sbx-oci) for every run."""
    if not any("{id}" in a for a in argv):
        return argv
    i = unique_id()
    return [a.replace("{id}", i) for a in argv]


def spawn(argv, err=os.devnull, out=os.devnull):
    actions = [
        (SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    return os.posix_spawn(argv[0], argv, ENV, file_actions=actions)


def become_subreaper():
    """Descendants a command leaves behind come back to this process (a
    tool may exit before its sandbox is gone: bwrap does), so that their
    CPU time is counted too (children_cpu_ms)."""
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}: the CPU "
            "time of processes a command leaves behind is not counted")


def reap_orphans(timeout=10.0):
    """Waits for every remaining child (orphans of a command, reparented to
    this subreaper); returns when there is none, or after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                log("a command left processes running; their CPU time is not counted")
                return
            time.sleep(0.0002)


def children_cpu_ms():
    """user + sys of every reaped child, with what each of them reaped."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * 1e3


def timed(argv, err=os.devnull, out=os.devnull, cpu=None):
    """Runs argv once; returns (exit code, wall ns, ru_maxrss KiB). The wall
    time ends when the command exits. With a list as cpu, appends the run's
    CPU time: the command's, and that of every process it started, also of
    those still running when it exited (waited for after the clock stops)."""
    argv = expand(argv)
    if cpu is not None:
        reap_orphans()
        used = children_cpu_ms()
    t0 = time.perf_counter_ns()
    pid = spawn(argv, err, out)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    if cpu is not None:
        reap_orphans()
        cpu.append(children_cpu_ms() - used)
    return os.waitstatus_to_exitcode(status), t1 - t0, ru.ru_maxrss


def run_capture(argv, timeout=600):
    p = subprocess.run(expand(argv), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout, env=ENV)
    return p.returncode, p.stdout, p.stderr


def stats(xs):
    xs = sorted(xs)
    if not xs:
        return None
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return {"n": len(xs), "median": statistics.median(xs), "min": xs[0], "max": xs[-1],
            "mean": statistics.fmean(xs), "stdev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
            "q1": q[0], "q3": q[2]}


def fail_text(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "(no message)"


# ---------------------------------------------------------------- start-up

def sanity(cmds):
    """One run of each command, output kept; a failing peer is dropped. A
    command whose tool is missing ("missing": why) is left out, not run."""
    ok = []
    for c in cmds:
        if c.get("missing"):
            log(f"{c['key']}: not run: {c['missing']}")
            continue
        rc, out, err = run_capture(c["argv"], timeout=120)
        if rc != 0:
            c["failed"] = f"exit {rc}: {fail_text(err)}"
            if "hybrid" in err:
                c["failed"] += " (run make bench as root: it uses ../shared/bin/stock-host)"
            log(f"{c['key']}: FAILED ({c['failed']}); left out of the comparison")
            if c["key"] == "sbx":
                log("sbx itself fails: nothing to compare against")
                sys.exit(1)
        else:
            ok.append(c)
    return ok


def interleave(cmds, runs, warmup, rng, cpu, collect_rss=None):
    """Returns the wall ms of every timed run per command; their CPU ms go
    to cpu[key]."""
    samples = {c["key"]: [] for c in cmds}
    errs = os.path.join(tempfile.gettempdir(), f"bench-err-{os.getpid()}")
    for rnd in range(warmup + runs):
        order = list(cmds)
        rng.shuffle(order)
        for c in order:
            used = []
            rc, ns, rss = timed(c["argv"], err=errs, cpu=used)
            if rc != 0:
                with open(errs, errors="replace") as f:
                    msg = fail_text(f.read())
                log(f"{c['key']}: run failed with exit {rc}: {msg}")
                c.setdefault("run_failures", 0)
                c["run_failures"] += 1
                continue
            if rnd >= warmup:
                samples[c["key"]].append(ns / 1e6)
                cpu[c["key"]].extend(used)
                if collect_rss is not None:
                    collect_rss[c["key"]].append(rss)
        if rnd + 1 == warmup:
            log(f"warm-up done ({warmup} rounds)")
        elif rnd >= warmup and (rnd - warmup + 1) % 10 == 0:
            log(f"round {rnd - warmup + 1}/{runs}")
    try:
        os.unlink(errs)
    except FileNotFoundError:
        pass
    return samples


def run_hyperfine(cmds, runs, warmup, rounds, outdir, cpu):
    """hyperfine runs each command's runs back to back. To alternate anyway,
    it is called `rounds` times with runs/rounds runs per command, the order
    of the commands rotated every round, and the samples pooled. hyperfine
    reports CPU time as a mean per command: cpu[key] gets one per round."""
    per = max(1, math.ceil(runs / rounds))
    samples = {c["key"]: [] for c in cmds}
    for r in range(rounds):
        order = cmds[r % len(cmds):] + cmds[:r % len(cmds)]
        js = os.path.join(outdir, f"hyperfine-round{r + 1}.json")
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup if r == 0 else 1),
                "--runs", str(per), "--export-json", js]
        for c in order:
            # hyperfine splits the string itself; a fixed id per command is
            # fine because `runc run`/`crun run` delete the container on exit.
            argv.append(" ".join(a.replace("{id}", f"bench-hf-{c['key']}") for a in c["argv"]))
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, env=ENV)
        if p.returncode != 0:
            log(f"hyperfine failed: {fail_text(p.stderr)}")
            sys.exit(1)
        with open(js) as f:
            res = json.load(f)["results"]
        for c, rr in zip(order, res):
            samples[c["key"]].extend(t * 1e3 for t in rr["times"])
            cpu[c["key"]].append((rr["user"] + rr["system"]) * 1e3)
        log(f"hyperfine round {r + 1}/{rounds}")
    return samples


# ptrace(2) requests, options and events (linux/ptrace.h).
PTRACE_TRACEME, PTRACE_CONT, PTRACE_SETOPTIONS = 0, 7, 0x4200
PTRACE_O_ALL = 0x2 | 0x4 | 0x8 | 0x10 | 0x40  # fork, vfork, clone, exec, exit
PTRACE_EVENT_EXIT = 6
WALL = 0x40000000  # __WALL: clones too


def rss_kib(pid):
    """The resident set of pid's memory now, from its page tables."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_run(argv):
    """Runs argv once, traced with every process it starts; returns the
    largest resident set any of them had when it exited (smaps_rollup at
    PTRACE_EVENT_EXIT), in KiB, or None. ru_maxrss is not used: the kernel
    keeps a process's page counts per CPU and adds up a CPU's share only
    past 32 pages, so it misses up to 31 pages per CPU, more for a process
    that faults page by page than for one that maps its pages in bulk."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            libc.ptrace(PTRACE_TRACEME, 0, None, None)
            os.execve(argv[0], argv, ENV)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, WALL)  # stopped by the exec
    if not os.WIFSTOPPED(status):
        return None
    libc.ptrace(PTRACE_SETOPTIONS, pid, None, PTRACE_O_ALL)
    libc.ptrace(PTRACE_CONT, pid, None, None)
    traced, peak, failed = {pid}, None, False
    while traced:
        try:
            w, status = os.waitpid(-1, WALL)
        except ChildProcessError:
            break
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            traced.discard(w)
            if w == pid and os.waitstatus_to_exitcode(status) != 0:
                failed = True
            continue
        if not os.WIFSTOPPED(status):
            continue
        traced.add(w)  # a new process's first stop may come before its parent's event
        sig, event = os.WSTOPSIG(status), status >> 16
        if event == PTRACE_EVENT_EXIT:
            kib = rss_kib(w)
            if kib is not None:
                peak = kib if peak is None else max(peak, kib)
        inject = 0 if event or sig in (signal.SIGTRAP, signal.SIGSTOP) else sig
        libc.ptrace(PTRACE_CONT, w, None, ctypes.c_void_p(inject))
    return None if failed else peak


def peak_rss(cmds, runs, rng):
    """rss_run of each command, runs times, in shuffled rounds, in KiB."""
    out = {c["key"]: [] for c in cmds}
    for _ in range(runs):
        order = list(cmds)
        rng.shuffle(order)
        for c in order:
            reap_orphans()
            kib = rss_run(expand(c["argv"]))
            if kib is not None:
                out[c["key"]].append(kib)
    return out


# ---------------------------------------------------------------- overlay

def overlay(cfg, rng):
    o = cfg["overlay"]
    cmds = {"overlay": o["overlay_argv"], "volume": o["volume_argv"], "baseline": o["baseline_argv"]}
    if "memory_argv" in o:
        cmds["memory"] = o["memory_argv"]
    for k, argv in cmds.items():
        rc, _, err = run_capture(argv)
        if rc != 0:
            return {"error": f"{k}: exit {rc}: {fail_text(err)}"}
    res = {k: [] for k in cmds}
    for _ in range(o["runs"]):
        order = list(cmds)
        rng.shuffle(order)
        for k in order:
            os.sync()  # start every run with no dirty data around
            rc, ns, _ = timed(cmds[k])
            if rc != 0:
                return {"error": f"{k}: exit {rc}"}
            res[k].append(ns / 1e6)
    return res


# ---------------------------------------------------------------- scale

def burst(argv, n):
    """Starts n copies at once; returns (wall ms until all n exited,
    failures, CPU ms of all and of every process they started)."""
    reap_orphans()
    used = children_cpu_ms()
    t0 = time.perf_counter_ns()
    pids = [spawn(expand(argv)) for _ in range(n)]
    fails = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            fails += 1
    wall = (time.perf_counter_ns() - t0) / 1e6
    reap_orphans()
    return wall, fails, children_cpu_ms() - used


def scale(cfg, cmds_by_key):
    s = cfg["scale"]
    n = s["n"]
    keys = [k for k in s["keys"] if k in cmds_by_key]
    res = {k: {"wall_ms": [], "cpu_ms": [], "failures": 0} for k in keys}
    for rep in range(s["reps"]):
        for k in (keys if rep % 2 == 0 else keys[::-1]):
            ms, fails, cpu = burst(cmds_by_key[k]["argv"], n)
            res[k]["wall_ms"].append(ms)
            res[k]["cpu_ms"].append(cpu)
            res[k]["failures"] += fails
            log(f"scale: {n}x {k} in {ms:.0f} ms ({cpu:.0f} ms CPU), {fails} failed")
    return res


# ---------------------------------------------------------------- syscalls

def syscalls(cfg, cmds_by_key, outdir):
    """One start of each command under `strace -f -c` (tests/bench/syscalls
    prints the same with more detail); strace's tables go to OUTDIR."""
    res = {}
    for k in cfg.get("syscalls", {}).get("keys", []):
        if k in cmds_by_key:
            res[k] = syscount.count(expand(cmds_by_key[k]["argv"]), env=ENV,
                                    keep=os.path.join(outdir, f"strace-{k}.txt"))
            log(f"syscalls: {k}: {syscount.summary(res[k], 5)}")
    return res


# ---------------------------------------------------------------- sbx ps

def ps_scaling(cfg):
    p = cfg["ps"]
    if not p.get("argv"):
        return {"unavailable": p.get("reason", "not available")}
    res = {"argv": p["argv"], "levels": []}
    have = 0
    create = []
    for level in p["levels"]:
        while have < level:
            argv = p["create_argv"][:]
            argv = [a.replace("{n}", str(have)) for a in argv]
            rc, ns, _ = timed(argv)
            if rc != 0:
                return dict(res, error=f"creating instance {have}: exit {rc}")
            create.append(ns / 1e6)
            have += 1
            if have % 100 == 0:
                log(f"ps: {have} instances")
        rc, out, err = run_capture(p["argv"])
        if rc != 0:
            return dict(res, error=f"{' '.join(p['argv'])}: exit {rc}: {fail_text(err)}")
        listed = sum(1 for ln in out.splitlines() if "bench" in ln)
        times = []
        for _ in range(p["runs"]):
            rc, ns, _ = timed(p["argv"])
            times.append(ns / 1e6)
        res["levels"].append({"instances": level, "listed": listed, "ms": times})
        log(f"ps: {level} instances, median {statistics.median(times):.1f} ms, {listed} listed")
    res["create_ms"] = create
    return res


# ---------------------------------------------------------------- report

def fmt(x, d=1):
    return "n/a" if x is None else f"{x:.{d}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def report(cfg, outdir, data):
    cmds = cfg["commands"]
    st = {k: stats(v) for k, v in data["startup"].items()}
    rss = {k: stats(v) for k, v in data["rss"].items()}
    cpu = {k: stats(v) for k, v in data["cpu"].items()}
    base = st["sbx"]["median"]
    med = {k: (s["median"] if s else None) for k, s in st.items()}
    rmed = {k: (s["median"] if s else None) for k, s in rss.items()}
    cmed = {k: (s["median"] if s else None) for k, s in cpu.items()}
    limit_med = med.get("limit")
    tsv = [("section", "key", "metric", "value", "unit")]
    md = []
    env = cfg["env"]
    md.append(f"Measured {env['date']} on {env['host']}, {env['cpu']}, Linux {env['kernel']}; "
              f"sbx {env['sbx']}. Harness: {data['harness']}, {cfg['runs']} runs per command "
              f"after {cfg['warmup']} warm-up rounds{' (quick mode)' if cfg['quick'] else ''}.")
    md.append("")
    md.append("### Start-up and teardown of `/bin/true` in the busybox rootfs")
    md.append("")
    md.append("| tool | command | median ms | min ms | max ms | × sbx default | × limit "
              "| CPU ms per start | peak RSS KiB |")
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    chart = []
    for c in cmds:
        k = c["key"]
        if c.get("missing"):
            md.append(f"| {c['label']} | `{c['shown']}` | not run: {c['missing']} | | | | | | |")
            tsv.append(("startup", k, "missing", c["missing"].replace("\t", " "), ""))
            continue
        if c.get("failed"):
            md.append(f"| {c['label']} | `{c['shown']}` | failed: {c['failed']} | | | | | | |")
            tsv.append(("startup", k, "failed", c["failed"].replace("\t", " "), ""))
            continue
        s = st[k]
        r = ratio(s["median"], base)
        rl = ratio(s["median"], limit_med)
        md.append(f"| {c['label']} | `{c['shown']}` | {fmt(s['median'], 2)} | {fmt(s['min'], 2)} | "
                  f"{fmt(s['max'], 2)} | {fmt(r, 2)} | {fmt(rl, 2)} | {fmt(cmed.get(k), 2)} | "
                  f"{fmt(rmed.get(k), 0)} |")
        for m in ("median", "min", "max", "mean", "stdev", "q1", "q3"):
            tsv.append(("startup", k, m, f"{s[m]:.3f}", "ms"))
        tsv.append(("startup", k, "n", str(s["n"]), "runs"))
        tsv.append(("startup", k, "ratio_to_sbx", f"{r:.3f}", "x"))
        if rl is not None:
            tsv.append(("startup", k, "ratio_to_limit", f"{rl:.3f}", "x"))
        if cpu.get(k):
            tsv.append(("cpu", k, "median", f"{cpu[k]['median']:.3f}", "ms"))
            tsv.append(("cpu", k, "mean", f"{cpu[k]['mean']:.3f}", "ms"))
        if rss.get(k):
            tsv.append(("rss", k, "median", f"{rss[k]['median']:.0f}", "KiB"))
            tsv.append(("rss", k, "max", f"{rss[k]['max']:.0f}", "KiB"))
        chart.append((c["label"], s["median"], s["q1"], s["q3"], s["min"], s["max"],
                      1 if k.startswith("sbx") else 2 if k.startswith("limit") else 0))
    with open(os.path.join(outdir, "startup.dat"), "w") as f:
        for row in chart:
            f.write('"%s"\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\n' % row)

    if limit_med is not None:
        md.append("")
        md.append("The limit program (`tests/bench/limit.c`) does the kernel work of "
                  "`sbx run --rm busybox /bin/true` with the default profile and nothing else, "
                  "from `sbx spec`'s mounts, masks, read-only paths, capabilities and hostname "
                  "and sbx's cached seccomp program; the payload is its pid 1 (no init). "
                  f"sbx ÷ limit: **{fmt(ratio(base, limit_med), 2)}×**. CPU per start is the user + "
                  "system time of the command and of every process it started (RUSAGE_CHILDREN "
                  "deltas; the harness is a child subreaper and waits for what a command leaves "
                  "running, as bwrap leaves its sandbox's pid 1); the wall time ends when the "
                  "command exits. Kernel work done in kernel threads (such as a network "
                  "namespace's cleanup) is in neither.")
    md.append("")
    md.append("### Other figures")
    md.append("")
    md.append("| figure | value |")
    md.append("|---|---|")
    ov = data["overlay"]
    ov_ratio = None
    if "error" in ov:
        md.append(f"| overlay write penalty | failed: {ov['error']} |")
    else:
        o, v, b = (statistics.median(ov[k]) for k in ("overlay", "volume", "baseline"))
        gross = ratio(o, v)
        ov_ratio = ratio(o - b, v - b)
        md.append(f"| 100 MB `dd … conv=fsync` onto the overlay root, upper layer on disk "
                  f"(whole `sbx run --rm --scratch disk`) | {o:.1f} ms |")
        md.append(f"| the same into a `--volume` on the same disk, file removed | {v:.1f} ms |")
        md.append(f"| `sbx run --rm busybox sh -c true` in the same rounds | {b:.1f} ms |")
        md.append(f"| overlay write penalty: overlay ÷ volume, start-up subtracted "
                  f"(whole runs) | {fmt(ov_ratio, 2)}× ({fmt(gross, 2)}×) |")
        keys = ["overlay", "volume", "baseline"]
        if "memory" in ov:
            m = statistics.median(ov["memory"])
            md.append(f"| the same onto the default `--rm` upper layer, in memory, ÷ volume, "
                      f"start-up subtracted | {fmt(ratio(m - b, v - b), 2)}× ({m:.1f} ms) |")
            keys.append("memory")
        for k in keys:
            tsv.append(("overlay", k, "median", f"{statistics.median(ov[k]):.3f}", "ms"))
            tsv.append(("overlay", k, "n", str(len(ov[k])), "runs"))
        tsv.append(("overlay", "penalty", "net_ratio", f"{ov_ratio:.3f}", "x"))
        tsv.append(("overlay", "penalty", "gross_ratio", f"{gross:.3f}", "x"))
    sc = dict(data["scale"])
    n = cfg["scale"]["n"]
    if "error" in sc:
        md.append(f"| {n} sandboxes at once | failed: {sc.pop('error')} |")
    for k, v in sc.items():
        w = statistics.median(v["wall_ms"])
        label = next(c["label"] for c in cmds if c["key"] == k)
        ok = "all succeeded" if v["failures"] == 0 else f"**{v['failures']} failed**"
        used = statistics.median(v["cpu_ms"]) if v.get("cpu_ms") else None
        md.append(f"| {n} × {label} at once | {w:.0f} ms, {n / w * 1e3:.0f} sandboxes/s, "
                  f"{fmt(used and used / n, 2)} ms CPU each, {ok} |")
        tsv.append(("scale", k, "wall_median", f"{w:.3f}", "ms"))
        if used is not None:
            tsv.append(("scale", k, "cpu_per_start", f"{used / n:.3f}", "ms"))
        tsv.append(("scale", k, "per_second", f"{n / w * 1e3:.1f}", "1/s"))
        tsv.append(("scale", k, "failures", str(v["failures"]), "runs"))
    sy = data.get("syscalls", {})
    if "error" in sy:
        md.append(f"| system calls of one start | failed: {sy['error']} |")
    for k, v in sy.items():
        if k == "error":
            continue
        shown = next(c["shown"] for c in cmds if c["key"] == k)
        md.append(f"| system calls of one `{shown}` (`strace -f -c`), most frequent | "
                  f"{syscount.summary(v, 8)} |")
        if v["total"] is not None:
            tsv.append(("syscalls", k, "total", str(v["total"]), "calls"))
            for name, calls, _ in v["calls"]:
                tsv.append(("syscalls", k, name, str(calls), "calls"))
    ps = data["ps"]
    if "unavailable" in ps:
        md.append(f"| `sbx ps` | {ps['unavailable']} |")
    elif "argv" not in ps:
        md.append(f"| `sbx ps` | failed: {ps['error']} |")
    else:
        cmd = " ".join(["sbx"] + ps["argv"][1:])
        for lv in ps["levels"]:
            m = statistics.median(lv["ms"])
            md.append(f"| `{cmd}` over {lv['instances']} instances | {m:.1f} ms "
                      f"({lv['listed']} listed) |")
            tsv.append(("ps", str(lv["instances"]), "median", f"{m:.3f}", "ms"))
            tsv.append(("ps", str(lv["instances"]), "listed", str(lv["listed"]), "lines"))
        if len(ps["levels"]) >= 2:
            a, b = ps["levels"][0], ps["levels"][-1]
            slope = (statistics.median(b["ms"]) - statistics.median(a["ms"])) / \
                (b["instances"] - a["instances"])
            md.append(f"| `{cmd}` cost per extra instance | {slope * 1e3:.0f} µs |")
        if ps.get("create_ms"):
            md.append(f"| `sbx run --name benchN busybox /bin/true` (kept instance) | "
                      f"{statistics.median(ps['create_ms']):.1f} ms median |")
        if ps.get("error"):
            md.append(f"| `{cmd}` | failed: {ps['error']} |")

    md.append("")
    md.append("### Targets (medians, same invocation)")
    md.append("")
    md.append("| target | measured | result |")
    md.append("|---|---:|---|")
    targets = []

    def target(name, value, limit, unit="×", strict=False):
        if value is None:
            targets.append((name, None, "n/a"))
            md.append(f"| {name} | n/a | n/a |")
            return
        ok = value < limit if strict else value <= limit
        targets.append((name, value, "PASS" if ok else "MISS"))
        md.append(f"| {name} | {value:.2f}{unit} | {'PASS' if ok else 'MISS'} |")
        tsv.append(("target", name, "value", f"{value:.3f}", "x"))
        tsv.append(("target", name, "result", "PASS" if ok else "MISS", ""))

    target("sbx default ≤ 1.25× limit program", ratio(base, limit_med), 1.25)
    target("sbx default ≤ 0.35× crun", ratio(base, med.get("crun")), 0.35)
    target("sbx default ≤ 0.7× bwrap", ratio(base, med.get("bwrap")), 0.7)
    target("sbx default ≤ 1.5× unshare floor", ratio(base, med.get("unshare")), 1.5)
    target("sbx CPU per start ≤ bwrap's", ratio(cmed.get("sbx"), cmed.get("bwrap")), 1.0)
    walls = {k: statistics.median(v["wall_ms"]) for k, v in sc.items() if v.get("wall_ms")}
    target(f"{n} at once: sbx's time ≤ bwrap's (throughput at least bwrap's)",
           ratio(walls.get("sbx"), walls.get("bwrap")), 1.0)
    target("sbx peak RSS ≤ bwrap's", ratio(rmed.get("sbx"), rmed.get("bwrap")), 1.0)
    target("overlay write penalty ≤ 1.1×", ov_ratio, 1.1)
    target("sbx-oci run ≤ 0.4× crun run", ratio(med.get("sbx-oci"), med.get("crun")), 0.4)
    target("sbx-oci peak RSS ≤ crun run's", ratio(rmed.get("sbx-oci"), rmed.get("crun")), 1.0)
    target("podman run --rm: with sbx-oci faster than with crun (time ratio < 1)",
           ratio(med.get("podman-sbx-oci"), med.get("podman-crun")), 1.0, strict=True)

    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(outdir, "results.tsv"), "w") as f:
        for row in tsv:
            f.write("\t".join(row) + "\n")
    with open(os.path.join(outdir, "samples.tsv"), "w") as f:
        f.write("phase\tkey\tsample\tvalue\tunit\n")
        for k, v in data["startup"].items():
            for i, x in enumerate(v):
                f.write(f"startup\t{k}\t{i}\t{x:.4f}\tms\n")
        for k, v in data["cpu"].items():
            for i, x in enumerate(v):
                f.write(f"cpu\t{k}\t{i}\t{x:.4f}\tms\n")
        for k, v in data["rss"].items():
            for i, x in enumerate(v):
                f.write(f"rss\t{k}\t{i}\t{x}\tKiB\n")
        if "error" not in ov:
            for k in [k for k in ("overlay", "volume", "baseline", "memory") if k in ov]:
                for i, x in enumerate(ov[k]):
                    f.write(f"overlay\t{k}\t{i}\t{x:.4f}\tms\n")
        for k, v in sc.items():
            for i, x in enumerate(v["wall_ms"]):
                f.write(f"scale\t{k}\t{i}\t{x:.4f}\tms\n")
        for lv in ps.get("levels", []):
            for i, x in enumerate(lv["ms"]):
                f.write(f"ps\t{lv['instances']}\t{i}\t{x:.4f}\tms\n")
    print("\n".join(md))
    return targets


def guarded(phase):
    """A phase that breaks (say, build/sbx vanishing under a rebuild) is
    reported as failed; the figures of the other phases are kept."""
    try:
        return phase()
    except Exception as e:  # noqa: BLE001 - any failure ends up in the report
        log(f"phase failed: {e!r}")
        return {"error": repr(e)}


def main():
    if len(sys.argv) != 3:
        print("usage: bench.py CONFIG.json OUTDIR", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    outdir = sys.argv[2]
    rng = random.Random(cfg.get("seed", 1))
    become_subreaper()
    for c in cfg["commands"]:
        c["argv"][0] = shutil.which(c["argv"][0]) or c["argv"][0]
    cmds = sanity(cfg["commands"])
    data = {"harness": cfg["harness"], "cpu": {c["key"]: [] for c in cmds}}
    log(f"start-up: {len(cmds)} commands, {cfg['warmup']} warm-up + {cfg['runs']} rounds "
        f"({cfg['harness']})")
    if cfg["harness"] == "hyperfine":
        data["startup"] = run_hyperfine(cmds, cfg["runs"], cfg["warmup"], cfg["rounds"], outdir,
                                        data["cpu"])
    else:
        data["startup"] = interleave(cmds, cfg["runs"], cfg["warmup"], rng, data["cpu"])
    for c in cmds:
        if not data["startup"][c["key"]]:
            c["failed"] = f"every timed run failed ({c.get('run_failures', 0)})"
    log(f"peak RSS: {cfg['rss_runs']} runs each")
    data["rss"] = peak_rss(cmds, cfg["rss_runs"], rng)
    log(f"overlay write penalty: {cfg['overlay']['runs']} runs each")
    data["overlay"] = guarded(lambda: overlay(cfg, rng))
    data["scale"] = guarded(lambda: scale(cfg, {c["key"]: c for c in cmds if not c.get("failed")}))
    data["ps"] = guarded(lambda: ps_scaling(cfg))
    data["syscalls"] = guarded(lambda: syscalls(cfg, {c["key"]: c for c in cmds
                                                      if not c.get("failed")}, outdir))
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"config": cfg, "data": data}, f, indent=1)
    targets = report(cfg, outdir, data)
    failed = [c["key"] for c in cfg["commands"] if c.get("failed")]
    failed += [k for k, v in data["scale"].items() if k != "error" and v["failures"]]
    failed += [p for p in ("overlay", "scale", "ps") if "error" in data[p]]
    if failed:
        log(f"failed: {' '.join(failed)}")
        return 1
    if os.environ.get("BENCH_STRICT") == "1" and any(t[2] == "MISS" for t in targets):
        log("BENCH_STRICT=1 and a target is missed")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
