"""flux jobs against real jobs (job-ingest, job-manager, simulated
job-exec, sched-graph, job-list), checked against flux-jobs(1): default
columns, filters, -o formats, --count, --json, --stats."""

import json
import os
import pwd
import time

import pytest

from conftest import loaded_modules, wait_until_running

DEADLINE = 20.0
RUN = "--setattr=system.exec.test.run_duration=0.01s"
PIPELINE = ["job-manager", "job-list", "job-info", "job-ingest", "job-exec", "sched-graph"]


@pytest.fixture
def jobs_instance(instance):
    wait_until_running(instance)
    missing = [m for m in PIPELINE if m not in loaded_modules(instance)]
    assert not missing, f"rc1 did not load {missing}:\n" + instance.broker_log()
    return instance


def submit(inst, *args):
    r = inst.run("submit", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def wait_inactive(inst, jobid):
    r = inst.run("job", "wait-event", "-t", str(DEADLINE), jobid, "clean")
    assert r.returncode == 0, r.stderr


def jobs(inst, *args):
    r = inst.run("jobs", *args)
    assert r.returncode == 0, f"flux jobs {args}: {r.stderr}"
    return r.stdout


def listed(inst, jobid, *args):
    """Wait until job-list shows jobid in `flux jobs -a ARGS -no {id.f58}`."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if jobid in jobs(inst, "-a", "-no", "{id.f58}", *args).split():
            return
        time.sleep(0.05)
    pytest.fail(f"{jobid} not listed by flux jobs -a {args}")


@pytest.fixture
def three_jobs(jobs_instance):
    """A completed, a failed and a canceled (still pending: held) job."""
    inst = jobs_instance
    ok = submit(inst, RUN, "--job-name=okjob", "true")
    bad = submit(inst, RUN, "-n2", "--setattr=system.exec.test.mock_exception=run", "false")
    held = submit(inst, "--urgency=0", "sleep", "10")
    wait_inactive(inst, ok)
    wait_inactive(inst, bad)
    listed(inst, held)
    return inst, ok, bad, held


def test_default_header_and_columns(three_jobs):
    inst, ok, bad, held = three_jobs
    out = jobs(inst).splitlines()
    # flux-core's default format: {id.f58:>12} {username:<8.8} {name:<10.10+}
    # {status_abbrev:>2.2} {ntasks:>6} {nnodes:>6h} {contextual_time!F:>8h}
    # {contextual_info} (QUEUE dropped: no job has one).
    assert out[0] == "       JOBID USER     NAME       ST NTASKS NNODES     TIME INFO"
    # Only active jobs by default: the held one, with "held" as INFO.
    assert len(out) == 2
    user = pwd.getpwuid(os.getuid()).pw_name[:8]
    row = out[1]
    assert row[:12] == held.rjust(12)
    assert row[13:21] == user.ljust(8)
    assert row[22:32] == "sleep".ljust(10)
    assert row[33:35] == " S"
    assert row[36:42] == "1".rjust(6)
    assert row[43:49] == "-".rjust(6)
    assert row.endswith(" held")


def test_all_and_filters(three_jobs):
    inst, ok, bad, held = three_jobs
    ids = jobs(inst, "-a", "-n", "-o", "{id.f58}").split()
    assert ids[0] == held  # active jobs first
    assert set(ids) >= {ok, bad, held}
    assert jobs(inst, "-f", "completed", "-no", "{id.f58}").split() == [ok]
    assert jobs(inst, "-f", "failed", "-no", "{id.f58}").split() == [bad]
    assert jobs(inst, "-f", "pending", "-no", "{id.f58}").split() == [held]
    assert set(jobs(inst, "-f", "failed,completed", "-no", "{id.f58}").split()) == {ok, bad}
    # Inactive jobs newest first.
    assert jobs(inst, "-f", "inactive", "-no", "{id.f58}").split() == [bad, ok]
    assert jobs(inst, "-a", "-c", "1", "-no", "{id.f58}").split() == [held]
    r = inst.run("jobs", "-f", "bogus")
    assert r.returncode == 1 and "Invalid filter" in r.stderr


def test_user_filters(three_jobs):
    inst, ok, bad, held = three_jobs
    me = pwd.getpwuid(os.getuid()).pw_name
    assert ok in jobs(inst, "-a", "-u", me, "-no", "{id.f58}").split()
    assert jobs(inst, "-a", "-u", str(os.getuid() + 4242), "-no", "{id.f58}") == ""
    assert ok in jobs(inst, "-A", "-a", "-no", "{id.f58}").split()


def test_format_fields(three_jobs):
    inst, ok, bad, held = three_jobs
    fmt = ("{id.f58:>12}|{id.hex}|{id.dothex}|{id.words}|{id.kvs}|{id}|{username}|{userid}|"
           "{name:<10.10}|{state}|{state_single}|{result}|{result_abbrev}|{ntasks}|{nnodes}|"
           "{status}|{status_abbrev}|{returncode}|{urgency}|{priority}|{success}")
    r = jobs(inst, "-o", fmt, ok).splitlines()
    assert r[0].split("|")[0] == "       JOBID"
    f = r[1].split("|")
    dec = inst.run("job", "id", ok).stdout.strip()
    assert f[0] == ok.rjust(12)
    assert f[1] == inst.run("job", "id", "--to=hex", ok).stdout.strip()
    assert f[2] == inst.run("job", "id", "--to=dothex", ok).stdout.strip()
    assert f[3] == inst.run("job", "id", "--to=words", ok).stdout.strip()
    assert f[4] == inst.run("job", "id", "--to=kvs", ok).stdout.strip()
    assert f[5] == ok  # a JobID prints as F58, as flux-core's
    assert f[6] == pwd.getpwuid(os.getuid()).pw_name and f[7] == str(os.getuid())
    assert f[8] == "okjob     "
    assert f[9:13] == ["INACTIVE", "I", "COMPLETED", "CD"]
    assert f[13:15] == ["1", "1"]
    assert f[15:17] == ["COMPLETED", "CD"]
    assert f[17:21] == ["0", "16", "16", "True"]
    f = jobs(inst, "-no", "{status}|{returncode}|{ntasks}|{exception.occurred}", bad).strip()
    assert f.split("|")[0] == "FAILED" and f.split("|")[2] == "2"
    # Truncation marker and hyphen for empty values.
    assert jobs(inst, "-no", "{name:<3.3+}|{nodelist:h}|{t_run!D:h}", held).strip() == "sl+|-|-"


def test_format_errors(jobs_instance):
    r = jobs_instance.run("jobs", "-o", "{nosuchfield}")
    assert r.returncode == 1 and "nosuchfield" in r.stderr
    r = jobs_instance.run("jobs", "-o", "nosuchformat")
    assert r.returncode == 1 and "No such format" in r.stderr


def test_json(three_jobs):
    inst, ok, bad, held = three_jobs
    one = json.loads(jobs(inst, "--json", ok))
    dec = int(inst.run("job", "id", ok).stdout)
    assert one["id"] == dec and one["state"] == "INACTIVE" and one["result"] == "COMPLETED"
    assert one["name"] == "okjob" and one["returncode"] == 0 and one["success"] is True
    assert one["exception"] == {"occurred": False}
    pending = json.loads(jobs(inst, "--json", held))
    assert "result" not in pending and "t_run" not in pending and pending["state"] == "SCHED"
    many = json.loads(jobs(inst, "-a", "--json"))
    assert {j["id"] for j in many["jobs"]} >= {dec}


def test_stats(three_jobs):
    inst, ok, bad, held = three_jobs
    first = jobs(inst, "--stats", "-n").splitlines()[0]
    assert first == "0 running, 1 completed, 1 failed, 1 pending, 0 inactive purged"
    r = inst.run("jobs", "--stats-only")
    assert r.returncode == 0 and r.stdout == first + "\n"
    r = inst.run("cancel", held)
    assert r.returncode == 0, r.stderr
    wait_inactive(inst, held)
    r = inst.run("jobs", "--stats-only")
    assert r.returncode == 1
    assert r.stdout == "0 running, 1 completed, 2 failed, 0 pending, 0 inactive purged\n"
    assert jobs(inst, "-f", "canceled", "-no", "{id.f58} {result}").split() == [held, "CANCELED"]


def test_since(three_jobs):
    inst, ok, bad, held = three_jobs
    assert set(jobs(inst, "--since=-1h", "-no", "{id.f58}").split()) >= {ok, bad, held}
    assert jobs(inst, "--since=-1h", "-f", "completed", "-no", "{id.f58}").split() == [ok]
    r = inst.run("jobs", "--since=2999-01-01")
    assert r.returncode == 1 and "future" in r.stderr


def test_unknown_id(jobs_instance):
    r = jobs_instance.run("jobs", "ƒ2222222222")
    assert r.returncode == 1 and "JobID ƒ2222222222 unknown" in r.stderr


def test_job_status_and_last_with_real_jobs(jobs_instance):
    inst = jobs_instance
    a = submit(inst, RUN, "true")
    b = submit(inst, RUN, "--setattr=system.exec.test.mock_exception=run", "true")
    r = inst.run("job", "status", a)
    assert r.returncode == 0, r.stderr
    r = inst.run("job", "status", a, b)
    assert r.returncode != 0
    assert inst.run("job", "last").stdout.strip() == b
    assert inst.run("job", "last", "2").stdout.split() == [b, a]
    assert inst.run("job", "last", "[1:2]").stdout.split() == [a]
    out = inst.run("job", "eventlog", a).stdout.split("\n")
    assert [line.split(" ")[1] for line in out if line][:3] == ["submit", "validate", "depend"]


def test_from_stdin_and_expandable_columns(jobs_instance):
    inst = jobs_instance
    line = json.dumps({"id": 195823665152, "state": 8, "name": "a"}) + "\n"
    r = inst.run("jobs", "--from-stdin", "-o", "+:{name:>1}", input=line)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "NAME\n   a\n"  # widened to the heading
    r = inst.run("jobs", "--from-stdin", "-no", "+:{name:>1}", input=line)
    assert r.stdout == "a\n"
    r = inst.run("jobs", "--from-stdin", "-o", "{name} ?+:{exception.type:>1}", input=line)
    assert r.stdout.splitlines() == ["NAME", "a"]  # empty everywhere: dropped
    r = inst.run("jobs", "--from-stdin", input="not json\n")
    assert r.returncode == 1 and "JSON input error: line 1" in r.stderr


def test_json_ids_truncation_and_queue_stats(three_jobs):
    inst, ok, bad, held = three_jobs
    one = json.loads(jobs(inst, "--json", ok))
    assert one["jobid"] == ok and isinstance(one["id"], int)
    r = inst.run("jobs", "--json", "f1")
    assert r.returncode == 1 and r.stdout == "" and "JobID f1 unknown" in r.stderr
    r = inst.run("jobs", "-n", ok, "f1", "f2")  # known ids print; unknown ones are named
    assert r.returncode == 0 and r.stdout.count("\n") == 1 and r.stderr.count("unknown") == 2
    r = inst.run("jobs", "-a", "--count=1")
    assert "warning: output truncated at 1 jobs." in r.stderr
    r = inst.run("jobs", "-a", "--count=3")
    assert "truncated" not in r.stderr
    r = inst.run("jobs", "--stats", "--queue=nosuch")
    assert r.returncode == 1 and "no stats available for queue nosuch" in r.stderr
    t = jobs(inst, "-a", "-no", "{t_priority:.0f},{t_sched:.0f}", ok).strip().split(",")
    assert all(float(x) > 0 for x in t)
