"""flux start: exit codes, the initial program's environment, rc scripts,
run directory cleanup, attributes on the command line, nested instances."""

import os
import pathlib
import shutil
import signal
import subprocess
import stat
import time

import pytest

from conftest import FLUX, clean_env, flux, short_dir


@pytest.fixture
def tmpdir_env(tmp_path):
    """An environment whose TMPDIR (where default rundirs go) is private and
    short, and whose PATH does not contain the build's bin directory."""
    base, cleanup = short_dir(tmp_path)
    tmp = base / "t"
    tmp.mkdir()
    env = clean_env(TMPDIR=tmp, PATH="/usr/bin:/bin")
    yield env, tmp
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)


def write_script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def test_true_exits_zero():
    r = flux("start", "true")
    assert r.returncode == 0, r.stderr


def test_false_exits_one():
    r = flux("start", "false")
    assert r.returncode == 1, r.stderr


def test_exit_code_is_passed_through():
    r = flux("start", "sh", "-c", "exit 7")
    assert r.returncode == 7, r.stderr


def test_initial_program_sees_instance(tmpdir_env):
    env, _ = tmpdir_env
    # flux is found on PATH only because the broker put its bindir there.
    r = flux("start", "sh", "-c", "flux getattr size", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"


def test_initial_program_has_flux_uri(tmpdir_env):
    env, _ = tmpdir_env
    r = flux("start", "sh", "-c", 'echo "$FLUX_URI"; flux getattr local-uri', env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2, r.stdout
    assert lines[0].startswith("local://")
    assert lines[0] == lines[1]


def test_test_size_2_is_one_instance():
    r = flux("start", "--test-size=2", "sh", "-c", "flux getattr size; flux exec -r 1 flux getattr rank")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2", "1"]


def test_test_size_exit_code_is_initial_programs():
    r = flux("start", "--test-size=2", "sh", "-c", "exit 3")
    assert r.returncode == 3, r.stderr


def test_default_rundir_removed_after_exit(tmpdir_env):
    env, tmp = tmpdir_env
    r = flux("start", "sh", "-c", "flux getattr rundir; test -S \"$(flux getattr rundir)/local-0\"",
             env=env)
    assert r.returncode == 0, r.stderr
    rundir = r.stdout.strip()
    assert rundir, "flux getattr rundir printed nothing"
    # The default run directory goes in TMPDIR.
    assert pathlib.Path(rundir).parent == tmp
    assert not os.path.exists(rundir), f"{rundir} left behind"
    assert list(tmp.iterdir()) == []


def test_given_rundir_is_used(tmpdir_env):
    env, tmp = tmpdir_env
    rundir = tmp / "myrun"
    r = flux("start", f"-Srundir={rundir}", "flux", "getattr", "rundir", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(rundir)


def test_rc1_and_rc3_run_in_order(tmpdir_env, tmp_path):
    env, _ = tmpdir_env
    log = tmp_path / "order.log"
    rc1 = write_script(tmp_path / "rc1", f'echo "rc1 $FLUX_URI" >> {log}\n')
    rc3 = write_script(tmp_path / "rc3", f'echo "rc3 $FLUX_URI" >> {log}\n')
    r = flux("start", f"-Sbroker.rc1_path={rc1}", f"-Sbroker.rc3_path={rc3}",
             "sh", "-c", f'echo "rc2 $FLUX_URI" >> {log}', env=env)
    assert r.returncode == 0, r.stderr
    lines = log.read_text().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["rc1", "rc2", "rc3"], lines
    # Each ran inside the instance.
    uris = {line.split(" ", 1)[1] if " " in line else "" for line in lines}
    assert len(uris) == 1 and next(iter(uris)).startswith("local://"), lines


def test_rc1_can_use_the_instance(tmpdir_env, tmp_path):
    env, _ = tmpdir_env
    out = tmp_path / "rc1.out"
    rc1 = write_script(tmp_path / "rc1", f"flux getattr rank > {out}\n")
    r = flux("start", f"-Sbroker.rc1_path={rc1}", "true", env=env)
    assert r.returncode == 0, r.stderr
    assert out.read_text().strip() == "0"


def test_failing_rc1_fails_the_instance(tmpdir_env, tmp_path):
    env, _ = tmpdir_env
    marker = tmp_path / "rc2-ran"
    rc1_ran = tmp_path / "rc1-ran"
    rc1 = write_script(tmp_path / "rc1", f"touch {rc1_ran}\nexit 3\n")
    r = flux("start", f"-Sbroker.rc1_path={rc1}", "sh", "-c", f"touch {marker}", env=env)
    assert r.returncode != 0
    assert rc1_ran.exists(), f"rc1 never ran: {r.stderr}"
    assert not marker.exists(), "initial program ran although rc1 failed"


def test_failing_rc1_still_runs_rc3(tmpdir_env, tmp_path):
    env, _ = tmpdir_env
    marker = tmp_path / "rc3-ran"
    rc1 = write_script(tmp_path / "rc1", "exit 3\n")
    rc3 = write_script(tmp_path / "rc3", f"touch {marker}\n")
    r = flux("start", f"-Sbroker.rc1_path={rc1}", f"-Sbroker.rc3_path={rc3}", "true", env=env)
    assert r.returncode != 0
    assert marker.exists(), "rc3 did not run after rc1 failed"


def test_unknown_attribute_fails():
    r = flux("start", "-Snosuch=1", "true")
    assert r.returncode != 0
    assert "unknown attribute" in r.stderr


def test_readonly_attribute_rejected_on_command_line():
    r = flux("start", "-Srank=3", "true")
    assert r.returncode != 0
    assert "rank" in r.stderr


def test_setattr_on_command_line_is_visible(tmpdir_env):
    env, _ = tmpdir_env
    r = flux("start", "-Stest.x=hello", "flux", "getattr", "test.x", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "hello"


def test_nested_instance(tmpdir_env):
    env, _ = tmpdir_env
    script = (
        "flux getattr instance-level; flux getattr local-uri; "
        "flux start sh -c 'flux getattr instance-level; flux getattr parent-uri; "
        "flux getattr local-uri'"
    )
    r = flux("start", "sh", "-c", script, env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 5, r.stdout
    outer_level, outer_uri, inner_level, inner_parent, inner_uri = lines
    assert outer_level == "0"
    assert inner_level == "1"
    assert inner_parent == outer_uri
    assert inner_uri != outer_uri


def test_top_level_has_no_parent_uri(tmpdir_env):
    env, _ = tmpdir_env
    r = flux("start", "flux", "getattr", "parent-uri", env=env)
    assert r.returncode != 0


@pytest.mark.parametrize("args", [[], ["-Sbroker.rc1_path=", "-Sbroker.rc3_path="],
                                  ["--test-size=2"]], ids=["default", "no-rc", "size2"])
def test_initial_program_that_cannot_start(tmpdir_env, tmp_path, args):
    """127 when it does not exist, 126 when it is not executable, as a shell
    says; in every configuration (without rc scripts the broker once hung
    after the failure, deaf to SIGTERM)."""
    env, _ = tmpdir_env
    r = flux("start", *args, "/nonexistent/program", env=env, timeout=60)
    assert r.returncode == 127, r.stderr
    assert "/nonexistent/program: No such file or directory" in r.stderr
    noexec = tmp_path / "noexec"
    noexec.write_text("#!/bin/sh\n")
    r = flux("start", *args, str(noexec), env=env, timeout=60)
    assert r.returncode == 126, r.stderr


def test_double_dash_separates_command():
    r = flux("start", "--", "sh", "-c", "exit 5")
    assert r.returncode == 5, r.stderr
    r = flux("start", "-Stest.x=1", "--", "sh", "-c", "exit 6")
    assert r.returncode == 6, r.stderr


def test_test_start_mode_leader_starts_rank_0_alone():
    # The other ranks are never started: with a quorum of 1 the initial
    # program runs in an instance of size 4 with only rank 0 online.
    r = flux("start", "--test-size=4", "--test-start-mode=leader", "-Sbroker.quorum=1",
             "sh", "-c", "flux getattr size; flux getattr broker.online")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4", "0"]


def test_shutdown_through_another_rank_ends_the_instance():
    # flux shutdown asks rank 0, whichever broker it is connected to; the
    # initial program would otherwise sleep until the command timeout.
    r = flux("start", "--test-size=4", "sh", "-c",
             'FLUX_URI=$(flux exec -r 2 flux getattr local-uri) flux shutdown; sleep 60')
    assert r.returncode == 0, r.stderr


def test_leaving_with_a_running_job_leaves_nothing(tmpdir_env):
    """The initial program ends while a job runs: its task dies with the
    instance and its FLUX_JOB_TMPDIR (in the broker's rundir) goes too."""
    env, tmp = tmpdir_env
    marker = "3017.25"  # a sleep nobody else runs
    r = flux("start", "sh", "-c",
             f"id=$(flux submit sleep {marker}) && flux job wait-event $id start >/dev/null && "
             "flux run sh -c 'test -d \"$FLUX_JOB_TMPDIR\" && echo $FLUX_JOB_TMPDIR'",
             env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(tmp)), r.stdout

    def survivors():
        found = []
        for d in os.listdir("/proc"):
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", marker.encode()]:
                        found.append(int(d))
            except OSError:
                pass
        return found

    # The task gets SIGKILL from its shell's death: gone within moments.
    deadline = time.monotonic() + 10
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = survivors()
    for pid in left:
        os.kill(pid, 9)
    assert not left, "a job's task outlived its instance"
    assert os.listdir(tmp) == [], os.listdir(tmp)


def test_running_jobs_are_cancelled_and_recorded_at_the_end(tmpdir_env, tmp_path):
    """The instance's end cancels its running jobs and waits for them: their
    exception and clean events are in the KVS before the brokers go, as a
    restart on the same statedir shows; FLUX_DISABLE_JOB_CLEANUP skips it."""
    env, _ = tmpdir_env
    state = tmp_path / "state"
    for size in (1, 2):
        r = flux("start", f"--test-size={size}", f"-Sstatedir={state}", "sh", "-c",
                 "id=$(flux submit -N1 sleep 300) && flux job wait-event $id start >/dev/null "
                 "&& echo $id", env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        jobid = r.stdout.strip()
        r = flux("start", f"-Sstatedir={state}", "flux", "job", "eventlog", jobid,
                 env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        names = [line.split()[1] for line in r.stdout.splitlines()]
        assert "exception" in names and names[-1] == "clean", r.stdout
        assert "the instance is shutting down" in r.stdout
    r = flux("start", f"-Sstatedir={state}", "sh", "-c",
             "id=$(flux submit sleep 300) && flux job wait-event $id start >/dev/null && echo $id",
             env=dict(env, FLUX_DISABLE_JOB_CLEANUP="1"), timeout=60)
    assert r.returncode == 0, r.stderr


def test_state_and_run_directories_are_the_owners_alone(tmpdir_env, tmp_path):
    """A new statedir and rundir are 0700, the database and its WAL 0600:
    another user must not copy the owner's KVS values."""
    env, _ = tmpdir_env
    state, run = tmp_path / "state", tmp_path / "run"
    r = flux("start", f"-Sstatedir={state}", f"-Srundir={run}", "-Srundir-cleanup=0",
             "sh", "-c", "flux kvs put secret=1 && ls $(flux getattr rundir)",
             env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)
    assert mode(state) == 0o700
    assert mode(run) == 0o700
    files = [p for p in state.iterdir() if p.name.startswith("content.sqlite")]
    assert files, list(state.iterdir())
    for p in files:
        assert mode(p) == 0o600, p


def test_sigterm_during_a_stuck_rc1_ends_the_instance(tmpdir_env, tmp_path):
    """A signal in the init state ends the rc1 the broker waits for, and the
    instance goes (it used to wait for rc1 forever)."""
    env, _ = tmpdir_env
    started = tmp_path / "rc1-started"
    rc1 = write_script(tmp_path / "rc1", f"touch {started}\nexec sleep 300\n")
    p = subprocess.Popen([FLUX, "start", f"-Sbroker.rc1_path={rc1}", "-Sbroker.rc3_path=",
                          "true"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < deadline, "rc1 never started"
            time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
        assert p.returncode != 0, err
        assert "rc1 exited with code" in err, err
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_restart_cleans_a_stale_run_directory(tmpdir_env):
    """A broker killed with -9 leaves its socket and (without a statedir) its
    scratch database in the run directory, and a job shell killed with it
    its FLUX_JOB_TMPDIR; a new instance on the same directory starts clean:
    an empty KVS, no leftovers."""
    env, tmp = tmpdir_env
    run = tmp / "run"
    p = subprocess.Popen([FLUX, "start", f"-Srundir={run}", "-Srundir-cleanup=0", "sh", "-c",
                          "flux kvs put old=1 && flux content flush && echo ready && sleep 300"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # the broker and the initial program
        p.wait()
    stale_job = run / "jobtmp-0-\u0192stale"  # as a SIGKILLed job shell leaves it
    stale_job.mkdir()
    (stale_job / "scratch").write_text("x")
    left = sorted(x.name for x in run.iterdir())
    assert "local-0" in left and "content.sqlite" in left, left
    r = flux("start", f"-Srundir={run}", "-Srundir-cleanup=0", "sh", "-c",
             "flux kvs get old; flux kvs put new=2 && flux kvs get new", env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2"], r.stdout  # no old key: a fresh KVS
    assert not stale_job.exists()


def test_a_second_signal_ends_an_initial_program_that_ignores_the_first(tmpdir_env, tmp_path):
    env, _ = tmpdir_env
    p = subprocess.Popen([FLUX, "start", "sh", "-c",
                          "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        p.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=1)  # the first one is the initial program's to handle
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        assert p.returncode != 0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_runat_push_runs_cleanup_commands_last_pushed_first(tmp_path):
    """runat.push adds commands to the cleanup phase; as flux-core's runat,
    each goes to the front, so they run in reverse, before the cleanup script."""
    log = tmp_path / "order"
    push = ("flux python -c \"import flux; flux.Flux().rpc('runat.push', "
            "{'name': 'cleanup', 'commands': "
            f"['echo one >> {log}', 'echo two >> {log}']}}).get()\"")
    r = flux("start", push, timeout=120)
    assert r.returncode == 0, r.stderr
    assert log.read_text().split() == ["two", "one"]
