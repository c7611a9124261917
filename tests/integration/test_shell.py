"""flux-shell: standalone (tasks, environment, exit codes, output files,
labels, cpu-affinity, PMI with a wire-protocol client and with MPICH) and
under a broker (a held job given an R by hand, then `flux-shell ID`:
guest.output, guest.exec.eventlog, stdin from guest.input; a 2-rank R run
by two shells on the one broker with --broker-rank, whose PMI exchange
goes through the KVS).
"""

import json
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, clean_env, wait_until_running

SHELL = str(BUILD / "libexec" / "flux" / "flux-shell")
PMI_TEST = str(BUILD / "tests" / "shell" / "pmi_test")
MPI_HELLO_SRC = os.path.join(os.path.dirname(__file__), "..", "shell", "mpi_hello.c")


def jobspec(cmd, ntasks=1, options=None, cwd=None, env=None, name=None):
    system = {"duration": 0, "environment": env if env is not None else {"PATH": os.environ["PATH"]}}
    if options:
        system["shell"] = {"options": options}
    if cwd:
        system["cwd"] = str(cwd)
    if name:
        system["job"] = {"name": name}
    return {
        "version": 1,
        "resources": [{"type": "slot", "count": ntasks, "label": "task",
                       "with": [{"type": "core", "count": 1}]}],
        "tasks": [{"command": cmd, "slot": "task", "count": {"per_slot": 1}}],
        "attributes": {"system": system},
    }


def rset(cores="0-3", ranks="0"):
    return {"version": 1, "execution": {"R_lite": [{"rank": ranks, "children": {"core": cores}}],
                                        "starttime": 0, "expiration": 0}}


def standalone(tmp_path, js, R=None, args=(), timeout=60):
    (tmp_path / "js.json").write_text(json.dumps(js))
    (tmp_path / "R.json").write_text(json.dumps(R or rset()))
    return subprocess.run(
        [SHELL, "--standalone", f"--jobspec={tmp_path / 'js.json'}", f"--R={tmp_path / 'R.json'}",
         *args],
        capture_output=True, text=True, timeout=timeout, env=clean_env(), cwd=tmp_path)


def sh(script, ntasks=1, **kw):
    return jobspec(["sh", "-c", script], ntasks, **kw)


def test_tasks_and_environment(tmp_path):
    r = standalone(tmp_path, sh('echo "$FLUX_TASK_RANK $FLUX_TASK_LOCAL_ID $FLUX_JOB_SIZE '
                                '$FLUX_JOB_NNODES $FLUX_JOB_ID $PMI_RANK $PMI_SIZE $PMI_SPAWNED '
                                '$(test -d "$FLUX_JOB_TMPDIR" && echo tmp) $(pwd)"', 3),
                   args=["--jobid=1234"])
    assert r.returncode == 0, r.stderr
    lines = sorted(r.stdout.splitlines())
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.split() == [str(i), str(i), "3", "1", "ƒNH", str(i), "3", "0", "tmp",
                                str(tmp_path)]


def test_tmpdir_removed_and_cwd(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    r = standalone(tmp_path, sh('pwd; echo $FLUX_JOB_TMPDIR', cwd=sub))
    assert r.returncode == 0, r.stderr
    cwd, tmp = r.stdout.split()
    assert cwd == str(sub)
    assert not os.path.exists(tmp)


def test_exit_codes(tmp_path):
    r = standalone(tmp_path, sh("exit $((FLUX_TASK_RANK + 3))", 2))
    assert r.returncode == 4
    r = standalone(tmp_path, sh("kill -TERM $$"))
    assert r.returncode == 128 + 15


def test_command_not_found(tmp_path):
    r = standalone(tmp_path, jobspec(["/nonexistent/cmd"]))
    assert r.returncode == 127
    assert "flux-shell[0]: FATAL: task 0 (host " in r.stderr
    assert "): start failed: /nonexistent/cmd: No such file or directory" in r.stderr
    noexec = tmp_path / "noexec"
    noexec.write_text("#!/bin/sh\n")
    noexec.chmod(0o644)
    r = standalone(tmp_path, jobspec([str(noexec)]))
    assert r.returncode == 126
    assert "Permission denied" in r.stderr


def test_bad_jobspec_is_exit_1(tmp_path):
    (tmp_path / "js.json").write_text("{")
    (tmp_path / "R.json").write_text(json.dumps(rset()))
    r = subprocess.run([SHELL, "--standalone", f"--jobspec={tmp_path / 'js.json'}",
                        f"--R={tmp_path / 'R.json'}"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.startswith("flux-shell: ")
    r = standalone(tmp_path, sh("true"), R=rset(ranks="5"))
    assert r.returncode == 1
    assert "not in R" in r.stderr


def test_label(tmp_path):
    r = standalone(tmp_path, sh('echo a$FLUX_TASK_RANK; echo b$FLUX_TASK_RANK >&2', 2),
                   args=["--label"])
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["0: a0", "1: a1"]
    assert sorted(r.stderr.splitlines()) == ["0: b0", "1: b1"]


def test_output_files_mustache_and_label(tmp_path):
    opts = {"output": {"stdout": {"type": "file", "path": "out-{{id}}-{{taskid}}-{{name}}.txt"},
                       "stderr": {"type": "file", "path": "{{jobid}}.err", "label": True}}}
    r = standalone(tmp_path, sh('echo o$FLUX_TASK_RANK; echo e$FLUX_TASK_RANK >&2', 2,
                                options=opts, cwd=tmp_path, name="myjob"), args=["--jobid=1234"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert (tmp_path / "out-ƒNH-0-myjob.txt").read_text() == "o0\n"
    assert (tmp_path / "out-ƒNH-1-myjob.txt").read_text() == "o1\n"
    assert sorted((tmp_path / "ƒNH.err").read_text().splitlines()) == ["0: e0", "1: e1"]


def test_stderr_follows_stdout_file(tmp_path):
    opts = {"output": {"stdout": {"type": "file", "path": str(tmp_path / "all.out"),
                                  "label": True}}}
    r = standalone(tmp_path, sh("echo out; echo err >&2", options=opts))
    assert r.returncode == 0, r.stderr
    assert sorted((tmp_path / "all.out").read_text().splitlines()) == ["0: err", "0: out"]


def test_large_output_in_order(tmp_path):
    r = standalone(tmp_path, jobspec(["python3", "-c",
                                      "import sys\nfor i in range(100000): print('%09d' % i)"]))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "".join("%09d\n" % i for i in range(100000))


def test_cpu_affinity_per_task(tmp_path):
    ncpu = len(os.sched_getaffinity(0))
    if ncpu < 2 or not {0, 1} <= os.sched_getaffinity(0):
        pytest.skip("needs CPUs 0 and 1")
    js = jobspec(["python3", "-c", "import os; print(os.environ['FLUX_TASK_RANK'], "
                  "sorted(os.sched_getaffinity(0)))"], 2, options={"cpu-affinity": "per-task"})
    r = standalone(tmp_path, js, R=rset(cores="0-1"))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["0 [0]", "1 [1]"]


def test_pmi_wire_protocol(tmp_path):
    r = standalone(tmp_path, jobspec([PMI_TEST], 4))
    assert r.returncode == 0, r.stderr
    lines = sorted(r.stdout.splitlines())
    assert lines == [f"pmi: rank {i} size 4 universe 4 appnum 0 kvsname f1 "
                     "mapping (vector,(0,1,4)) ok" for i in range(4)]


def test_pmi_abort(tmp_path):
    r = standalone(tmp_path, jobspec([PMI_TEST, "abort"], 2))
    assert r.returncode != 0
    assert "PMI_Abort(7)" in r.stderr


def mpi_hello(tmp_path):
    mpicc = shutil.which("mpicc")
    if not mpicc:
        pytest.skip("mpicc not found (install mpich/libmpich-dev: scripts/install-deps.sh)")
    exe = tmp_path / "mpi_hello"
    c = subprocess.run([mpicc, "-o", str(exe), MPI_HELLO_SRC], capture_output=True, text=True,
                       timeout=120)
    assert c.returncode == 0, c.stderr
    return str(exe)


def test_mpich_hello(tmp_path):
    exe = mpi_hello(tmp_path)
    r = standalone(tmp_path, jobspec([exe], 4), timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == [f"mpi: rank {i} of 4 sum 6" for i in range(4)]


# --- under a broker ---------------------------------------------------------

def eventlog(inst, key):
    r = inst.run("kvs", "get", "--raw", key)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def held_job(inst, *cmd):
    r = inst.run("submit", "--urgency=0", *cmd)
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    key = inst.run("job", "id", "--to=kvs", jobid).stdout.strip()
    r = inst.run("kvs", "put", f"{key}.R={json.dumps(rset(cores='0'))}")
    assert r.returncode == 0, r.stderr
    return jobid, key


def run_shell(inst, jobid, **kw):
    return subprocess.Popen([SHELL, jobid], env=inst.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture
def jobs_instance(instance):
    wait_until_running(instance)
    return instance


def test_shell_in_instance(jobs_instance):
    inst = jobs_instance
    jobid, key = held_job(inst, "sh", "-c", 'echo out $FLUX_JOB_ID; echo err >&2; exit 5')
    p = run_shell(inst, jobid)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 5, err
    log = eventlog(inst, f"{key}.guest.output")
    assert log[0]["name"] == "header"
    assert log[0]["context"] == {"version": 1, "encoding": {"stdout": "UTF-8", "stderr": "UTF-8"},
                                 "count": {"stdout": 1, "stderr": 1}, "options": {}}
    data = [e["context"] for e in log[1:]]
    assert {"stream": "stdout", "rank": "0", "data": f"out {jobid}\n"} in data
    assert {"stream": "stderr", "rank": "0", "data": "err\n"} in data
    assert {"stream": "stdout", "rank": "0", "eof": True} in data
    assert {"stream": "stderr", "rank": "0", "eof": True} in data
    exec_log = eventlog(inst, f"{key}.guest.exec.eventlog")
    assert [e["name"] for e in exec_log] == ["shell.init", "shell.start"]
    f58 = inst.run("job", "id", "--to=f58plain", jobid).stdout.strip()
    # The shell's service, named as flux-core's (its attach sends stdin there).
    assert exec_log[0]["context"] == {"leader-rank": 0, "size": 1,
                                      "service": f"{os.getuid()}-shell-{f58}"}
    assert exec_log[1]["context"] == {"taskmap": {"version": 1, "map": [[0, 1, 1, 1]]}}


def test_shell_stdin_from_guest_input(jobs_instance):
    inst = jobs_instance
    # flux submit gives jobs /dev/null; type=service reads guest.input, as flux run's jobs do.
    jobid, key = held_job(inst, "-o", "input.stdin.type=service", "sh", "-c",
                          'while read x; do echo "got $x"; done; echo done')
    p = run_shell(inst, jobid)
    r = inst.run("kvs", "eventlog", "wait-event", "-W", "-t", "20", f"{key}.guest.exec.eventlog",
                 "shell.start")
    assert r.returncode == 0, r.stderr
    for ctx in ({"stream": "stdin", "rank": "all", "data": "one\n"},
                {"stream": "stdin", "rank": "0", "data": "two\n", "eof": True}):
        r = inst.run("kvs", "eventlog", "append", f"{key}.guest.input", "data", json.dumps(ctx))
        assert r.returncode == 0, r.stderr
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    text = "".join(e["context"].get("data", "") for e in eventlog(inst, f"{key}.guest.output")
                   if e["name"] == "data" and e["context"]["stream"] == "stdout")
    assert text == "got one\ngot two\ndone\n"
    assert eventlog(inst, f"{key}.guest.input")[0]["name"] == "header"


def test_shell_large_output_to_kvs(jobs_instance):
    inst = jobs_instance
    jobid, key = held_job(inst, "python3", "-c",
                          "import sys\nfor i in range(100000): print('%09d' % i)")
    p = run_shell(inst, jobid)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    text = "".join(e["context"].get("data", "") for e in eventlog(inst, f"{key}.guest.output")
                   if e["name"] == "data" and e["context"]["stream"] == "stdout")
    assert text == "".join("%09d\n" % i for i in range(100000))


def test_shell_unknown_job_is_exit_1(jobs_instance):
    p = run_shell(jobs_instance, "ƒNH")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1
    assert err.startswith("flux-shell: ")


def test_shell_forwards_sigterm(jobs_instance):
    inst = jobs_instance
    jobid, key = held_job(inst, "sleep", "60")
    p = run_shell(inst, jobid)
    r = inst.run("kvs", "eventlog", "wait-event", "-W", "-t", "20", f"{key}.guest.exec.eventlog",
                 "shell.start")
    assert r.returncode == 0, r.stderr
    p.terminate()
    out, err = p.communicate(timeout=30)
    assert p.returncode == 128 + 15, err


# --- several shells: PMI through the KVS ------------------------------------
# One broker, but R names ranks 0 and 1; `--broker-rank=N` (for tests) makes
# each shell take rank N's share, as job-exec would start them on two brokers.

def held_multi_job(inst, *cmd, nnodes=2, ntasks=4):
    r = inst.run("submit", "--urgency=0", f"-N{nnodes}", f"-n{ntasks}", *cmd)
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    key = inst.run("job", "id", "--to=kvs", jobid).stdout.strip()
    ranks = "0" if nnodes == 1 else f"0-{nnodes - 1}"
    cores = "0-%d" % (ntasks // nnodes - 1)
    r = inst.run("kvs", "put", f"{key}.R={json.dumps(rset(cores=cores, ranks=ranks))}")
    assert r.returncode == 0, r.stderr
    return jobid, key


def run_shells(inst, jobid, nshells, timeout=60):
    procs = [subprocess.Popen([SHELL, f"--broker-rank={i}", jobid], env=inst.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(nshells)]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return results


def task_stdout(inst, key):
    out = {}
    for e in eventlog(inst, f"{key}.guest.output")[1:]:
        c = e["context"]
        if e["name"] == "data" and c["stream"] == "stdout":
            out[c["rank"]] = out.get(c["rank"], "") + c.get("data", "")
    return out


def assert_still_held(inst, key):
    names = [e["name"] for e in eventlog(inst, f"{key}.eventlog")]
    assert "alloc" not in names and "start" not in names, names


@pytest.mark.parametrize("nshells", [1, 2])
def test_pmi_across_shells(jobs_instance, nshells):
    inst = jobs_instance
    jobid, key = held_multi_job(inst, PMI_TEST, nnodes=nshells)
    f58 = inst.run("job", "id", "--to=f58plain", jobid).stdout.strip()
    for rc, err in run_shells(inst, jobid, nshells):
        assert rc == 0, err
    mapping = "(vector,(0,1,4))" if nshells == 1 else "(vector,(0,2,2))"
    assert task_stdout(inst, key) == {
        str(i): f"pmi: rank {i} size 4 universe 4 appnum 0 kvsname {f58} mapping {mapping} ok\n"
        for i in range(4)}
    exec_log = eventlog(inst, f"{key}.guest.exec.eventlog")
    assert exec_log[0]["context"] == {"leader-rank": 0, "size": nshells,
                                      "service": f"{os.getuid()}-shell-{f58}"}
    r = inst.run("kvs", "get", f"{key}.pmi.key3", f"{key}.pmi.dot%2Ekey3%25")
    if nshells == 1:
        assert r.returncode != 0  # one shell: a local exchange, nothing in the KVS
    else:
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["val3", "v.al3"]
    assert_still_held(inst, key)


def test_mpich_across_shells(jobs_instance, tmp_path):
    inst = jobs_instance
    exe = mpi_hello(tmp_path)
    jobid, key = held_multi_job(inst, exe)
    for rc, err in run_shells(inst, jobid, 2, timeout=120):
        assert rc == 0, err
    assert task_stdout(inst, key) == {str(i): f"mpi: rank {i} of 4 sum 6\n" for i in range(4)}
    assert_still_held(inst, key)
