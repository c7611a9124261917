"""Real jobs: flux run / submit / attach with job-exec, the broker's rexec
service and flux-shell starting real processes."""

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import Instance, flux, short_dir


@pytest.fixture
def inst(tmp_path):
    """An instance whose one node has 8 cores (an R file in its config, not
    verified against this machine), so -n4 fits on any test machine."""
    base, cleanup = short_dir(tmp_path)
    r = {"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-7"}}],
                                     "nodelist": [socket.gethostname()],
                                     "starttime": 0, "expiration": 0}}
    (base / "R.json").write_text(json.dumps(r))
    conf = base / "conf.toml"
    conf.write_text(f'[resource]\npath = "{base / "R.json"}"\nnoverify = true\n')
    instance = Instance(base / "i", broker_args=[f"-o,--config-path={conf}"])
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        instance.kill()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def run(inst, *args, **kw):
    return inst.run("run", *args, **kw)


def wait_clean(inst, jobid, timeout=60):
    r = inst.run("job", "wait-event", "-t", str(timeout), jobid, "clean", timeout=timeout + 10)
    assert r.returncode == 0, r.stderr


def test_four_tasks_print_four_lines(inst):
    r = run(inst, "-n4", "printf", "hello\\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello\n" * 4
    r = run(inst, "-n4", "-l", "sh", "-c", "echo task $FLUX_TASK_RANK of $FLUX_JOB_SIZE")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == [f"{i}: task {i} of 4" for i in range(4)]


def test_exit_status_propagates(inst):
    assert run(inst, "true").returncode == 0
    r = run(inst, "false")
    assert r.returncode == 1
    assert "exit code 1" in r.stderr
    r = run(inst, "sh", "-c", "exit 7")
    assert r.returncode == 7
    r = run(inst, "sh", "-c", "kill -9 $$")
    assert r.returncode == 128 + 9


def test_missing_command_is_127_with_a_clear_message(inst):
    r = run(inst, "/nonexistent/cmd")
    assert r.returncode == 127
    assert "/nonexistent/cmd" in r.stderr
    assert "No such file or directory" in r.stderr


def test_a_task_that_cannot_start_raises_one_exec_exception(inst):
    """As flux-core's shell: a fatal exec exception naming the first task
    that could not start, then finish with that task's 127."""
    jobid = inst.run("submit", "-n2", "nosuch-command-xyz").stdout.strip()
    assert inst.run("job", "wait-event", "-t", "30", jobid, "clean").returncode == 0
    events = inst.run("job", "eventlog", jobid).stdout.splitlines()
    exceptions = [e for e in events if " exception " in e]
    assert len(exceptions) == 1, events
    assert 'type="exec"' in exceptions[0] and "severity=0" in exceptions[0]
    assert "start failed: nosuch-command-xyz: No such file or directory" in exceptions[0]
    names = [e.split()[1] for e in events]
    assert names.index("exception") < names.index("finish")
    assert any(e.split()[1] == "finish" and "status=32512" in e for e in events), events


def test_stdin_reaches_task_zero(inst):
    r = run(inst, "cat", input="line one\nline two\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "line one\nline two\n"


def test_one_megabyte_of_output_arrives_intact(inst):
    r = run(inst, "seq", "1", "160000", timeout=60)
    assert r.returncode == 0, r.stderr
    want = subprocess.run(["seq", "1", "160000"], capture_output=True, text=True).stdout
    assert len(want) > 1_000_000
    assert r.stdout == want


def test_environment_and_cwd(inst, tmp_path):
    r = run(inst, "--cwd", str(tmp_path), "--env=GREETING=hi", "sh", "-c",
            'echo "$PWD $GREETING $FLUX_JOB_ID $FLUX_JOB_NNODES $FLUX_TASK_LOCAL_ID"')
    assert r.returncode == 0, r.stderr
    cwd, greeting, jobid, nnodes, local = r.stdout.split()
    assert os.path.realpath(cwd) == os.path.realpath(tmp_path)
    assert greeting == "hi"
    assert jobid.startswith("ƒ")
    assert (nnodes, local) == ("1", "0")


def test_output_to_file_with_id_template(inst, tmp_path):
    template = str(tmp_path / "out-{{id}}.txt")
    r = inst.run("submit", "--output", template, "echo", "to a file")
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    wait_clean(inst, jobid)
    path = tmp_path / f"out-{jobid}.txt"
    assert path.read_text() == "to a file\n"


def test_time_limit_kills_with_timeout(inst):
    r = inst.run("submit", "-t", "1s", "sleep", "inf")
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    wait_clean(inst, jobid)
    r = inst.run("jobs", "-n", "-o", "{result}", jobid)
    assert r.stdout.strip() == "TIMEOUT"


def test_cancel_kills_every_task(inst, tmp_path):
    pidfile = tmp_path / "pids"
    r = inst.run("submit", "-n2", "sh", "-c",
                 f'sleep 300 & echo $! >> {pidfile}; echo $$ >> {pidfile}; wait')
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    r = inst.run("job", "wait-event", "-t", "30", jobid, "start")
    assert r.returncode == 0
    # Wait for both tasks to have written their pids (two lines each).
    r = inst.run("job", "wait-event", "-t", "30", "-p", "exec", jobid, "shell.start")
    assert r.returncode == 0, r.stderr
    deadline = 30
    t0 = time.monotonic()
    while (not pidfile.exists() or len(pidfile.read_text().split()) < 4) and \
            time.monotonic() - t0 < deadline:
        time.sleep(0.02)
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 4
    assert inst.run("cancel", jobid).returncode == 0
    wait_clean(inst, jobid)
    for pid in pids:
        # Reaped by the shell: gone, or at most a zombie of someone else's.
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split()[2] == "Z", pid
    r = inst.run("jobs", "-n", "-o", "{result}", jobid)
    assert r.stdout.strip() == "CANCELED"


def test_attach_replays_a_finished_job(inst):
    r = inst.run("submit", "-n2", "-l", "echo", "replayed")
    jobid = r.stdout.strip()
    wait_clean(inst, jobid)
    r = inst.run("job", "attach", "-l", jobid)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["0: replayed", "1: replayed"]


def test_submit_watch(inst):
    r = inst.run("submit", "--watch", "--cc=1-2", "echo", "copy {cc}")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "copy 1" in lines and "copy 2" in lines


def test_job_kill_sends_a_signal(inst):
    r = inst.run("submit", "sh", "-c", "trap 'echo got USR1; exit 0' USR1; "
                 "while true; do sleep 0.05; done")
    jobid = r.stdout.strip()
    assert inst.run("job", "wait-event", "-t", "30", "-p", "exec", jobid,
                    "shell.start").returncode == 0
    r = inst.run("job", "kill", "-s", "USR1", jobid)
    assert r.returncode == 0, r.stderr
    r = inst.run("job", "attach", jobid, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "got USR1" in r.stdout


@pytest.mark.skipif(shutil.which("mpicc") is None, reason="mpicc (Debian mpich) is not installed")
def test_mpich_program_sees_rank_and_size(inst, tmp_path):
    src = tmp_path / "hello.c"
    src.write_text(
        '#include <mpi.h>\n#include <stdio.h>\n'
        'int main(int argc, char **argv) { int r, s; MPI_Init(&argc, &argv);\n'
        ' MPI_Comm_rank(MPI_COMM_WORLD, &r); MPI_Comm_size(MPI_COMM_WORLD, &s);\n'
        ' printf("rank %d of %d\\n", r, s); MPI_Barrier(MPI_COMM_WORLD);\n'
        ' MPI_Finalize(); return 0; }\n')
    exe = tmp_path / "hello"
    subprocess.run(["mpicc", str(src), "-o", str(exe)], check=True, timeout=120)
    r = run(inst, "-n4", str(exe), timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == [f"rank {i} of 4" for i in range(4)]


def test_jobs_shows_real_results(inst):
    ok = inst.run("submit", "true").stdout.strip()
    bad = inst.run("submit", "sh", "-c", "exit 5").stdout.strip()
    for j in (ok, bad):
        wait_clean(inst, j)
    r = inst.run("jobs", "-n", "-o", "{id.f58} {result} {returncode}", ok, bad)
    assert r.returncode == 0, r.stderr
    rows = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert rows[ok].split() == ["COMPLETED", "0"]
    assert rows[bad].split() == ["FAILED", "5"]


def test_taskmap_and_pstree(inst):
    jobid = inst.run("submit", "-n4", "true").stdout.strip()
    wait_clean(inst, jobid)
    r = inst.run("job", "taskmap", jobid)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"version": 1, "map": [[0, 1, 4, 1]]}
    assert inst.run("job", "taskmap", "--to=raw", jobid).stdout.strip() == "0-3"
    assert inst.run("job", "taskmap", "--ntasks=0", jobid).stdout.strip() == "4"
    assert inst.run("job", "taskmap", "--nodeid=3", "[[0,2,2,1]]").stdout.strip() == "1"
    running = [inst.run("submit", "sleep", "300").stdout.strip() for _ in range(2)]
    for j in running:
        assert inst.run("job", "wait-event", "-t", "30", j, "start").returncode == 0
    r = inst.run("pstree")
    assert r.stdout.splitlines() == [".", "└── 2*[sleep]"]
    r = inst.run("pstree", "-a", "-X")
    assert "├── true:CD" in r.stdout.splitlines() or "└── true:CD" in r.stdout.splitlines()
    # Without the root, the top shows running jobs only, as flux-core's.
    r = inst.run("pstree", "-a", "--skip-root", "-X")
    assert r.stdout.splitlines() == ["sleep:R", "sleep:R"]
    assert inst.run("cancel", *running).returncode == 0


def test_ctrl_c_cancels_then_detaches(inst):
    import signal
    # Once: the job is canceled; flux run waits for it and exits with its status.
    p = inst.popen("run", "sh", "-c", "echo ready; exec sleep 300")
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert "canceling" in err
    assert "type=cancel" in err
    assert p.returncode == 128 + 15  # the shell passed the cancel's SIGTERM on
    # Twice within 2 s: detach, leaving the job as it is. The job ignores
    # SIGTERM, so the cancel cannot end it before the second Ctrl-C.
    p = inst.popen("run", "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done")
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGINT)
    assert "canceling" in p.stderr.readline()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "detaching" in err


def test_resource_limits_go_with_the_job(inst):
    # Our soft limit by default, as flux-core; --rlimit changes it.
    r = run(inst, "sh", "-c", "ulimit -n", env=inst.env())
    assert r.returncode == 0, r.stderr
    import resource
    assert int(r.stdout) == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    r = run(inst, "--rlimit=nofile=123,core=0", "sh", "-c", "ulimit -n; ulimit -c")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["123", "0"]
    r = run(inst, "--rlimit=bogus=1", "true")
    assert r.returncode != 0
    assert "unknown limit bogus" in r.stderr


def test_input_to_some_tasks_ends_for_all(tmp_path):
    """flux run --input=0: only task 0 reads our stdin, and at its end every
    task sees EOF (the others used to wait on stdin forever)."""
    r = flux("start", "--test-size=2",
             "echo hello | flux run --input=0 -n2 --label-io cat", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0: hello\n"
