"""flux start under Slurm: a private one-node Slurm cluster (munged,
slurmctld and slurmd from Debian's slurm-wlm, on free ports, in a temporary
directory) launches brokers with `srun --mpi=pmi2`; they form one instance
through Slurm's PMI server."""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import FLUX, clean_env

DAEMONS = ("munged", "slurmctld", "slurmd")
START_TIMEOUT = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def daemon_path(name):
    for d in ("/usr/sbin", "/usr/bin"):
        p = pathlib.Path(d) / name
        if p.exists():
            return str(p)
    return shutil.which(name)


def slurm_conf(d, user):
    host = socket.gethostname().split(".")[0]
    return "\n".join([
        "ClusterName=fluxtest",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={free_port()}",
        f"SlurmdPort={free_port()}",
        f"SlurmUser={user}",
        f"SlurmdUser={user}",
        "AuthType=auth/munge",
        f"AuthInfo=socket={d / 'munge.sock'}",
        "CredType=cred/munge",
        # No cgroups: plain process tracking, no task binding.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SwitchType=switch/none",
        "MpiDefault=none",
        "JobCompType=jobcomp/none",
        "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "ReturnToService=2",
        # Four CPUs whatever this machine has.
        "SlurmdParameters=config_overrides",
        f"StateSaveLocation={d / 'state'}",
        f"SlurmdSpoolDir={d / 'spool'}",
        f"SlurmctldPidFile={d / 'slurmctld.pid'}",
        f"SlurmdPidFile={d / 'slurmd.pid'}",
        f"SlurmctldLogFile={d / 'slurmctld.log'}",
        f"SlurmdLogFile={d / 'slurmd.log'}",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN",
        f"PartitionName=debug Nodes={host} Default=YES State=UP MaxTime=INFINITE",
        "",
    ])


def logs(d):
    out = []
    for name in ("munged.log", "slurmctld.log", "slurmd.log"):
        p = d / name
        if p.exists():
            out.append(f"--- {name}\n" + p.read_text()[-2000:])
    return "\n".join(out)


@pytest.fixture
def slurm(tmp_path_factory):
    """Start munged, slurmctld and slurmd; yield the environment that points
    srun at them; stop them all."""
    paths = {n: daemon_path(n) for n in DAEMONS + ("srun", "sinfo")}
    missing = [n for n, p in paths.items() if not p]
    if missing:
        pytest.skip(f"Slurm is not installed here (no {', '.join(missing)}): "
                    "scripts/install-deps.sh installs slurmctld, slurmd, slurm-client, munge")
    if os.geteuid() != 0:
        pytest.skip("slurmd launches tasks only when started as root here")
    d = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool"):
        (d / sub).mkdir()
    key = d / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    user = "root"
    (d / "slurm.conf").write_text(slurm_conf(d, user))
    env = clean_env(SLURM_CONF=str(d / "slurm.conf"))
    for var in [k for k in env if k.startswith(("SLURM_", "PMI_")) and k != "SLURM_CONF"]:
        del env[var]
    procs = []
    try:
        # munged forks into the background and writes its pid file.
        subprocess.run([paths["munged"], "--force", f"--key-file={key}",
                        f"--socket={d / 'munge.sock'}", f"--pid-file={d / 'munged.pid'}",
                        f"--log-file={d / 'munged.log'}", f"--seed-file={d / 'munged.seed'}"],
                       check=True, timeout=30, capture_output=True)
        for name, args in (("slurmctld", ["-D", "-i"]), ("slurmd", ["-D"])):
            procs.append(subprocess.Popen([paths[name]] + args, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True))
        # Ready when the node is idle.
        deadline = time.monotonic() + START_TIMEOUT
        state = ""
        while time.monotonic() < deadline:
            r = subprocess.run([paths["sinfo"], "-h", "-o", "%T"], env=env,
                               capture_output=True, text=True, timeout=10)
            state = r.stdout.strip()
            if state == "idle":
                break
            time.sleep(0.1)
        if state != "idle":
            pytest.fail(f"the test Slurm cluster did not come up (node {state!r})\n" + logs(d))
        yield env
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        pidfile = d / "munged.pid"
        if pidfile.exists():
            try:
                pid = int(pidfile.read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    os.kill(pid, 0)  # raises once it has gone
                    time.sleep(0.05)
            except (ProcessLookupError, ValueError):
                pass


def srun(env, *args, timeout=120):
    r = subprocess.run(["srun"] + list(args), env=env, capture_output=True, text=True,
                       timeout=timeout)
    return r


def test_srun_pmi2_forms_one_instance_of_four_brokers(slurm, tmp_path):
    r = srun(slurm, "-N1", "-n4", "--mpi=pmi2", f"--chdir={tmp_path}", FLUX, "start", "sh", "-c",
             "flux getattr size; flux run -N4 hostname | wc -l;"
             " flux resource list -s all -no '{nnodes}'; flux getattr instance-level")
    assert r.returncode == 0, r.stderr
    # rank 0 alone runs the initial program; a top-level instance
    assert r.stdout.split() == ["4", "4", "4", "0"]


def test_srun_instance_runs_batch_jobs(slurm, tmp_path):
    # The srun-launched instance is an ordinary one: a batch job inside it is
    # an instance of its own.
    r = srun(slurm, "-N1", "-n2", "--mpi=pmi2", f"--chdir={tmp_path}", FLUX, "start", "sh", "-c",
             "id=$(flux batch -N2 --wrap flux run -N2 hostname) &&"
             " flux job wait-event -q -t 60 $id clean && flux job status $id && cat flux-$id.out")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [socket.gethostname()] * 2


def test_srun_without_pmi_is_a_clear_error(slurm, tmp_path):
    r = srun(slurm, "-N1", "-n2", "--mpi=none", f"--chdir={tmp_path}", FLUX, "start", "true")
    assert r.returncode != 0
    assert "started as one of 2 tasks (SLURM_STEP_NUM_TASKS) but no PMI was offered" in r.stderr
