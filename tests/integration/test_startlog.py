"""flux startlog: rc1 and rc3 post start and finish to admin.eventlog, and
the listing shows each run, the one running, and a crash."""

import re

from conftest import Instance, flux, state_instance

MINUTE = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def test_startlog_lists_runs_and_crashes(workdir):
    statedir = workdir / "state"
    statedir.mkdir()
    with state_instance(workdir / "a", statedir) as inst:
        r = inst.run("startlog")
        assert r.returncode == 0, r.stderr
        assert re.fullmatch(rf"{MINUTE} - running \(.+\)\n", r.stdout), r.stdout
    inst = Instance(workdir / "b", statedir)
    inst.start()
    r = inst.run("startlog")
    lines = r.stdout.splitlines()
    assert re.fullmatch(rf"{MINUTE} - {MINUTE} \(.+\)", lines[0]), lines
    assert "running" in lines[1]
    assert inst.run("content", "flush").returncode == 0
    inst.kill()  # no finish event: the next start sees a crash
    with state_instance(workdir / "c", statedir) as inst:
        r = inst.run("startlog")
        assert r.stdout.splitlines()[1].endswith("crashed"), r.stdout
        assert inst.run("startlog", "--check", "--quiet").returncode == 1
        r = inst.run("dmesg")
        assert "may have crashed" in r.stdout
        r = inst.run("startlog", "-v")
        assert r.stdout.split()[0] == flux("version").stdout.split()[1]


def test_startlog_posts_only_on_rank_zero():
    r = flux("start", "--test-size=2",
             "flux exec -r 1 flux startlog && ! flux exec -r 1 flux startlog --post-start-event",
             timeout=120)
    assert r.returncode == 0, r.stderr
    assert "may only be posted from rank 0" in r.stderr
