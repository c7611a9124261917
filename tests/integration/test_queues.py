"""Named queues ([queues] and [policy], RFC 33) end to end: flux config
load, flux queue, job-ingest's defaults and constraints, the job-manager's
per-queue submission and scheduling, sched-simple's constraint matching
(--requires), and the queue state kept across a restart."""

import json

import pytest

from conftest import Instance, short_dir, state_instance, wait_until_running  # noqa: F401

SIM = "--setattr=system.exec.test.run_duration=0.01s"

# One rank with two cores; rank 0 has the property "batch".
R1 = {
    "version": 1,
    "execution": {
        "R_lite": [{"rank": "0", "children": {"core": "0-1"}}],
        "nodelist": ["node0"],
        "properties": {"batch": "0", "+local": "0"},
    },
}

QUEUES = """
[policy]
jobspec.defaults.system.queue = "debug"
jobspec.defaults.system.duration = "1h"
[queues.debug]
policy.jobspec.defaults.system.duration = "5m"
[queues.batch]
requires = ["batch"]
[queues.gpu]
requires = ["gpu"]
"""


def ok(inst, *args, input=None):
    r = inst.run(*args, input=input)
    assert r.returncode == 0, f"flux {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout


def fails(inst, *args, input=None):
    r = inst.run(*args, input=input)
    assert r.returncode != 0, f"flux {' '.join(map(str, args))} succeeded: {r.stdout}"
    return r.stderr


@pytest.fixture
def base(tmp_path):
    b, cleanup = short_dir(tmp_path)
    yield b
    if cleanup:
        cleanup()


def start(base, statedir=None, extra=""):
    (base / "R.json").write_text(json.dumps(R1))
    conf = base / "conf.toml"
    conf.write_text(f'[resource]\npath = "{base / "R.json"}"\nnoverify = true\n{extra}')
    inst = Instance(base / "i", statedir=statedir, broker_args=[f"-o,--config-path={conf}"])
    inst.start()
    wait_until_running(inst)
    return inst


@pytest.fixture
def inst(base):
    i = start(base)
    yield i
    i.stop()


def jobspec(inst, jobid):
    return json.loads(ok(inst, "job", "info", jobid, "jobspec"))


def wait_event(inst, jobid, name):
    return ok(inst, "job", "wait-event", "-t", "30", jobid, name)


def test_anonymous_queue(inst):
    assert ok(inst, "queue", "status").splitlines() == [
        "Job submission is enabled",
        "Scheduling is started",
    ]
    assert ok(inst, "queue", "list", "-n", "-o", "{queue}:{submission}") == ":enabled\n"
    assert "'batch' is not a valid queue" in fails(inst, "queue", "status", "batch")
    assert "not a valid queue" in fails(inst, "submit", "-q", "batch", "true")
    ok(inst, "queue", "disable", "--quiet")
    st = ok(inst, "queue", "status")
    assert "Job submission is disabled: disabled by administrator" in st
    assert "disabled by administrator" in fails(inst, "submit", SIM, "true")
    assert ok(inst, "queue", "enable") == "Job submission is enabled\n"


def test_named_queues(inst):
    ok(inst, "config", "load", input=QUEUES)
    st = ok(inst, "queue", "status").splitlines()
    assert st[:2] == ["batch: Job submission is enabled", "batch: Scheduling is stopped"]
    assert len(st) == 6
    assert "Named queues are defined" in fails(inst, "queue", "start")
    assert "Use --all" in fails(inst, "queue", "enable")
    # Stopped queues take jobs; they wait in SCHED until the queue starts.
    (jobid,) = ok(inst, "submit", SIM, "true").split()
    assert jobspec(inst, jobid)["attributes"]["system"]["queue"] == "debug"
    assert jobspec(inst, jobid)["attributes"]["system"]["duration"] == 300
    out = ok(inst, "queue", "start", "--all")
    assert out.count("Scheduling is started") == 3
    wait_event(inst, jobid, "clean")
    # The default queue and duration only where the job says nothing.
    js = json.loads(ok(inst, "submit", "--dry-run", "-q", "batch", "-t", "1m", "true"))
    assert js["attributes"]["system"]["queue"] == "batch"
    (jobid,) = ok(inst, "submit", SIM, "-q", "batch", "true").split()
    sysattr = jobspec(inst, jobid)["attributes"]["system"]
    assert sysattr["duration"] == 3600
    assert sysattr["constraints"] == {"properties": ["batch"]}
    wait_event(inst, jobid, "clean")
    r = json.loads(ok(inst, "job", "info", jobid, "R"))
    assert r["execution"]["properties"] == {"batch": "0"}  # +local stays out
    # A queue whose nodes do not exist: the job is refused by the scheduler.
    (jobid,) = ok(inst, "submit", SIM, "-q", "gpu", "true").split()
    assert "unsatisfiable" in wait_event(inst, jobid, "exception")
    assert "Invalid queue 'nosuch' specified" in fails(inst, "submit", "-q", "nosuch", "true")


def test_queue_disable_and_stop_one(inst):
    ok(inst, "config", "load", input=QUEUES)
    ok(inst, "queue", "start", "--all", "--quiet")
    out = ok(inst, "queue", "disable", "-m", "nobatch", "batch")
    assert out == "batch: Job submission is disabled: nobatch\n"
    err = fails(inst, "submit", "-q", "batch", "true")
    assert "job submission to batch is disabled: nobatch" in err
    ok(inst, "submit", SIM, "-q", "debug", "true")
    ok(inst, "queue", "enable", "batch", "--quiet")
    assert ok(inst, "queue", "stop", "-m", "hold on", "batch") == (
        "batch: Scheduling is stopped: hold on\n"
    )
    (held,) = ok(inst, "submit", SIM, "-q", "batch", "true").split()
    (runs,) = ok(inst, "submit", SIM, "-q", "debug", "true").split()
    wait_event(inst, runs, "clean")
    assert ok(inst, "jobs", "-no", "{state}", held).strip() == "SCHED"
    verbose = ok(inst, "queue", "status", "-v")
    assert "1 alloc requests queued" not in verbose  # a stopped queue's jobs are not queued
    assert "0 running jobs" in verbose
    ok(inst, "queue", "start", "batch")
    wait_event(inst, held, "clean")


def test_requires(inst):
    (jobid,) = ok(inst, "submit", SIM, "--requires=batch", "true").split()
    wait_event(inst, jobid, "clean")
    (jobid,) = ok(inst, "submit", SIM, "--requires=host:node0", "true").split()
    wait_event(inst, jobid, "clean")
    (jobid,) = ok(inst, "submit", SIM, "--requires=-batch", "true").split()
    assert "unsatisfiable" in wait_event(inst, jobid, "exception")
    js = json.loads(ok(inst, "submit", "--dry-run", "--requires=a,b c", "--requires=rank:0|x", "true"))
    assert js["attributes"]["system"]["constraints"] == {
        "or": [{"and": [{"properties": ["a", "b", "c"]}, {"ranks": ["0"]}]},
               {"properties": ["x"]}]
    }
    err = fails(inst, "submit", "--dry-run", "--requires=(a", "true")
    assert "--requires='(a': Unclosed parenthesis in position 0" in err


def test_bad_queue_config_is_refused(inst):
    err = fails(inst, "config", "load", input='[policy]\njobspec.defaults.system.queue = "x"\n')
    assert "default queue x that is not in [queues] table" in err
    err = fails(inst, "config", "load", input='[queues.a]\nparent = "b"\n')
    assert "parent queue 'b' is not configured" in err
    err = fails(inst, "config", "load", input='[queues.a]\nrequires = "batch"\n')
    assert "'requires' must be an array of property strings" in err
    # Nothing changed.
    assert ok(inst, "queue", "list", "-n", "-o", "{queue}:{submission}") == ":enabled\n"


def test_queue_state_survives_restart(base):
    statedir = base / "state"
    statedir.mkdir()
    inst = start(base, statedir)
    ok(inst, "config", "load", input=QUEUES)
    ok(inst, "queue", "start", "--all", "--quiet")
    ok(inst, "queue", "stop", "-m", "down for repair", "gpu")
    ok(inst, "queue", "stop", "--nocheckpoint", "debug")
    assert inst.stop() == 0
    # This time the queues are in the config file the broker starts with.
    inst = start(base, statedir, QUEUES)
    try:
        st = ok(inst, "queue", "status").splitlines()
        # The shutdown's own stop (--nocheckpoint, no reason) replaced the
        # reason, as in flux-core; the stopped state was kept.
        assert "gpu: Scheduling is stopped" in st
        assert "batch: Scheduling is started" in st
        assert "debug: Scheduling is started" in st  # the stop was not checkpointed
    finally:
        inst.stop()
