"""flux job purge and the job-manager's inactive limits: purged jobs leave
the KVS, the job-manager and job-list; the limits hold as jobs end; a
restart sees only what was kept."""

import pytest

from conftest import short_dir, state_instance, wait_until_running

SIM = "--setattr=system.exec.test.run_duration=0.01s"


def ok(inst, *args, input=None):
    r = inst.run(*args, input=input)
    assert r.returncode == 0, f"flux {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout


def run_jobs(inst, n):
    ids = ok(inst, "submit", SIM, f"--cc=1-{n}", "--wait", "true").split()
    assert len(ids) == n
    return ids


def listed(inst):
    return ok(inst, "jobs", "-a", "-no", "{id.f58}").split()


@pytest.fixture
def inst(instance):
    wait_until_running(instance)
    return instance


def test_purge_by_count_and_by_id(inst):
    ids = run_jobs(inst, 5)
    assert ok(inst, "job", "purge", "--num-limit=2") == "use --force to purge 3 of 5 inactive jobs\n"
    assert ok(inst, "job", "purge", "-f", "--num-limit=2") == "purged 3 inactive jobs, 2 remaining\n"
    # Job ids are FLUIDs: the oldest three went.
    kept = sorted(ids, key=lambda i: int(ok(inst, "job", "id", i)))[3:]
    assert sorted(listed(inst)) == sorted(kept)
    r = inst.run("job", "info", ids[0], "eventlog")
    assert r.returncode != 0  # its KVS directory is gone
    assert ok(inst, "job", "purge", "-f", kept[0]) == "purged 1 inactive jobs, 1 remaining\n"
    r = inst.run("job", "purge", "-f", kept[0])
    assert r.returncode == 1 and "purge: id not found" in r.stderr
    (held,) = ok(inst, "submit", "--urgency=hold", "true").split()
    r = inst.run("job", "purge", held)
    assert r.returncode == 1 and "purge: cannot purge active job" in r.stderr
    r = inst.run("job", "purge", "--batch=1000")
    assert r.returncode == 1 and "batch must be >= 1 and <= 100" in r.stderr
    ok(inst, "job", "cancel", held)


def test_inactive_num_limit_from_config(inst):
    ok(inst, "config", "load", input="[job-manager]\ninactive-num-limit = 2\n")
    run_jobs(inst, 4)
    ok(inst, "submit", SIM, "--wait", "true")
    # The limit holds as each job ends.
    assert len(listed(inst)) == 2
    assert "0 of 2 inactive jobs" in ok(inst, "job", "purge", "--num-limit=2")


def test_restart_after_purge(tmp_path):
    base, cleanup = short_dir(tmp_path)
    statedir = base / "state"
    statedir.mkdir()
    with state_instance(base / "a", statedir) as inst:
        wait_until_running(inst)
        run_jobs(inst, 3)
        ok(inst, "job", "purge", "-f", "--num-limit=1")
        kept = listed(inst)
    with state_instance(base / "b", statedir) as inst:
        wait_until_running(inst)
        assert listed(inst) == kept
        assert "purged 0 inactive jobs, 1 remaining" in ok(inst, "job", "purge", "-f",
                                                            "--num-limit=1")
    if cleanup:
        cleanup()
