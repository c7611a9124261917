"""sched-graph in a real instance: a config R of 16 nodes x 32 cores (one
broker; jobs are simulated by job-exec's test mode), the module chosen by
`[modules] alternatives.sched`. EASY backfill, conservative estimates,
advance reservations, queues routing jobs to their nodes, drained nodes,
and a scheduler reload taking running jobs back from the job-manager's
hello (RFC 27)."""

import json
import os
import shutil
import time

import pytest

from conftest import Instance, short_dir

R16 = {
    "version": 1,
    "execution": {
        "R_lite": [{"rank": "0-15", "children": {"core": "0-31"}}],
        "nodelist": ["node[0-15]"],
        "properties": {"debug": "0-3", "batch": "4-15"},
        "starttime": 0,
        "expiration": 0,
    },
}


def sim(seconds):
    return f"--setattr=system.exec.test.run_duration={seconds}s"


def ok(inst, *args):
    r = inst.run(*args)
    assert r.returncode == 0, f"flux {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout


def submit(inst, *args):
    return ok(inst, "submit", *args, "true").strip()


def wait_event(inst, jobid, name, timeout=30):
    return ok(inst, "job", "wait-event", "-t", str(timeout), jobid, name)


def job_field(inst, jobid, fmt):
    return ok(inst, "jobs", "-n", "-o", fmt, jobid).strip()


def wait_for(what, fn, timeout=30):
    """Poll fn() until it returns something true (job-list learns of
    annotations through the journal, a moment after the scheduler)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def annotations(inst, jobid):
    out = job_field(inst, jobid, "{annotations}")
    return json.loads(out) if out.startswith("{") else {}


def expiration(inst, jobid):
    return json.loads(ok(inst, "job", "info", jobid, "R"))["execution"]["expiration"]


def nodelist(inst, jobid):
    return job_field(inst, jobid, "{nodelist}")


@pytest.fixture
def base(tmp_path):
    b, cleanup = short_dir(tmp_path)
    yield b
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)


def start(base, extra="", statedir=None):
    (base / "R.json").write_text(json.dumps(R16))
    conf = base / "conf.toml"
    conf.write_text(f'[modules]\nalternatives.sched = "sched-graph"\n'
                    f'[resource]\npath = "{base / "R.json"}"\nnoverify = true\n{extra}')
    inst = Instance(base / "i", statedir=statedir, broker_args=[f"-o,--config-path={conf}"])
    inst.start()
    # All 16 ranks up, though one broker runs them (the jobs are simulated).
    ok(inst, "module", "remove", "sched-graph")
    ok(inst, "module", "remove", "resource")
    ok(inst, "module", "load", "resource", "monitor-force-up")
    ok(inst, "module", "load", "sched-graph")
    return inst


@pytest.fixture
def make(base):
    made = []

    def make_inst(extra="", statedir=None):
        inst = start(base, extra, statedir)
        made.append(inst)
        return inst

    yield make_inst
    for inst in made:
        inst.stop()
        inst.kill()


def test_loaded_instead_of_sched_simple(make):
    inst = make()
    mods = ok(inst, "module", "list")
    assert "sched-graph" in mods and "sched-simple" not in mods
    # The numbers still add up: 16 nodes, 512 cores, all free.
    rows = [line.split() for line in
            ok(inst, "resource", "list", "-n", "-o", "{state} {nnodes} {ncores}").splitlines()]
    free = [r for r in rows if r[0] == "free"]
    assert sum(int(r[1]) for r in free) == 16 and sum(int(r[2]) for r in free) == 512
    assert all(int(r[1]) == 0 for r in rows if r[0] != "free")


def test_easy_backfill(make):
    inst = make()
    a = submit(inst, sim(600), "-N12", "--exclusive", "-t", "10m")
    wait_event(inst, a, "alloc")
    # The head wants all 16 nodes: it gets a reservation at a's end.
    head = submit(inst, sim(1), "-N16", "--exclusive", "-t", "10m")
    # Short enough to end before the reservation: starts now on the 4 free nodes.
    short = submit(inst, sim(0.1), "-N2", "--exclusive", "-t", "5m")
    # Would still hold 2 nodes when the head should start: waits.
    long_ = submit(inst, sim(1), "-N2", "--exclusive", "-t", "20m")
    wait_event(inst, short, "clean")
    est = wait_for("the head's t_estimate",
                   lambda: annotations(inst, head).get("sched", {}).get("t_estimate"))
    assert est == pytest.approx(expiration(inst, a), abs=0.001)
    sched = wait_for("the long job's reason",
                     lambda: annotations(inst, long_).get("sched"))
    assert sched == {"reason_pending": "insufficient resources"}
    assert job_field(inst, long_, "{state}") == "SCHED"
    assert job_field(inst, head, "{state}") == "SCHED"
    # The formatted estimate, as a Flux user asks for it.
    assert job_field(inst, head, "{annotations.sched.t_estimate!D}").startswith("20")
    # a ends early: the head starts, and its sched annotations go.
    ok(inst, "cancel", a)
    wait_event(inst, head, "alloc")
    wait_for("annotations cleared",
             lambda: "sched" not in annotations(inst, head))


def test_conservative_estimates_every_job(make):
    inst = make('[sched-graph]\nqueue-policy = "conservative"\n')
    a = submit(inst, sim(600), "-N16", "--exclusive", "-t", "10m")
    wait_event(inst, a, "alloc")
    b = submit(inst, sim(1), "-N8", "--exclusive", "-t", "10m")
    c = submit(inst, sim(1), "-N16", "--exclusive", "-t", "10m")
    d = submit(inst, sim(1), "-N8", "--exclusive", "-t", "10m")
    end = expiration(inst, a)
    # b and d share the 16 nodes once a ends; c needs them all after b.
    # Worked out: b at end, c at end + 600 (b's end), d at end (the other 8
    # nodes are free from a's end until c starts: 10 minutes fit exactly).
    for job, want in ((b, end), (c, end + 600), (d, end)):
        est = wait_for(f"t_estimate of {job}",
                       lambda job=job: annotations(inst, job).get("sched", {}).get("t_estimate"))
        assert est == pytest.approx(want, abs=0.001), job


def test_fcfs_queue_blocks_behind_head(make):
    inst = make('[sched-graph]\nqueue-policy = "fcfs"\n')
    a = submit(inst, sim(600), "-N12", "--exclusive", "-t", "10m")
    wait_event(inst, a, "alloc")
    head = submit(inst, sim(1), "-N16", "--exclusive", "-t", "10m")
    small = submit(inst, sim(0.1), "-N1", "--exclusive", "-t", "1m")
    sched = wait_for("reason", lambda: annotations(inst, small).get("sched"))
    assert sched == {"reason_pending": "blocked by an earlier job"}
    assert "t_estimate" not in annotations(inst, head).get("sched", {})
    assert job_field(inst, small, "{state}") == "SCHED"


def test_reservation_holds_nodes(make):
    inst = make()
    out = ok(inst, "resource", "reserve", "maint", "--hosts=node[0-3]", "-t", "1h")
    assert out.startswith("maint: node[0-3] from ")
    listing = ok(inst, "resource", "reservations").splitlines()
    assert listing[0].split() == ["NAME", "START", "END", "NNODES", "NODELIST", "USERS"]
    assert listing[1].split()[0] == "maint" and listing[1].split()[3:] == ["4", "node[0-3]", "-"]
    # 13 nodes do not fit beside the reservation; 12 do, on the others.
    big = submit(inst, sim(1), "-N13", "--exclusive", "-t", "10m")
    fit = submit(inst, sim(0.1), "-N12", "--exclusive", "-t", "10m")
    wait_event(inst, fit, "clean")
    assert nodelist(inst, fit) == "node[4-15]"
    assert job_field(inst, big, "{state}") == "SCHED"
    # A name is taken once; busy nodes cannot be reserved.
    r = inst.run("resource", "reserve", "maint", "-N1", "-t", "1h")
    assert r.returncode != 0 and "already exists" in r.stderr
    r = inst.run("resource", "reserve", "all", "-N16", "-t", "1h")
    assert r.returncode != 0 and "free" in r.stderr
    ok(inst, "resource", "unreserve", "maint")
    wait_event(inst, big, "clean")
    assert ok(inst, "resource", "reservations", "-n") == ""
    r = inst.run("resource", "unreserve", "maint")
    assert r.returncode != 0 and "no reservation maint" in r.stderr


def test_reservation_admits_its_users(make):
    inst = make()
    me = str(os.getuid())
    ok(inst, "resource", "reserve", "mine", "--ranks=0-15", "-t", "1h", f"--users={me}")
    # The whole machine is reserved, for us: our job runs.
    job = submit(inst, sim(0.1), "-N16", "--exclusive", "-t", "10m")
    wait_event(inst, job, "clean")
    ok(inst, "resource", "unreserve", "mine")
    # A future reservation for no one: a job that would run into it waits,
    # one that ends before it starts runs.
    ok(inst, "resource", "reserve", "later", "--ranks=0-15", "--start=+30m", "-t", "1h")
    short = submit(inst, sim(0.1), "-N16", "--exclusive", "-t", "20m")
    wait_event(inst, short, "clean")
    long_ = submit(inst, sim(0.1), "-N1", "--exclusive", "-t", "40m")
    wait_for("reason", lambda: annotations(inst, long_).get("sched"))
    assert job_field(inst, long_, "{state}") == "SCHED"


def test_queues_route_jobs_to_their_nodes(make):
    inst = make('[queues.debug]\nrequires = ["debug"]\n[queues.batch]\nrequires = ["batch"]\n'
                '[sched-graph.queues.debug]\nqueue-policy = "fcfs"\n')
    ok(inst, "queue", "start", "--all")
    d = submit(inst, sim(0.1), "-q", "debug", "-N4", "--exclusive")
    b = submit(inst, sim(0.1), "-q", "batch", "-N12", "--exclusive")
    wait_event(inst, d, "clean")
    wait_event(inst, b, "clean")
    assert nodelist(inst, d) == "node[0-3]"
    assert nodelist(inst, b) == "node[4-15]"
    # The allocated counts of a queue: the scheduler's allocated R names
    # the properties that `flux resource list -q` counts by.
    run = submit(inst, sim(600), "-q", "debug", "-N2", "--exclusive")
    wait_event(inst, run, "alloc")
    out = ok(inst, "resource", "list", "-q", "debug", "-n", "-o", "{state} {nnodes} {ncores}")
    assert out.split() == ["free", "2", "64", "allocated", "2", "64", "down", "0", "0"]
    ok(inst, "cancel", run)
    # Five debug nodes never exist: denied at once.
    bad = submit(inst, sim(0.1), "-q", "debug", "-N5")
    assert "unsatisfiable request" in wait_event(inst, bad, "exception")


def test_drained_nodes_are_skipped(make):
    inst = make()
    ok(inst, "resource", "drain", "node[0-7]", "maintenance")
    nine = submit(inst, sim(0.1), "-N9", "--exclusive")
    eight = submit(inst, sim(0.1), "-N8", "--exclusive")
    wait_event(inst, eight, "clean")
    assert nodelist(inst, eight) == "node[8-15]"
    sched = wait_for("reason", lambda: annotations(inst, nine).get("sched"))
    assert sched == {"reason_pending": "unavailable resources"}
    ok(inst, "resource", "undrain", "node[0-7]")
    wait_event(inst, nine, "clean")


def test_reload_takes_running_jobs_from_hello(make):
    inst = make()
    a = submit(inst, sim(600), "-N10", "--exclusive")
    wait_event(inst, a, "alloc")
    ok(inst, "resource", "reserve", "keep", "--hosts=node15", "-t", "1h")
    ok(inst, "module", "reload", "sched-graph")
    # The reloaded scheduler has a's nodes from the hello, and the
    # reservation from the KVS: 5 nodes are left.
    status = ok(inst, "resource", "list", "-n", "-o", "{state} {nnodes}").split("\n")
    assert "allocated 10" in status
    assert "node15" in ok(inst, "resource", "reservations")
    six = submit(inst, sim(0.1), "-N6", "--exclusive")
    five = submit(inst, sim(0.1), "-N5", "--exclusive", "-t", "1m")
    wait_event(inst, five, "clean")
    assert nodelist(inst, five) == "node[10-14]"
    assert job_field(inst, six, "{state}") == "SCHED"
    ok(inst, "cancel", a)
    ok(inst, "resource", "unreserve", "keep")
    wait_event(inst, six, "clean")
