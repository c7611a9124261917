#!/usr/bin/python3
"""make bench: end-to-end workloads and micro benchmarks, with the machine's
own limits measured in the same run. Usage: run_bench.py BUILD_DIR

FLUX_CORE=/path/to/flux-core/bin/flux (optional): the overlay workloads
are also run with flux-core's flux in the same run, and its figures are
the reference column for them (marked "same run") instead of the ones
recorded on another day. BENCH_ONLY=overlay runs just those;
BENCH_ONLY=trust just the trust workloads (fuzz.live, memory, restart);
BENCH_ONLY=python the Python API ones (python.submit, python.rpc);
BENCH_ONLY=nested the nested-instance ones (nested.alloc, batch.throughput);
BENCH_ONLY=sched the scheduler ones (sched.match, sched.sim)."""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build-bench")
FLUX = os.path.join(BUILD, "bin", "flux")
CORE = os.environ.get("FLUX_CORE", "")
HERE = os.path.dirname(os.path.abspath(__file__))
ENV = {k: v for k, v in os.environ.items() if k != "FLUX_URI"}
# flux-core's rc scripts and tools are Python run by `bash -c`: give them
# Debian's python3 (as a real machine would), not a version manager's shims
# on PATH, and a HOME without a ~/.bashrc (bash reads it when its stdin is a
# socket, as flux-core's rc's is; here it starts pyenv, for seconds a time).
CORE_HOME = tempfile.mkdtemp(prefix="fluxcore-home")
CORE_ENV = dict(ENV, PATH="/usr/bin:/bin:" + ENV.get("PATH", ""), HOME=CORE_HOME)

# flux-core 0.88 on this kind of machine (see DESIGN.md and the issues).
FLUX_CORE = {
    "start.size1": (0.84, "s"),
    "ping.local": (132.0, "us"),
    "kvs.commit": (363.0, "commits/s"),
    "kvs.commit.onekey": (1605.0, "commits/s"),
    "kvs.batch": (61000.0, "keys/s"),
    "throughput.sim": (146.0, "jobs/s"),
    "throughput.sim.submit": (815.0, "jobs/s"),
    "throughput.sim.16k": (69.0, "jobs/s"),
    "run.latency": (132.0, "ms"),
    "throughput.exec": (55.5, "jobs/s"),
    "start.size16": (3.0, "s"),
    "start.size64": (10.2, "s"),
    "ping.far": (344.0, "us"),
    "mem.sim10k": (765.3, "MB"),
    "nested.alloc": (1.18, "s"),
}
HIGHER_IS_BETTER = {"fuzz.live", "kvs.commit", "kvs.commit.onekey", "kvs.commit.parallel", "kvs.batch",
                    "kvs.lookup", "content.store", "content.load", "throughput.sim",
                    "throughput.sim.submit", "throughput.sim.16k", "throughput.exec",
                    "python.submit", "python.rpc", "batch.throughput", "sched.match",
                    "sched.sim"}

rows = []


SAME_RUN = {}  # name -> flux-core's figure measured in this run


def row(name, value, unit, note=""):
    ref = (SAME_RUN[name], unit) if name in SAME_RUN else FLUX_CORE.get(name)
    ref_s = f"{ref[0]:g} {ref[1]}" if ref else "-"
    if name in SAME_RUN:
        ref_s += " (same run)"
    if ref and value > 0:
        ratio = value / ref[0] if name in HIGHER_IS_BETTER else ref[0] / value
        speed = f"{ratio:.1f}x"
    else:
        speed = "-"
    rows.append((name, f"{value:.3f} {unit}", ref_s, speed, note))


def run(args, timeout=300, **kw):
    env = CORE_ENV if CORE and args[0] == CORE else ENV
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True,
                          timeout=timeout, **kw)


def bare(mode, n):
    return float(run([os.path.join(BUILD, "bench", "bare_limits"), mode, str(n)]).stdout)


def start_size1(n=20):
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        run([FLUX, "start", "true"])
        times.append(time.monotonic() - t0)
    return statistics.median(times)


def ping_local(count=1000):
    out = run([FLUX, "start", FLUX, "ping", f"--count={count}", "--interval=0.001", "broker"]).stdout
    times = [float(m) * 1000.0 for m in re.findall(r"time=([0-9.]+) ms", out)]
    if len(times) != count:
        raise SystemExit(f"ping.local: expected {count} replies, got {len(times)}")
    return statistics.median(times)


def kvs_bench(*args):
    return kvs_bench_full(*args)[0]


def kvs_bench_full(*args):
    """(rate, {name: value} of extra fields such as first-10%=N)."""
    exe = os.path.join(BUILD, "bench", "bench_kvs")
    out = run([FLUX, "start", exe, *map(str, args)]).stdout.split()
    extra = dict(w.split("=", 1) for w in out[2:] if "=" in w)
    return float(out[0]), extra


def throughput_sim(n=1000, prefill=0, start_args=()):
    """(end-to-end jobs/s, submit-phase jobs/s) for n simulated jobs."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "throughput_sim.sh")
    out = run([FLUX, "start", *start_args, script, str(n), str(prefill)]).stdout.split()
    t0, t1, t2 = map(float, out[-3:])
    return n / (t2 - t0), n / (t1 - t0)


def run_latency(n=20):
    """Median wall time of n sequential `flux run true`, in ms."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_latency.sh")
    out = run([FLUX, "start", script, str(n)]).stdout.split()
    return statistics.median(float(t) for t in out[-n:]) * 1000.0


def throughput_exec(n=1000):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "throughput_exec.sh")
    t0, t1 = map(float, run([FLUX, "start", script, str(n)]).stdout.split()[-2:])
    return n / (t1 - t0)


def start_size(flux, size, n=3):
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        # flux-core's brokers may take longer than its default 20s exit
        # timeout to leave on this machine; the same option for both.
        run([flux, "start", f"--test-size={size}", "--test-exit-timeout=300s", "true"])
        times.append(time.monotonic() - t0)
    return statistics.median(times)


def ping_rank(flux, size, rank, count=500):
    out = run([flux, "start", f"--test-size={size}", flux, "ping", f"--count={count}",
               "--interval=0.001", str(rank)]).stdout
    times = [float(m) * 1000.0 for m in re.findall(r"time=([0-9.]+) ms", out)]
    if len(times) != count:
        raise SystemExit(f"ping {rank}: expected {count} replies, got {len(times)}")
    return statistics.median(times)


def run_latency_nodes(flux, size, n=10):
    out = run([flux, "start", f"--test-size={size}", os.path.join(HERE, "run_latency.sh"), str(n),
               str(size)]).stdout.split()
    return statistics.median(float(t) for t in out[-n:]) * 1000.0


def event_fanout(size=64, rounds=20):
    exe = os.path.join(BUILD, "bench", "bench_event")
    out = run([FLUX, "start", f"--test-size={size}", exe, "drive", str(rounds)]).stdout.split()
    return float(out[0])


def overlay(pl):
    """The overlay workloads; with FLUX_CORE, flux-core's figures too."""
    if CORE:
        for name, fn in (("start.size16", lambda: start_size(CORE, 16)),
                         ("start.size64", lambda: start_size(CORE, 64)),
                         ("ping.far", lambda: ping_rank(CORE, 16, 15)),
                         ("run.latency.N16", lambda: run_latency_nodes(CORE, 16))):
            try:
                SAME_RUN[name] = fn()
            except (subprocess.SubprocessError, SystemExit) as e:
                print(f"flux-core {name}: {e}", file=sys.stderr)
    s16 = start_size(FLUX, 16)
    row("start.size16", s16, "s", "flux start --test-size=16 true, median of 3")
    s64 = start_size(FLUX, 64)
    row("start.size64", s64, "s", "flux start --test-size=64 true, median of 3")
    far = ping_rank(FLUX, 16, 15)
    note = "rank 15 of 16 (default kary:32 tree)"
    if pl:
        note += f"; {far / pl:.1f}x ping.local"
    row("ping.far", far, "us", note)
    row("event.fanout", event_fanout(), "ms",
        "publish on rank 0 -> seen on all 64 ranks -> their acks back, median of 20")
    row("run.latency.N16", run_latency_nodes(FLUX, 16), "ms",
        "flux run -N16 true in a 16-broker instance, median of 10")


def fuzz_live(seconds=30):
    """tests/fuzz/live_fuzz.py for `seconds`: requests/s the instance took."""
    exe = os.path.join(os.path.dirname(HERE), "tests", "fuzz", "live_fuzz.py")
    out = subprocess.run(["/usr/bin/python3", exe, "--seconds", str(seconds), "--json"],
                         env=dict(ENV, FLUX_BUILD_DIR=BUILD), capture_output=True, text=True,
                         timeout=seconds + 300)
    if out.returncode != 0:
        raise SystemExit("fuzz.live: the instance did not survive:\n" + out.stderr[-3000:])
    f = json.loads(out.stdout.strip().splitlines()[-1])
    row("fuzz.live", f["requests_per_s"], "req/s",
        f"{f['requests']} fuzzed requests to {f['topics']} topics, 2 brokers; crashes 0; "
        f"RSS {f['rss_mb_before'][0]:.0f} -> {f['rss_mb_after'][0]:.0f} MB")


def mem_rss(flux, mode, n):
    """Rank 0 broker RSS (MB) after n jobs (bench/mem_rss.sh), once idle."""
    script = os.path.join(HERE, "mem_rss.sh")
    return float(run([flux, "start", script, mode, str(n)], timeout=3600).stdout.split()[-1])


def restart_16k(flux, n=16000):
    """Seconds for `flux start -Sstatedir=D true` with n inactive jobs in D
    (median of 3; the first start after filling D is not counted)."""
    d = tempfile.mkdtemp(prefix="restart16k")
    run([flux, "start", f"-Sstatedir={d}", os.path.join(HERE, "mem_rss.sh"), "sim", str(n)],
        timeout=3600)
    run([flux, "start", f"-Sstatedir={d}", "true"])
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        run([flux, "start", f"-Sstatedir={d}", "true"])
        times.append(time.monotonic() - t0)
    subprocess.run(["rm", "-rf", d])
    return statistics.median(times)


def python_rate(flux, workload, n):
    """A bench/python_bench.py workload's rate, median of 3 instances."""
    script = os.path.join(HERE, "python_bench.py")
    rates = [float(run([flux, "start", flux, "python", script, workload, str(n)])
                   .stdout.split()[0]) for _ in range(3)]
    return statistics.median(rates)


def python_api():
    for name, workload, n, unit, note in (
            ("python.submit", "submit", 1000, "jobs/s",
             "1000 submit_async from one Python process, then every id"),
            ("python.rpc", "rpc", 5000, "rpc/s", "broker.ping round trips from Python")):
        if CORE:
            SAME_RUN[name] = python_rate(CORE, workload, n)
        row(name, python_rate(FLUX, workload, n), unit, note + "; median of 3")


def trust():
    fuzz_live()
    if CORE:
        SAME_RUN["restart.16k"] = restart_16k(CORE)
    row("restart.16k", restart_16k(FLUX), "s", "flux start true on a statedir of 16000 jobs")
    for name, mode, n in (("mem.run1000", "run", 1000), ("mem.sim10k", "sim", 10000)):
        if CORE:
            SAME_RUN[name] = mem_rss(CORE, mode, n)
        row(name, mem_rss(FLUX, mode, n), "MB", f"broker RSS after {n} {mode} jobs, idle 3 s")


def nested_times(flux, mode, n):
    """bench/nested_bench.sh in a fresh instance of flux: (start, end) pairs."""
    with tempfile.TemporaryDirectory(prefix="nested") as d:
        out = run([flux, "start", os.path.join(HERE, "nested_bench.sh"), mode, str(n)],
                  cwd=d, timeout=600).stdout
    return [tuple(map(float, line.split())) for line in out.splitlines() if line.strip()]


def nested():
    """An instance as a job: flux alloc's round trip, and flux batch's rate."""
    def alloc(flux):
        return statistics.median(t1 - t0 for t0, t1 in nested_times(flux, "alloc", 5))

    def batch(flux):
        (t0, t1), = nested_times(flux, "batch", 100)
        return 100 / (t1 - t0)

    if CORE:
        SAME_RUN["nested.alloc"] = alloc(CORE)
        SAME_RUN["batch.throughput"] = batch(CORE)
    row("nested.alloc", alloc(FLUX), "s", "flux alloc -N1 flux run true in a running instance; "
        "median of 5")
    row("batch.throughput", batch(FLUX), "jobs/s", "100 flux batch --wrap true (1 core each), "
        "submitted then drained")


def sched():
    """sched-graph: its matching rate (bench_sched), and throughput.sim with
    it loaded against sched-simple in the same run."""
    exe = os.path.join(BUILD, "bench", "bench_sched")
    steady, fill, ms = run([exe, "10000", "5000"]).stdout.split()
    row("sched.match", float(steady), "allocs/s",
        f"1024x64-core graph, 10000 pending 1-core jobs, easy: a job ends, a pass runs "
        f"({float(ms):.3f} ms each); filling the empty graph {float(fill):.0f}/s")
    with tempfile.TemporaryDirectory(prefix="schedbench") as d:
        def conf(name):
            path = os.path.join(d, name + ".toml")
            with open(path, "w") as f:
                f.write(f'[modules]\nalternatives.sched = "{name}"\n')
            return [f"-o,--config-path={path}"]
        graph, simple = [], []
        for _ in range(3):  # interleaved: the machine drifts
            graph.append(throughput_sim(start_args=conf("sched-graph"))[0])
            simple.append(throughput_sim(start_args=conf("sched-simple"))[0])
    g, s_ = statistics.median(graph), statistics.median(simple)
    row("sched.sim", g / s_, "x", f"throughput.sim with sched-graph {g:.0f} jobs/s, "
        f"sched-simple {s_:.0f} jobs/s (medians of 3, same run)")


def micro():
    exe = os.path.join(BUILD, "bench", "bench_message")
    if not os.path.exists(exe):
        return
    out = run([exe, "--benchmark_format=json", "--benchmark_min_time=0.2"]).stdout
    for b in json.loads(out)["benchmarks"]:
        rate = b.get("items_per_second", 0.0)
        row("micro." + b["name"].replace("BM_", ""), rate / 1e6, "M msg/s")


def main():
    if os.environ.get("BENCH_ONLY") == "overlay":
        overlay(ping_local())
        print_table()
        return
    if os.environ.get("BENCH_ONLY") == "python":
        python_api()
        print_table()
        return
    if os.environ.get("BENCH_ONLY") == "trust":
        trust()
        print_table()
        return
    if os.environ.get("BENCH_ONLY") == "nested":
        nested()
        print_table()
        return
    if os.environ.get("BENCH_ONLY") == "sched":
        sched()
        print_table()
        return
    rtt = bare("rtt", 5000)
    spawn = bare("spawn", 200)
    row("machine.socket_rtt", rtt, "us", "bare UNIX socket round trip")
    row("machine.spawn_true", spawn, "ms", "spawn+reap /bin/true")
    s1 = start_size1()
    row("start.size1", s1, "s", f"{s1 * 1000 / spawn:.0f}x spawn")
    pl = ping_local()
    row("ping.local", pl, "us", f"{pl / rtt:.2f}x bare socket rtt")
    rate, extra = kvs_bench_full("commit", 10000)
    row("kvs.commit", rate, "commits/s",
        f"10000 distinct keys in one dir; first 10% {extra.get('first-10%')}/s, "
        f"last 10% {extra.get('last-10%')}/s")
    row("kvs.commit.onekey", kvs_bench("onekey", 5000), "commits/s", "one key rewritten")
    row("kvs.commit.parallel", kvs_bench("parallel", 8, 1000), "commits/s", "8 clients")
    row("kvs.batch", kvs_bench("batch", 1000), "keys/s", "1000 keys in one commit")
    row("kvs.lookup", kvs_bench("lookup", 20000), "lookups/s", "one client, cached")
    row("content.store", kvs_bench("store", 20000, 4096), "stores/s", "4 KiB blobs, 64 in flight")
    row("content.load", kvs_bench("load", 20000, 4096), "loads/s", "4 KiB blobs, 64 in flight")
    # Three runs, each number the median: one run on 2 shared cores swings +-10%.
    runs = [throughput_sim() for _ in range(3)]
    sim = statistics.median(r[0] for r in runs)
    submit = statistics.median(r[1] for r in runs)
    row("throughput.sim", sim, "jobs/s", "1000 simulated jobs at once, until all inactive; "
        f"median of 3 ({min(r[0] for r in runs):.0f}-{max(r[0] for r in runs):.0f})")
    row("throughput.sim.submit", submit, "jobs/s", "the submit phase alone (flux submit --cc); "
        f"median of 3 ({min(r[1] for r in runs):.0f}-{max(r[1] for r in runs):.0f})")
    sim16, _ = throughput_sim(1000, 16000)
    row("throughput.sim.16k", sim16, "jobs/s",
        f"the same with 16000 inactive jobs already ({(1 - sim16 / sim) * 100:+.0f}% slower)")
    lat = run_latency()
    row("run.latency", lat, "ms", f"median of 20 sequential flux run true; {lat / spawn:.0f}x spawn")
    tx = throughput_exec()
    row("throughput.exec", tx, "jobs/s",
        f"1000 true jobs at once; spawn+reap alone: {1000 / spawn:.0f}/s per core")
    overlay(pl)
    python_api()
    nested()
    sched()
    trust()
    micro()
    print_table()


def print_table():
    widths = [max(len(str(r[i])) for r in rows + [("workload", "ours", "flux-core", "speedup", "note")])
              for i in range(5)]
    header = ("workload", "ours", "flux-core", "speedup", "note")
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
