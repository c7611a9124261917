"""The job pipeline end to end with simulated execution: job-ingest,
job-manager, sched-simple, job-exec (system.exec.test), on real brokers.

Jobs here take the whole node (-N1 --exclusive) when a test needs them to
run one at a time, whatever the machine's core count.
"""

import base64
import json
import re
import time

import pytest

import fluxmsg
from conftest import Instance, flux, state_instance, wait_until_running  # noqa: F401

SIM = "--setattr=system.exec.test.run_duration=0.01s"
WHOLE_NODE = ["-N1", "--exclusive"]

# RFC 21: the events every job that ran to completion has, in this order.
RAN = ["submit", "validate", "depend", "priority", "alloc", "start", "finish", "release",
       "free", "clean"]


def submit(inst, *args):
    r = inst.run("submit", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def kvs_keys(inst, ids):
    r = inst.run("job", "id", "--to=kvs", *ids)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def read_eventlogs(inst, ids):
    """Each job's eventlog as a list of (name, context), read with pipelined
    kvs.lookup requests on one raw connection (fast for 1000 jobs)."""
    keys = kvs_keys(inst, ids)
    out = {}
    with fluxmsg.Client(inst.sock, timeout=30) as c:
        for i, key in enumerate(keys):
            c.send(fluxmsg.request("kvs.lookup", {"key": key + ".eventlog", "flags": 0,
                                                  "namespace": "primary"}, matchtag=i + 1))
        for _ in keys:
            m = c.recv(timeout=30)
            assert m.errnum == 0, m
            val = m.json()["val"]
            text = base64.b64decode(val["data"]).decode()
            entries = [json.loads(line) for line in text.splitlines()]
            out[ids[m.matchtag - 1]] = entries
    return out


def names(entries):
    return [e["name"] for e in entries]


def wait_event(inst, jobid, name, timeout=30):
    r = inst.run("job", "wait-event", "-t", str(timeout), jobid, name, timeout=timeout + 10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def eventlog(inst, jobid):
    r = inst.run("job", "eventlog", "-f", "json", jobid)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


@pytest.fixture
def jobs_instance(instance):
    wait_until_running(instance)
    return instance


def test_one_job_runs_to_inactive(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, SIM, "true")
    wait_event(inst, jobid, "clean")
    log = eventlog(inst, jobid)
    assert names(log) == RAN
    assert log[0]["context"]["urgency"] == 16
    assert log[6]["context"]["status"] == 0
    times = [e["timestamp"] for e in log]
    assert times == sorted(times)
    r = inst.run("job", "info", jobid, "R")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["version"] == 1


def test_thousand_jobs_all_complete_in_order(jobs_instance):
    inst = jobs_instance
    r = inst.run("submit", "--cc=1-1000", "--quiet",
                 "--setattr=system.exec.test.run_duration=0.001s", "true", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    r = inst.run("queue", "drain", "--timeout=120s", timeout=130)
    assert r.returncode == 0, r.stderr
    ids = inst.run("job", "last", "1000").stdout.split()
    assert len(set(ids)) == 1000
    logs = read_eventlogs(inst, ids)
    for jobid, entries in logs.items():
        assert names(entries) == RAN, (jobid, names(entries))
        ts = [e["timestamp"] for e in entries]
        assert ts == sorted(ts), jobid


def test_fifo_for_equal_priority(jobs_instance):
    inst = jobs_instance
    inst.run("queue", "stop")
    ids = [submit(inst, *WHOLE_NODE, SIM, "true")[0] for _ in range(5)]
    inst.run("queue", "start")
    assert inst.run("queue", "drain", "--timeout=60s").returncode == 0
    logs = read_eventlogs(inst, ids)
    starts = [next(e["timestamp"] for e in logs[i] if e["name"] == "alloc") for i in ids]
    assert starts == sorted(starts)


def test_urgency_reorders_pending_jobs(jobs_instance):
    inst = jobs_instance
    inst.run("queue", "stop")
    a, b, c = (submit(inst, *WHOLE_NODE, SIM, "true")[0] for _ in range(3))
    r = inst.run("job", "urgency", c, "31")
    assert r.returncode == 0, r.stderr
    r = inst.run("job", "urgency", a, "1")
    assert r.returncode == 0, r.stderr
    inst.run("queue", "start")
    assert inst.run("queue", "drain", "--timeout=60s").returncode == 0
    logs = read_eventlogs(inst, [a, b, c])
    alloc = {j: next(e["timestamp"] for e in logs[j] if e["name"] == "alloc") for j in (a, b, c)}
    assert alloc[c] < alloc[b] < alloc[a]
    prio = [e["context"]["priority"] for e in logs[c] if e["name"] == "priority"]
    assert prio == [16, 4294967295]


def test_hold_and_release(jobs_instance):
    inst = jobs_instance
    (held,) = submit(inst, "--urgency=0", SIM, "true")
    (other,) = submit(inst, SIM, "true")
    wait_event(inst, other, "clean")
    wait_event(inst, held, "priority")
    log = eventlog(inst, held)
    assert "alloc" not in names(log)
    assert log[-1]["context"]["priority"] == 0
    assert inst.run("job", "urgency", held, "default").returncode == 0
    wait_event(inst, held, "clean")
    assert names(eventlog(inst, held))[-1] == "clean"


def test_dependencies_afterok_afternotok(jobs_instance):
    inst = jobs_instance
    (good,) = submit(inst, "--urgency=0", SIM, "true")  # held: the dependents see it pending
    (ok_dep,) = submit(inst, f"--dependency=afterok:{good}", SIM, "true")
    (notok_dep,) = submit(inst, f"--dependency=afternotok:{good}", SIM, "true")
    wait_event(inst, notok_dep, "dependency-add")
    assert inst.run("job", "urgency", good, "16").returncode == 0
    wait_event(inst, ok_dep, "clean")
    wait_event(inst, notok_dep, "clean")
    ok_log = eventlog(inst, ok_dep)
    assert "dependency-add" in names(ok_log)
    assert "dependency-remove" in names(ok_log)
    assert "start" in names(ok_log)
    bad = eventlog(inst, notok_dep)
    exc = [e for e in bad if e["name"] == "exception"]
    assert exc and exc[0]["context"]["type"] == "dependency"
    assert "start" not in names(bad)


def test_dependency_waits_for_a_held_job(jobs_instance):
    inst = jobs_instance
    (first,) = submit(inst, "--urgency=0", SIM, "true")
    (second,) = submit(inst, f"--dependency=afterany:{first}", SIM, "true")
    wait_event(inst, second, "dependency-add")
    assert "depend" not in names(eventlog(inst, second))
    assert inst.run("job", "urgency", first, "16").returncode == 0
    wait_event(inst, second, "clean")
    log = eventlog(inst, second)
    assert names(log).index("dependency-remove") < names(log).index("depend")


def test_cancel_pending_and_running(jobs_instance):
    inst = jobs_instance
    (running,) = submit(inst, *WHOLE_NODE, "--setattr=system.exec.test.run_duration=300s", "true")
    wait_event(inst, running, "start")
    (pending,) = submit(inst, *WHOLE_NODE, SIM, "true")
    wait_event(inst, pending, "priority")
    r = inst.run("cancel", pending, running)
    assert r.returncode == 0, r.stderr
    wait_event(inst, running, "clean")
    wait_event(inst, pending, "clean")
    run_log = eventlog(inst, running)
    assert ["exception", "finish", "release", "free", "clean"] == [
        n for n in names(run_log) if n in ("exception", "finish", "release", "free", "clean")]
    assert run_log[names(run_log).index("exception")]["context"]["type"] == "cancel"
    pend_log = eventlog(inst, pending)
    assert "alloc" not in names(pend_log)
    assert names(pend_log)[-2:] == ["exception", "clean"]


def test_cancel_all(jobs_instance):
    inst = jobs_instance
    inst.run("queue", "stop")
    ids = submit(inst, "--cc=1-5", SIM, "true")
    r = inst.run("cancel", "--all", "--dry-run")
    assert "Would cancel 5 jobs" in r.stderr
    r = inst.run("cancel", "--all")
    assert r.returncode == 0, r.stderr
    assert "Canceled 5 jobs" in r.stderr
    for j in ids:
        wait_event(inst, j, "clean")
    inst.run("queue", "start")


def test_unsatisfiable_request_fails_at_once(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, "-N", "1000", "-n", "1000", SIM, "true")
    wait_event(inst, jobid, "clean", timeout=10)
    log = eventlog(inst, jobid)
    exc = [e for e in log if e["name"] == "exception"]
    assert exc[0]["context"]["type"] == "alloc"
    assert exc[0]["context"]["severity"] == 0
    assert exc[0]["context"]["note"]


def test_malformed_jobspec_names_the_field(jobs_instance, tmp_path):
    inst = jobs_instance
    bad = {"version": 1, "resources": [{"type": "slot", "count": 0, "label": "task",
                                         "with": [{"type": "core", "count": 1}]}],
           "tasks": [{"command": ["true"], "slot": "task", "count": {"per_slot": 1}}],
           "attributes": {"system": {"duration": 0}}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    r = inst.run("job", "submit", path)
    assert r.returncode != 0
    assert "resources[0].count" in r.stderr
    # Nothing was recorded.
    assert inst.run("job", "last").returncode != 0 or inst.run("job", "last").stdout == ""


def test_ingest_rejects_bad_requests_cleanly(jobs_instance):
    inst = jobs_instance
    with fluxmsg.Client(inst.sock) as c:
        for payload in ({}, {"J": 5}, {"J": "not.a.J"}, {"J": "x.y.none", "urgency": 99}):
            m = c.rpc("job-ingest.submit", payload)
            assert m.errnum != 0, payload
    r = inst.run("submit", "--urgency=40", "true")
    assert r.returncode != 0
    assert "urgency" in r.stderr


def test_waitable_jobs(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, "--flags=waitable", SIM, "true")
    r = inst.run("job", "wait", jobid)
    assert r.returncode == 0, r.stderr
    (failing,) = submit(inst, "--flags=waitable", "-S", "exec.test.mock_exception=run", "true")
    r = inst.run("job", "wait", failing)
    assert r.returncode == 1
    assert "exception" in r.stderr
    r = inst.run("job", "wait")
    assert r.returncode != 0
    assert "no more waitable jobs" in r.stderr


def test_submit_wait_returns_status(jobs_instance):
    inst = jobs_instance
    r = inst.run("submit", "--wait", "--quiet", SIM, "true")
    assert r.returncode == 0, r.stderr


def test_queue_disable_refuses_submission(jobs_instance):
    inst = jobs_instance
    assert inst.run("queue", "disable", "-m", "maintenance").returncode == 0
    r = inst.run("queue", "status")
    assert "Job submission is disabled: maintenance" in r.stdout
    r = inst.run("submit", SIM, "true")
    assert r.returncode != 0
    assert "maintenance" in r.stderr
    assert inst.run("queue", "enable").returncode == 0
    r = inst.run("queue", "status")
    assert r.stdout.splitlines() == ["Job submission is enabled", "Scheduling is started"]


def test_restart_keeps_inactive_and_pending_jobs(workdir):
    statedir = workdir / "state"
    statedir.mkdir()
    with state_instance(workdir / "a", statedir) as inst:
        (done,) = submit(inst, SIM, "true")
        wait_event(inst, done, "clean")
        (held,) = submit(inst, "--urgency=0", SIM, "true")
        wait_event(inst, held, "priority")
    with state_instance(workdir / "b", statedir) as inst:
        assert names(eventlog(inst, done)) == RAN
        # job-list rebuilt its index from the job-manager's replayed jobs.
        r = inst.run("jobs", "-a", "-n", "-o", "{id.f58} {state_single} {result}")
        assert r.returncode == 0, r.stderr
        rows = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        assert rows[done].split() == ["I", "COMPLETED"]
        assert rows[held].split()[0] == "S"
        log = eventlog(inst, held)
        assert "flux-restart" in names(log)
        assert "alloc" not in names(log)
        assert inst.run("job", "urgency", held, "16").returncode == 0
        wait_event(inst, held, "clean")
        assert names(eventlog(inst, held))[-1] == "clean"
        # New ids keep growing past the old ones.
        (newer,) = submit(inst, SIM, "true")
        ids = inst.run("job", "id", "--to=dec", done, held, newer).stdout.split()
        assert int(ids[2]) > int(ids[1]) > int(ids[0])


def test_restart_after_a_crash_ignores_a_used_checkpoint(workdir):
    """A clean stop leaves every job in checkpoint.job-manager and the next
    start reads them from there and empties it; after a kill -9 (no new
    checkpoint) the eventlogs rule, so a job run since is not lost."""
    statedir = workdir / "state"
    statedir.mkdir()
    with state_instance(workdir / "a", statedir) as inst:
        (first,) = submit(inst, SIM, "true")
        wait_event(inst, first, "clean")
    inst = Instance(workdir / "b", statedir)
    inst.start()
    try:
        r = inst.run("kvs", "get", "checkpoint.job-manager")
        assert r.returncode == 0, r.stderr
        assert "jobs" not in json.loads(r.stdout)  # consumed by this start
        (second,) = submit(inst, SIM, "true")
        wait_event(inst, second, "clean")
        # A damaged checkpoint is only a lost shortcut.
        for kv in ('checkpoint.job-manager={"version":1,"max_jobid":0,"chunks":2}',
                   "checkpoint.job-manager-jobs.0=garbage"):
            assert inst.run("kvs", "put", kv).returncode == 0
        assert inst.run("content", "flush").returncode == 0
    finally:
        inst.kill()  # SIGKILL: no checkpoint this time
    with state_instance(workdir / "c", statedir) as inst:
        r = inst.run("jobs", "-a", "-n", "-o", "{id.f58} {result}")
        assert r.returncode == 0, r.stderr
        rows = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        assert rows.get(first) == "COMPLETED" and rows.get(second) == "COMPLETED", rows
        assert "checkpoint unusable" in inst.broker_log()


def test_restart_rewrites_only_the_checkpoint_chunks_that_changed(workdir):
    """Inactive jobs never change, so a stop after a restart writes again
    only the chunks that held an active job and the jobs since; every job
    is still there, and `flux job last` still lists the newest first."""
    statedir = workdir / "state"
    statedir.mkdir()
    debug = ["-Slog-stderr-level=7"]

    def written(inst):
        m = re.findall(r"checkpoint of (\d+) jobs \((\d+) written\)", inst.broker_log())
        assert m, inst.broker_log()
        return tuple(map(int, m[-1]))

    def results(inst):
        r = inst.run("jobs", "-a", "-n", "-o", "{id.f58} {state_single}")
        assert r.returncode == 0, r.stderr
        return dict(line.split(" ", 1) for line in r.stdout.splitlines())

    with state_instance(workdir / "a", statedir, debug) as inst:
        (first,) = submit(inst, SIM, "true")
        wait_event(inst, first, "clean")
        inst.stop()
        assert written(inst) == (1, 1)
    with state_instance(workdir / "b", statedir, debug) as inst:
        (held,) = submit(inst, "--urgency=0", SIM, "true")
        wait_event(inst, held, "priority")
        inst.stop()
        assert written(inst) == (2, 1)  # the first job's chunk was kept
    with state_instance(workdir / "c", statedir, debug) as inst:
        (last,) = submit(inst, SIM, "true")
        wait_event(inst, last, "clean")
        assert results(inst) == {first: "I", held: "S", last: "I"}
        r = inst.run("job", "last", "3")
        assert r.stdout.split() == [last, held, first], r.stdout
        inst.stop()
        assert written(inst) == (3, 2)  # the held job's chunk again, and the new job
    with state_instance(workdir / "d", statedir, debug) as inst:
        assert results(inst) == {first: "I", held: "S", last: "I"}
        assert inst.run("cancel", held).returncode == 0
        wait_event(inst, held, "clean")
        inst.stop()
        assert written(inst) == (3, 2)
    with state_instance(workdir / "e", statedir, debug) as inst:
        assert results(inst) == {first: "I", held: "I", last: "I"}
        inst.stop()
        assert written(inst) == (3, 0)


def test_memo_and_nonfatal_exception(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, "--urgency=0", SIM, "true")
    wait_event(inst, jobid, "priority")
    r = inst.run("job", "memo", jobid, "note=hello", "n=5")
    assert r.returncode == 0, r.stderr
    r = inst.run("job", "raise", "--severity=3", "--type=test", jobid, "just", "a", "warning")
    assert r.returncode == 0, r.stderr
    log = eventlog(inst, jobid)
    memo = [e for e in log if e["name"] == "memo"]
    assert memo[0]["context"] == {"note": "hello", "n": 5}
    exc = [e for e in log if e["name"] == "exception"]
    assert exc[0]["context"]["severity"] == 3
    assert exc[0]["context"]["note"] == "just a warning"
    assert "clean" not in names(log)  # a non-fatal exception leaves the job be
    assert inst.run("cancel", jobid).returncode == 0
    wait_event(inst, jobid, "clean")
    r = inst.run("job", "raise", jobid)
    assert r.returncode != 0
    assert "inactive" in r.stderr


def test_bad_job_ids_and_permissions_are_clear_errors(jobs_instance):
    inst = jobs_instance
    r = inst.run("cancel", "ƒnotanid")
    assert r.returncode != 0
    r = inst.run("job", "urgency", "12345", "3")
    assert r.returncode != 0
    assert "unknown job" in r.stderr
    with fluxmsg.Client(inst.sock) as c:
        for topic, payload in (("job-manager.raise", {}), ("job-manager.urgency", {"id": "x"}),
                               ("job-manager.wait", {}), ("job-manager.sched-ready",
                                                          {"mode": "bogus"})):
            m = c.rpc(topic, payload)
            assert m.errnum != 0, topic


def jobspec_of(inst, jobid):
    r = inst.run("job", "info", jobid, "jobspec")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_submit_options_build_the_jobspec(jobs_instance, tmp_path):
    inst = jobs_instance
    env = inst.env(FOO="bar", DROPME="x")
    r = inst.run("submit", "--urgency=0", "-n4", "-c2", "-N2", "-t", "10m", "--job-name=myjob",
                 "--env=-DROP*", "--env=NEW=$FOO-1", "--cwd=/tmp", "-S", "user.color=\"red\"",
                 "-S", "exec.test.run_duration=0.5", "-o", "cpu-affinity=per-task", "-o", "verbose",
                 "myprog", "--flag", "-n", "3", env=env)
    assert r.returncode == 0, r.stderr
    js = jobspec_of(inst, r.stdout.strip())
    assert js["tasks"][0]["command"] == ["myprog", "--flag", "-n", "3"]
    node = js["resources"][0]
    assert node["type"] == "node" and node["count"] == 2
    slot = node["with"][0]
    assert slot["count"] == 2 and slot["with"][0] == {"type": "core", "count": 2}
    system = js["attributes"]["system"]
    assert system["duration"] == 600
    assert system["job"]["name"] == "myjob"
    assert system["cwd"] == "/tmp"
    assert system["environment"]["FOO"] == "bar"
    assert system["environment"]["NEW"] == "bar-1"
    assert "DROPME" not in system["environment"]
    assert system["exec"]["test"]["run_duration"] == 0.5
    options = dict(system["shell"]["options"])
    assert options.pop("rlimit")["nofile"] >= 0  # our soft limits go along
    assert options == {"cpu-affinity": "per-task", "verbose": 1,
                       "input": {"stdin": {"type": "file", "path": "/dev/null"}}}
    assert js["attributes"]["user"]["color"] == "red"


def test_cc_substitutes_the_copy_number(jobs_instance):
    inst = jobs_instance
    ids = submit(inst, "--cc=3-4", "--urgency=0", SIM, "echo", "{cc}")
    assert [jobspec_of(inst, j)["tasks"][0]["command"] for j in ids] == [["echo", "3"], ["echo", "4"]]


def test_begin_time_holds_the_job(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, "--begin-time=+3s", SIM, "true")
    wait_event(inst, jobid, "dependency-add")
    log = eventlog(inst, jobid)
    assert "depend" not in names(log)
    wait_event(inst, jobid, "clean")
    log = eventlog(inst, jobid)
    added = next(e for e in log if e["name"] == "dependency-add")
    depend = next(e for e in log if e["name"] == "depend")
    assert added["context"]["description"].startswith("begin-time=")
    assert depend["timestamp"] - log[0]["timestamp"] >= 2.9


def test_time_limit_ends_a_long_job_with_timeout(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, "-t", "0.2s", "-S", "exec.test.run_duration=60s", "true")
    wait_event(inst, jobid, "clean")
    log = eventlog(inst, jobid)
    exc = next(e for e in log if e["name"] == "exception")
    assert exc["context"]["type"] == "timeout"
    finish = next(e for e in log if e["name"] == "finish")
    assert finish["context"]["status"] == 9
    assert finish["timestamp"] - log[names(log).index("start")]["timestamp"] < 30


def test_job_whose_shell_cannot_start_fails_clearly(jobs_instance):
    inst = jobs_instance
    assert inst.run("module", "remove", "job-exec").returncode == 0
    r = inst.run("module", "load", "job-exec", "job-shell=/nonexistent/flux-shell")
    assert r.returncode == 0, r.stderr
    (jobid,) = submit(inst, "true")
    wait_event(inst, jobid, "clean")
    log = eventlog(inst, jobid)
    exc = next(e for e in log if e["name"] == "exception")
    assert exc["context"]["type"] == "exec"
    assert exc["context"]["severity"] == 0
    assert "cannot start flux-shell" in exc["context"]["note"]
    assert "start" not in names(log)


def test_debug_flag_records_requests(jobs_instance):
    """--flags=debug: the job-manager posts debug.alloc-request when it asks
    the scheduler and debug.start-request when it asks exec, as flux-core."""
    inst = jobs_instance
    (jobid,) = submit(inst, "--flags=debug", SIM, "true")
    wait_event(inst, jobid, "clean")
    got = names(eventlog(inst, jobid))
    assert got.index("debug.alloc-request") < got.index("alloc")
    assert got.index("debug.start-request") < got.index("start")
    (plain,) = submit(inst, SIM, "true")
    wait_event(inst, plain, "clean")
    assert not [n for n in names(eventlog(inst, plain)) if n.startswith("debug.")]


def test_raise_kill_cancel_take_several_ids_and_a_note(jobs_instance):
    inst = jobs_instance
    a, b = submit(inst, "--urgency=hold", "true"), submit(inst, "--urgency=hold", "true")
    ids = a + b
    r = inst.run("job", "raise", "-t", "test", "-s", "1", *ids, "--", "two", "words")
    assert r.returncode == 0, r.stderr
    for jobid in ids:
        ev = [e for e in eventlog(inst, jobid) if e["name"] == "exception"]
        assert ev[0]["context"]["note"] == "two words"
        assert ev[0]["context"]["type"] == "test"
    r = inst.run("job", "raise", "-m", "x", ids[0], "note")
    assert r.returncode == 1
    assert "Do not set note on command line and with --message" in r.stderr
    r = inst.run("job", "kill", "-s", "SIGFAKE", ids[0])
    assert r.returncode == 1 and "kill: Invalid signal SIGFAKE" in r.stderr
    r = inst.run("job", "kill", *ids)
    assert r.returncode == 1
    assert f"flux-job: kill {ids[0]}: job is not running" in r.stderr
    assert f"flux-job: kill {ids[1]}: job is not running" in r.stderr
    r = inst.run("job", "cancel", *ids, "-m", "bye")
    assert r.returncode == 0, r.stderr
    for jobid in ids:
        wait_event(inst, jobid, "clean")
    r = inst.run("job", "raise", ids[0])
    assert r.returncode == 1 and f"raise {ids[0]}: job is inactive" in r.stderr


def test_job_list_commands(jobs_instance):
    inst = jobs_instance
    (held,) = submit(inst, "--urgency=hold", "true")
    (done,) = submit(inst, SIM, "true")
    wait_event(inst, done, "clean")
    r = inst.run("job", "list")
    assert r.returncode == 0, r.stderr
    listed = [json.loads(line) for line in r.stdout.splitlines()]
    assert [j["id"] for j in listed] == [int(inst.run("job", "id", held).stdout)]
    assert listed[0]["state"] == 8  # SCHED
    r = inst.run("job", "list", "-a")
    assert len(r.stdout.splitlines()) == 2
    r = inst.run("job", "list", "-s", "inactive")
    assert [json.loads(x)["result"] for x in r.stdout.splitlines()] == [1]  # COMPLETED
    r = inst.run("job", "list", "-s", "bogus")
    assert r.returncode == 1 and "error parsing --states: bogus is unknown" in r.stderr
    r = inst.run("job", "list-inactive")
    assert len(r.stdout.splitlines()) == 1
    r = inst.run("job", "list-ids", "--wait-state=sched", held)
    assert json.loads(r.stdout)["state"] == 8
    r = inst.run("job", "list-ids", "--wait-state=bogus", held)
    assert r.returncode == 1 and "invalid job state specified" in r.stderr
    # job-manager.list (flux-core's list-jobs test tool): the queued job.
    with fluxmsg.Client(inst.sock, timeout=30) as c:
        c.send(fluxmsg.request("job-manager.list", {"max_entries": 0}, matchtag=1))
        m = c.recv(timeout=30)
        assert m.errnum == 0, m
        jobs = m.json()["jobs"]
    assert [j["state"] for j in jobs] == [8]
    assert jobs[0]["urgency"] == 0 and jobs[0]["priority"] == 0
    inst.run("job", "cancel", held)


def test_killall_and_raiseall(jobs_instance):
    inst = jobs_instance
    r = inst.run("job", "killall")
    assert r.returncode == 0 and r.stderr == "flux-job: Command matched 0 jobs\n"
    r = inst.run("job", "killall", "foo")
    assert r.returncode == 1 and "Usage:" in r.stderr
    r = inst.run("job", "killall", "-s", "SIGFAKE")
    assert r.returncode == 1 and r.stderr == "flux-job: killall: Invalid signal SIGFAKE\n"
    held = submit(inst, "--urgency=hold", "true") + submit(inst, "--urgency=hold", "true")
    r = inst.run("job", "raiseall", "test", "a", "note")
    assert r.stderr == "flux-job: Command matched 2 jobs (-f to confirm)\n"
    r = inst.run("job", "raiseall", "-S", "foo", "test")
    assert r.returncode == 1 and "error parsing --states: foo is unknown" in r.stderr
    r = inst.run("job", "raiseall", "-S", "inactive", "test")
    assert "Exceptions cannot be raised on inactive jobs" in r.stderr
    r = inst.run("job", "raiseall", "-s", "9", "-f", "test")
    assert r.returncode == 1 and "raiseall: invalid exception severity" in r.stderr
    r = inst.run("job", "raiseall", "-f", "-S", "sched", "test", "a", "note")
    assert r.stderr == "flux-job: Raised exception on 2 jobs (0 errors)\n"
    for jobid in held:
        ev = [e for e in eventlog(inst, jobid) if e["name"] == "exception"]
        assert ev[0]["context"]["note"] == "a note" and ev[0]["context"]["severity"] == 7
    r = inst.run("job", "raiseall", "-f", "--severity=0", "cancel")
    assert r.stderr == "flux-job: Raised exception on 2 jobs (0 errors)\n"
    for jobid in held:
        wait_event(inst, jobid, "clean")


def test_timeleft(jobs_instance):
    inst = jobs_instance
    r = inst.run("job", "timeleft")
    assert r.stdout == "4294967295\n", r.stderr  # the instance has no end
    assert inst.run("job", "timeleft", "-H").stdout == "infinity\n"
    (jobid,) = submit(inst, "-t", "100s", "sleep", "30")
    wait_event(inst, jobid, "start")
    left = int(inst.run("job", "timeleft", jobid).stdout)
    assert 90 <= left <= 100
    (held,) = submit(inst, "--urgency=hold", "true")
    r = inst.run("job", "timeleft", held)
    assert r.returncode == 1 and f"job {held} has not started" in r.stderr
    inst.run("job", "cancel", jobid, held)
    wait_event(inst, jobid, "clean")
    assert inst.run("job", "timeleft", jobid).stdout == "0\n"
    r = inst.run("job", "timeleft", "f1")
    assert r.returncode == 1 and "f1: no such jobid" in r.stderr


def test_dependency_schemes_as_flux_core(jobs_instance):
    inst = jobs_instance
    (done,) = submit(inst, SIM, "true")
    wait_event(inst, done, "clean")
    # Already impossible at submission: the job is refused.
    for dep, error in [
        (f"afternotok:{done}", f"dependency: afternotok: job {done} succeeded"),
        (f"afterexcept:{done}", f"dependency: afterexcept: job {done}: no exception"),
        ("afterstart:bar", 'dependency: afterstart: "bar" is not a valid jobid'),
        ("afterok:f1234", "dependency: afterok: id f1234: job not found"),
        (f"foo:{done}", "invalid dependency scheme: foo"),
    ]:
        r = inst.run("submit", f"--dependency={dep}", "true")
        assert r.returncode != 0 and error in r.stderr, (dep, r.stderr)
    # Met already: no dependency left; afterstart on a started job too.
    (ok_after,) = submit(inst, f"--dependency=afterok:{done}", SIM, "true")
    wait_event(inst, ok_after, "clean")
    # A job that never ran releases only afterany; the rest fail with "never started".
    (held,) = submit(inst, "--urgency=hold", "true")
    (anyd,) = submit(inst, f"--dependency=afterany:{held}", SIM, "true")
    (startd,) = submit(inst, f"--dependency=afterstart:{held}", SIM, "true")
    (exceptd,) = submit(inst, f"--dependency=afterexcept:{held}", SIM, "true")
    wait_event(inst, exceptd, "dependency-add")
    added = [e for e in eventlog(inst, startd) if e["name"] == "dependency-add"]
    assert added[0]["context"]["description"] == f"after-start={held}"
    assert inst.run("job", "cancel", held).returncode == 0
    wait_event(inst, anyd, "clean")
    for jobid in (startd, exceptd):
        wait_event(inst, jobid, "clean")
        exc = [e for e in eventlog(inst, jobid) if e["name"] == "exception"]
        assert exc[0]["context"]["note"].endswith("job never started"), exc
    # The deprecated "after" still works, with a warning (severity 3).
    (old,) = submit(inst, f"--dependency=after:{ok_after}", SIM, "true")
    wait_event(inst, old, "clean")
    exc = [e for e in eventlog(inst, old) if e["name"] == "exception"]
    assert exc[0]["context"]["severity"] == 3 and "deprecated" in exc[0]["context"]["note"]


def rpc(inst, topic, payload=None):
    with fluxmsg.Client(inst.sock, timeout=30) as c:
        c.send(fluxmsg.request(topic, payload or {}, matchtag=1))
        m = c.recv(timeout=30)
        assert m.errnum == 0, m
        return m.json()


def test_job_list_pause_holds_the_journal(jobs_instance):
    inst = jobs_instance
    rpc(inst, "job-list.job-state-pause")
    r = inst.run("submit", SIM, "--wait", "true")
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    assert inst.run("jobs", "-a", "-no", "{id.f58}").stdout.split() == []
    waiter = inst.popen("job", "list-ids", jobid)
    deadline = time.time() + 20
    while rpc(inst, "job-list.stats-get")["idsync"]["waits"] != 1:
        assert time.time() < deadline, "list-ids never waited"
        time.sleep(0.05)
    rpc(inst, "job-list.job-state-unpause")
    out, err = waiter.communicate(timeout=20)
    assert json.loads(out)["id"] == int(inst.run("job", "id", jobid).stdout)
    assert inst.run("jobs", "-a", "-no", "{id.f58}").stdout.split() == [jobid]


def test_memo_dotted_keys_stdin_and_null(jobs_instance):
    inst = jobs_instance
    (jobid,) = submit(inst, "--urgency=0", SIM, "true")
    wait_event(inst, jobid, "priority")
    assert inst.run("job", "memo", jobid, "a.b.c=42", "a.d=test").returncode == 0
    r = inst.run("job", "memo", jobid, "a.f=-", input="xyz\n")
    assert r.returncode == 0, r.stderr
    memo = [e["context"] for e in eventlog(inst, jobid) if e["name"] == "memo"]
    assert memo[0] == {"a": {"b": {"c": 42}, "d": "test"}}
    assert memo[1] == {"a": {"f": "xyz\n"}}
    assert inst.run("job", "memo", jobid, "a.b=null").returncode == 0
    deadline = time.time() + 20
    while True:  # job-list has it once the journal reaches it
        out = inst.run("jobs", "-no", "{user}", jobid).stdout.strip()
        if out and "b" not in json.loads(out.replace("'", '"'))["a"]:
            break
        assert time.time() < deadline, out
        time.sleep(0.05)
    assert json.loads(out.replace("'", '"')) == {"a": {"d": "test", "f": "xyz\n"}}
    inst.run("cancel", jobid)
