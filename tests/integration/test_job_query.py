"""flux job id | info | eventlog | wait-event | status against flux-core's
documented behaviour, on eventlogs these tests write themselves with
`flux kvs` (the job-info module reads job.<id>.* whoever wrote it).

A watcher (wait-event, status) is started first; then the test appends
events until the watcher exits, within a deadline."""

import json
import os
import select
import subprocess
import time

import pytest

from conftest import loaded_modules, wait_until_running

DEADLINE = 15.0
POLL = 0.05

# RFC 19's example id in each encoding.
RFC19 = {
    "dec": "6731191091817518",
    "hex": "0x17e9fb8df16c2e",
    "dothex": "0017.e9fb.8df1.6c2e",
    "kvs": "job.0017.e9fb.8df1.6c2e",
    "words": "reform-remote-galileo--heart-package-academy",
    "f58": "ƒuZZybuNNy",
}


@pytest.fixture
def info_instance(instance):
    """An instance with the KVS and job-info loaded."""
    wait_until_running(instance)
    present = loaded_modules(instance)
    added = []
    for mod in ["content", "content-sqlite", "kvs", "kvs-watch", "job-info"]:
        if mod not in present:
            r = instance.run("module", "load", mod)
            assert r.returncode == 0, f"module load {mod}: {r.stderr}"
            added.append(mod)
    yield instance
    if instance.proc.poll() is None:
        for mod in reversed(added):
            instance.run("module", "remove", mod)


def job(inst, *args, **kw):
    return inst.run("job", *map(str, args), **kw)


def ok(inst, *args, **kw):
    r = job(inst, *args, **kw)
    assert r.returncode == 0, f"flux job {args}: rc={r.returncode} {r.stderr}"
    return r.stdout


def fails(inst, *args, rc=1, **kw):
    r = job(inst, *args, **kw)
    assert r.returncode == rc, f"flux job {args}: expected rc={rc}, got {r.returncode} {r.stdout}"
    assert r.stderr.startswith("flux-job: "), r.stderr
    return r.stderr


_next_id = [1]


def new_jobid():
    """A job id no other test in this instance used (dec)."""
    _next_id[0] += 1
    return ((int(time.time() * 1000) % (1 << 39)) << 24) + _next_id[0]


def kvs_id(jobid):
    v = int(jobid)
    return "job.%04x.%04x.%04x.%04x" % (v >> 48, (v >> 32) & 0xFFFF, (v >> 16) & 0xFFFF, v & 0xFFFF)


def append(inst, jobid, name, context=None, key="eventlog"):
    args = ["kvs", "eventlog", "append", f"{kvs_id(jobid)}.{key}", name]
    if context is not None:
        args.append(json.dumps(context))
    r = inst.run(*args)
    assert r.returncode == 0, r.stderr


def make_job(inst, userid=None, jobspec=None):
    """A job's KVS directory with a submit event (and a jobspec)."""
    jobid = new_jobid()
    uid = os.getuid() if userid is None else userid
    append(inst, jobid, "submit", {"userid": uid, "urgency": 16, "flags": 0, "version": 1})
    spec = jobspec or {"version": 1, "resources": [], "tasks": [], "attributes": {"system": {}}}
    r = inst.run("kvs", "put", f"{kvs_id(jobid)}.jobspec={json.dumps(spec)}")
    assert r.returncode == 0, r.stderr
    return jobid


def finish(inst, jobid, status=0):
    for name, ctx in [("validate", None), ("depend", None), ("priority", {"priority": 16}),
                      ("alloc", None), ("start", None), ("finish", {"status": status}),
                      ("release", {"ranks": "all", "final": True}), ("free", None),
                      ("clean", None)]:
        append(inst, jobid, name, ctx)


def watch(proc, action, deadline=DEADLINE):
    """Call action(i) every POLL seconds until proc exits; return
    (rc, stdout, stderr)."""
    end = time.monotonic() + deadline
    i = 0
    while proc.poll() is None:
        if time.monotonic() > end:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"watcher did not exit in time: out={out!r} err={err!r}")
        action(i)
        i += 1
        try:
            proc.wait(timeout=POLL)
        except subprocess.TimeoutExpired:
            pass
    out, err = proc.communicate()
    return proc.returncode, out, err


# ---- id ----------------------------------------------------------------------


@pytest.mark.parametrize("enc", sorted(RFC19))
def test_id_to_every_encoding(info_instance, enc):
    for src in RFC19.values():
        assert ok(info_instance, "id", f"--to={enc}", src) == RFC19[enc] + "\n"


def test_id_default_is_dec_and_many_args(info_instance):
    out = ok(info_instance, "id", RFC19["f58"], RFC19["hex"])
    assert out == f"{RFC19['dec']}\n{RFC19['dec']}\n"


def test_id_reads_stdin(info_instance):
    out = ok(info_instance, "id", "--to=f58", input=f"{RFC19['dec']}\n{RFC19['words']}\n")
    assert out == f"{RFC19['f58']}\n{RFC19['f58']}\n"


def test_id_no_input_fails(info_instance):
    r = job(info_instance, "id", input="")
    assert r.returncode != 0


def test_id_errors(info_instance):
    assert "malformed input" in fails(info_instance, "id", "notanid")
    assert "Unknown to=bogus" in fails(info_instance, "id", "--to=bogus", "1")
    assert "malformed input" in fails(info_instance, "id", "--from=hex", RFC19["dec"])
    assert ok(info_instance, "id", "--from=hex", RFC19["hex"]) == RFC19["dec"] + "\n"


# ---- info, eventlog ----------------------------------------------------------


def test_info_keys(info_instance):
    spec = {"version": 1, "resources": [], "tasks": [], "attributes": {"system": {"duration": 5}}}
    jobid = make_job(info_instance, jobspec=spec)
    assert json.loads(ok(info_instance, "info", jobid, "jobspec")) == spec
    out = ok(info_instance, "info", jobid, "eventlog")
    assert json.loads(out.splitlines()[0])["name"] == "submit"
    # jobspec-update events are applied unless --base.
    append(info_instance, jobid, "jobspec-update", {"attributes.system.duration": 60})
    assert json.loads(ok(info_instance, "info", jobid, "jobspec"))["attributes"]["system"][
        "duration"] == 60
    assert json.loads(ok(info_instance, "info", "--base", jobid, "jobspec")) == spec


def test_info_errors(info_instance):
    jobid = make_job(info_instance)
    assert "not found" in fails(info_instance, "info", jobid, "R")
    assert "not found" in fails(info_instance, "info", new_jobid(), "jobspec")
    assert "invalid jobid" in fails(info_instance, "info", "xyzzy", "jobspec")


def test_eventlog_text_and_json(info_instance):
    jobid = make_job(info_instance)
    append(info_instance, jobid, "validate")
    text = ok(info_instance, "eventlog", jobid).splitlines()
    assert len(text) == 2
    ts, name, *ctx = text[0].split(" ")
    float(ts)
    assert name == "submit"
    assert f"userid={os.getuid()}" in ctx and "urgency=16" in ctx
    assert text[1].split(" ")[1:] == ["validate"]
    lines = ok(info_instance, "eventlog", "-f", "json", jobid).splitlines()
    assert [json.loads(x)["name"] for x in lines] == ["submit", "validate"]
    human = ok(info_instance, "eventlog", "-H", jobid).splitlines()
    assert human[0].startswith("[") and " submit " in human[0]
    # Any encoding of the id works.
    f58 = ok(info_instance, "id", "--to=f58", jobid).strip()
    assert ok(info_instance, "eventlog", f58) == "\n".join(text) + "\n"


def test_eventlog_path(info_instance):
    jobid = make_job(info_instance)
    append(info_instance, jobid, "init", {"x": 1}, key="guest.exec.eventlog")
    out = ok(info_instance, "eventlog", "-p", "exec", jobid)
    assert out.split(" ")[1:] == ["init", "x=1\n"]
    assert "eventlog path guest.output not found" in fails(
        info_instance, "eventlog", "-p", "output", jobid)
    missing = new_jobid()
    assert f"job {missing} not found" in fails(info_instance, "eventlog", missing)


def test_eventlog_other_user_denied(info_instance):
    """A guest may read only its own jobs (the owner may read all)."""
    jobid = make_job(info_instance, userid=os.getuid() + 1)
    assert ok(info_instance, "eventlog", jobid)  # the instance owner reads it
    # Ask as another user through the owner's connection (the owner may speak
    # for another user, as flux-core lets it) with the user role only.
    import fluxmsg
    def lookup_as(c, userid):
        m = fluxmsg.request("job-info.lookup", {"id": jobid, "keys": ["eventlog"], "flags": 0},
                            matchtag=1)
        m.userid = userid
        m.rolemask = 2  # user
        c.send(m)
        return c.recv()

    with fluxmsg.Client(info_instance.sock, timeout=10) as c:
        assert lookup_as(c, os.getuid() + 2).errnum == 1  # EPERM
        assert lookup_as(c, os.getuid() + 1).errnum == 0


# ---- wait-event --------------------------------------------------------------


def test_wait_event_existing(info_instance):
    jobid = make_job(info_instance)
    out = ok(info_instance, "wait-event", jobid, "submit")
    assert out.split(" ")[1] == "submit"
    assert ok(info_instance, "wait-event", "-q", jobid, "submit") == ""


def test_wait_event_future_with_verbose(info_instance):
    jobid = make_job(info_instance)
    p = info_instance.popen("job", "wait-event", "-v", str(jobid), "start")
    steps = [("validate", None), ("depend", None), ("start", None)]

    def act(i):
        if i < len(steps):
            append(info_instance, jobid, *steps[i])

    rc, out, err = watch(p, act)
    assert rc == 0, err
    assert [line.split(" ")[1] for line in out.splitlines()] == [
        "submit", "validate", "depend", "start"]


def test_wait_event_match_context_and_count(info_instance):
    jobid = make_job(info_instance)
    append(info_instance, jobid, "memo", {"k": "a"})
    append(info_instance, jobid, "memo", {"k": "b"})
    append(info_instance, jobid, "memo", {"k": "b"})
    out = ok(info_instance, "wait-event", "-m", "k=b", jobid, "memo")
    assert out.split(" ")[2].strip() == 'k="b"'
    out = ok(info_instance, "wait-event", "-c", "3", "-f", "json", jobid, "memo")
    assert json.loads(out)["context"] == {"k": "b"}
    assert "key=value" in fails(info_instance, "wait-event", "-m", "nokey", jobid, "memo")


def test_wait_event_timeout(info_instance):
    jobid = make_job(info_instance)
    start = time.monotonic()
    err = fails(info_instance, "wait-event", "-t", "0.3s", jobid, "never")
    assert "wait-event timeout on event 'never'" in err
    assert time.monotonic() - start < 10


def test_wait_event_ends_when_job_inactive(info_instance):
    jobid = make_job(info_instance)
    finish(info_instance, jobid)
    err = fails(info_instance, "wait-event", jobid, "never")
    assert "event 'never' never received" in err
    # The clean event itself is seen.
    assert ok(info_instance, "wait-event", "-q", jobid, "clean") == ""


def test_wait_event_unknown_job(info_instance):
    jobid = new_jobid()
    assert f"job {jobid} not found" in fails(info_instance, "wait-event", jobid, "submit")


def test_wait_event_exec_path(info_instance):
    jobid = make_job(info_instance)
    p = info_instance.popen("job", "wait-event", "-p", "exec", str(jobid), "shell.start")

    def act(i):
        if i == 0:
            append(info_instance, jobid, "init", key="guest.exec.eventlog")
        elif i == 1:
            append(info_instance, jobid, "shell.start", {"taskmap": {}}, key="guest.exec.eventlog")

    rc, out, err = watch(p, act)
    assert rc == 0, err
    assert out.split(" ")[1] == "shell.start"


# ---- status ------------------------------------------------------------------


def test_status_exit_codes(info_instance):
    good = make_job(info_instance)
    bad = make_job(info_instance)
    finish(info_instance, good, 0)
    finish(info_instance, bad, 3 << 8)
    assert job(info_instance, "status", good).returncode == 0
    assert job(info_instance, "status", good, bad).returncode == 3
    r = job(info_instance, "status", "-v", bad)
    assert r.returncode == 3
    assert f"{bad}: exited with exit code 3" in r.stderr
    r = job(info_instance, "status", "-j", good)
    assert json.loads(r.stdout)["waitstatus"] == 0


def test_status_exception_and_signal(info_instance):
    canceled = make_job(info_instance)
    append(info_instance, canceled, "exception",
           {"type": "cancel", "severity": 0, "note": "", "userid": os.getuid()})
    append(info_instance, canceled, "clean")
    assert job(info_instance, "status", canceled).returncode == 1
    assert job(info_instance, "status", "-e", "42", canceled).returncode == 42
    r = job(info_instance, "status", "-vv", canceled)
    assert "exception type=cancel" in r.stderr
    killed = make_job(info_instance)
    finish(info_instance, killed, 9)  # killed by SIGKILL
    r = job(info_instance, "status", "-v", killed)
    assert r.returncode == 128 + 9
    assert "job shell died by signal 9" in r.stderr


def test_status_waits(info_instance):
    jobid = make_job(info_instance)
    p = info_instance.popen("job", "status", str(jobid))

    def act(i):
        if i == 2:
            finish(info_instance, jobid, 2 << 8)

    rc, _, err = watch(p, act)
    assert rc == 2, err


def test_status_unknown_job(info_instance):
    assert "No such job" in fails(info_instance, "status", new_jobid())
