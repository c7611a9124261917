"""The command line refuses what flux-core refuses and takes what it takes
(issue #12's hand-found hazards): unknown options are usage errors with
flux-core's exit codes, --dry-run submits nothing, --urgency takes names,
huge time limits and --cc sets do not overflow, flux start checks its
options and attributes, and a single-word initial program goes through the
shell."""

import json
import os
import queue
import signal
import subprocess
import threading

from conftest import FLUX, clean_env, flux, wait_until_running

SIM = "--setattr=system.exec.test.run_duration=0.01s"


def job_count(inst):
    r = inst.run("jobs", "-a", "-n", "-o", "{id}")
    assert r.returncode == 0, r.stderr
    return len(r.stdout.split())


def test_unknown_options_are_usage_errors(instance):
    wait_until_running(instance)
    # flux-core's Python commands (argparse): exit 2; its C commands: exit 1.
    for args, rc, text in (
        (["submit", "--bogus-option", "true"], 2, "unrecognized arguments: --bogus-option"),
        (["run", "--bogus-option", "true"], 2, "unrecognized arguments: --bogus-option"),
        (["jobs", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["kvs", "get", "--bogus", "a"], 1, "flux-kvs get: unrecognized option '--bogus'"),
        (["exec", "--bogus", "true"], 1, "flux-exec: unrecognized option '--bogus'"),
        (["env", "--bogus"], 1, "flux-env: unrecognized option '--bogus'"),
    ):
        r = instance.run(*args)
        assert r.returncode == rc, (args, r.returncode, r.stderr)
        assert text in r.stderr, (args, r.stderr)
    assert job_count(instance) == 0  # nothing was submitted as "--bogus-option true"
    # What follows the command is the command's, options or not.
    r = instance.run("submit", "--dry-run", "echo", "--not-ours")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tasks"][0]["command"] == ["echo", "--not-ours"]


def test_unknown_subcommand_is_named(instance):
    r = instance.run("kvs", "frob")
    assert r.returncode == 1
    assert "unknown command 'frob'" in r.stderr


def test_dry_run_prints_the_jobspec_and_submits_nothing(instance):
    wait_until_running(instance)
    r = instance.run("submit", "--dry-run", "-n2", "--job-name=dry", "hostname")
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    assert js["version"] == 1
    assert js["tasks"][0]["command"] == ["hostname"]
    assert js["attributes"]["system"]["job"]["name"] == "dry"
    r = instance.run("run", "--dry-run", "true")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tasks"][0]["command"] == ["true"]
    assert job_count(instance) == 0


def test_urgency_takes_names(instance):
    wait_until_running(instance)
    for name, value in (("hold", 0), ("default", 16), ("expedite", 31)):
        r = instance.run("submit", f"--urgency={name}", "--flags=debug", SIM, "true")
        assert r.returncode == 0, (name, r.stderr)
        jobid = r.stdout.strip()
        r = instance.run("job", "eventlog", "-f", "json", jobid)
        assert r.returncode == 0, r.stderr
        submit = json.loads(r.stdout.splitlines()[0])
        assert submit["context"]["urgency"] == value, (name, submit)
    r = instance.run("submit", "--urgency=banana", "true")
    assert r.returncode == 2 and "urgency" in r.stderr, r.stderr


def test_nodes_without_tasks_gives_a_task_per_node(instance):
    r = instance.run("submit", "--dry-run", "-N2", "true")
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    assert js["resources"][0]["type"] == "node" and js["resources"][0]["count"] == 2
    total = js["tasks"][0]["count"]
    assert total.get("total", 2) == 2 or total.get("per_slot") == 1, total


def test_a_time_limit_of_centuries_does_not_expire_at_once(instance):
    wait_until_running(instance)
    r = instance.run("run", "-t", "106752d", "true", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "expired" not in r.stderr


def test_a_huge_cc_set_streams_in_bounded_memory(instance):
    """--cc=1-1000000000 is submitted as it is iterated: the client's memory
    stays small while ids come out (it is stopped after a few hundred)."""
    wait_until_running(instance)
    p = instance.popen("submit", "--cc=1-1000000000", "--urgency=hold", SIM, "true", text=False)
    lines = queue.Queue()

    def reader():
        try:
            for x in p.stdout:
                lines.put(x.decode(errors="replace"))
        except (OSError, ValueError):
            pass  # closed under us when the test ends

    threading.Thread(target=reader, daemon=True).start()
    try:
        for _ in range(300):
            # Before, the whole set was listed first: no id came, memory grew.
            line = lines.get(timeout=60)
            assert line.startswith("ƒ"), (line, p.stderr.read() if p.poll() is not None else "")
        with open(f"/proc/{p.pid}/status") as f:
            rss_kb = next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
        assert rss_kb < 200 * 1024, f"flux submit holds {rss_kb} KB"
    finally:
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=30)


def test_start_refuses_unknown_options_and_bad_attributes():
    r = flux("start", "--bogus-start-opt")
    assert r.returncode == 1
    assert "flux-start: unrecognized option '--bogus-start-opt'" in r.stderr
    for attr, text in (("log-level=banana", "log-level"),
                       ("log-ring-size=-1", "log-ring-size"),
                       ("log-stderr-level=8", "log-stderr-level")):
        r = flux("start", "-S", attr, "true")
        assert r.returncode == 1, (attr, r.stderr)
        assert text in r.stderr, (attr, r.stderr)


def test_start_runs_one_argument_through_the_shell(tmp_path):
    r = flux("start", "echo one; echo two")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["one", "two"]
    r = flux("start", "exit 3")
    assert r.returncode == 3
    # An executable file is run as it is (no shell in between).
    script = tmp_path / "prog"
    script.write_text("#!/bin/sh\necho $0\n")
    script.chmod(0o755)
    r = flux("start", str(script))
    assert r.returncode == 0 and r.stdout.strip() == str(script), r.stdout + r.stderr


def test_start_options(tmp_path):
    # -v -X: what would run, and nothing runs.
    r = flux("start", "-v", "-X", "-Stest.x=1", "-c", "/nonexistent", "--conf=a.b=1", "true")
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stderr.splitlines() if x.startswith("flux-start:")][0]
    words = line.split()
    assert words[1].endswith("/flux-broker"), line
    for word in ("--setattr=test.x=1", "--config-path=/nonexistent", "--conf=a.b=1", "--", "true"):
        assert word in words, line
    # --conf reaches the broker's configuration: a bad [access] value stops it.
    r = flux("start", "--conf=access.allow-guest-user=\"maybe\"", "true")
    assert r.returncode == 1 and "allow-guest-user" in r.stderr, r.stderr
    r = flux("start", "--conf", '{"access":{"allow-guest-user":true}}', "true")
    assert r.returncode == 0, r.stderr
    # --rundir: made if missing, and then removed at the end.
    rundir = tmp_path / "rd"
    r = flux("start", f"--rundir={rundir}", "flux getattr rundir")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(rundir)
    assert not rundir.exists()
    # --wrap: the broker runs under the given program.
    r = flux("start", "--wrap=env,FLUXWRAP=yes", "printenv FLUXWRAP")
    assert r.returncode == 0 and r.stdout.strip() == "yes", r.stdout + r.stderr
    r = flux("start", "--recovery")
    assert r.returncode == 1 and "not supported" in r.stderr


def test_start_with_test_size_one_and_verbose_level():
    env = clean_env()
    r = subprocess.run([FLUX, "start", "--test-size=1", "--verbose=2", "-X", "true"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert os.path.basename(FLUX) == "flux"


def test_start_finds_the_broker_on_the_exec_path(tmp_path):
    """FLUX_EXEC_PATH_PREPEND puts a flux-broker first, as flux-core's
    flux start finds it: a broken one makes the start fail."""
    bad = tmp_path / "flux-broker"
    bad.write_text("#!/badinterp\n")
    bad.chmod(0o755)
    r = flux("start", "true", env=clean_env(FLUX_EXEC_PATH_PREPEND=str(tmp_path)))
    assert r.returncode != 0
    assert flux("start", "true").returncode == 0
