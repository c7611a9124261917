"""Shared helpers for the integration tests.

The build directory comes from FLUX_BUILD_DIR (set by ctest). Tests either
run `flux start ...` to completion (see `flux()`), or use the `instance`
fixture: a broker started with no initial program (broker.rc2_none) that
serves until the fixture sends `flux shutdown`.

Every subprocess call carries a timeout so that a hung broker or command
fails the test instead of hanging ctest.
"""

import contextlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

BUILD = pathlib.Path(
    os.environ.get("FLUX_BUILD_DIR", pathlib.Path(__file__).resolve().parents[2] / "build")
).resolve()
FLUX = str(BUILD / "bin" / "flux")
ECHO_MODULE = str(BUILD / "tests" / "modules" / "echo.so")

START_DEADLINE = 10.0  # seconds for a broker to come up
POLL = 0.02  # seconds between readiness checks
SHUTDOWN_TIMEOUT = 15.0
CMD_TIMEOUT = 30.0

# Longest usable UNIX socket path is 107 bytes; leave room for "/local-0".
MAX_RUNDIR = 90


def clean_env(**extra):
    """The test's environment without any enclosing instance's FLUX_URI."""
    env = os.environ.copy()
    env.pop("FLUX_URI", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def flux(*args, env=None, timeout=CMD_TIMEOUT, input=None, cwd=None):
    """Run `flux ARGS...` outside any instance; returns CompletedProcess."""
    return subprocess.run(
        [FLUX, *map(str, args)],
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        cwd=cwd,
    )


def short_dir(tmp_path):
    """A directory short enough to hold a UNIX socket path."""
    if len(str(tmp_path)) < MAX_RUNDIR - 10:
        return pathlib.Path(tmp_path), None
    d = tempfile.mkdtemp(prefix="fxit")
    return pathlib.Path(d), d


class Instance:
    """A running broker: .uri, .rundir, .run(args...) and .popen(args...)."""

    def __init__(self, base, statedir=None, broker_args=()):
        self.base = pathlib.Path(base)
        self.statedir = statedir
        self.broker_args = list(broker_args)  # e.g. ["-o,--config-path=PATH"]
        self.rundir = self.base / "run"
        self.sock = self.rundir / "local-0"
        self.uri = f"local://{self.sock}"
        self.log_path = self.base / "broker.log"
        self.proc = None
        self._log = None
        self.stopped = False  # stop() was called: the broker's exit is expected

    def env(self, **extra):
        return clean_env(FLUX_URI=self.uri, **extra)

    def run(self, *args, timeout=CMD_TIMEOUT, input=None, env=None):
        """Run `flux ARGS...` inside the instance."""
        return subprocess.run(
            [FLUX, *map(str, args)],
            env=env if env is not None else self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )

    def popen(self, *args, **kw):
        """Start `flux ARGS...` inside the instance in the background."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("text", True)
        kw.setdefault("env", self.env())
        return subprocess.Popen([FLUX, *map(str, args)], **kw)

    def broker_log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self):
        self.base.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        args = [FLUX, "start", "-Sbroker.rc2_none=1", f"-Srundir={self.rundir}"]
        if self.statedir is not None:
            args.append(f"-Sstatedir={self.statedir}")
        args.extend(self.broker_args)
        self.proc = subprocess.Popen(
            args,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_DEADLINE
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"broker exited with {self.proc.returncode} during startup:\n"
                    + self.broker_log()
                )
            if self.sock.exists():
                remaining = max(0.5, deadline - time.monotonic())
                try:
                    last = self.run("getattr", "rank", timeout=remaining)
                except subprocess.TimeoutExpired:
                    break
                if last.returncode == 0 and last.stdout.strip() == "0":
                    wait_until_running(self)  # rc1 (which loads the KVS) is done
                    return
            time.sleep(POLL)
        self.kill()
        detail = f"\nlast getattr: rc={last.returncode} {last.stderr}" if last else ""
        pytest.fail(
            f"broker not ready within {START_DEADLINE}s{detail}\nbroker log:\n" + self.broker_log()
        )

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=SHUTDOWN_TIMEOUT)
        if self._log:
            self._log.close()
            self._log = None

    def stop(self):
        """flux shutdown, then wait for the broker to exit; fail if it won't.
        Returns the broker's exit code."""
        self.stopped = True
        if self.proc is None or self.proc.poll() is not None:
            if self._log:
                self._log.close()
                self._log = None
            return self.proc.returncode if self.proc else None
        try:
            self.run("shutdown", timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        try:
            rc = self.proc.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(
                f"broker did not exit within {SHUTDOWN_TIMEOUT}s of flux shutdown\n"
                + self.broker_log()
            )
        if self._log:
            self._log.close()
            self._log = None
        return rc


@contextlib.contextmanager
def state_instance(base, statedir, broker_args=()):
    """A broker keeping its content in statedir, stopped (or killed) at the end."""
    inst = Instance(base, statedir, broker_args)
    inst.start()
    try:
        yield inst
    finally:
        if inst.proc.poll() is None:
            inst.stop()
        inst.kill()


@pytest.fixture
def workdir(tmp_path):
    """A directory short enough for run directories (UNIX socket paths)."""
    base, cleanup = short_dir(tmp_path)
    if cleanup is None:
        base = pathlib.Path(tempfile.mkdtemp(prefix="fxwd", dir=base))
    yield base
    shutil.rmtree(cleanup or base, ignore_errors=True)


@pytest.fixture
def instance(tmp_path):
    base, cleanup = short_dir(tmp_path)
    inst = Instance(base)
    inst.start()
    try:
        yield inst
        crashed = None if inst.stopped else inst.proc.poll()
        rc = inst.stop()
        if crashed is not None:
            pytest.fail(f"broker exited during the test (rc={crashed}):\n" + inst.broker_log())
        if rc not in (0, None):
            pytest.fail(f"broker exited with {rc} after flux shutdown:\n" + inst.broker_log())
    finally:
        inst.kill()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


@pytest.fixture
def echo_module():
    if not os.path.exists(ECHO_MODULE):
        pytest.fail(f"{ECHO_MODULE} is not built (target 'echo')")
    return ECHO_MODULE


# The modules the KVS needs, in load order (removed in reverse).
KVS_MODULES = ["content", "content-sqlite", "kvs", "kvs-watch"]


def loaded_modules(inst):
    """Names of the modules `flux module list` shows."""
    r = inst.run("module", "list")
    assert r.returncode == 0, f"flux module list failed: {r.stderr}"
    return {line.split()[0] for line in r.stdout.splitlines()[1:] if line.strip()}


def wait_until_running(inst):
    """Wait for the broker's run state, i.e. for rc1 to have finished."""
    import fluxmsg  # beside this file; imported here so conftest loads without it

    with fluxmsg.Client(inst.sock, timeout=START_DEADLINE) as c:
        r = c.rpc("state-machine.wait")
        assert r.errnum == 0, f"state-machine.wait failed: errno {r.errnum}"


@pytest.fixture
def kvs_instance(instance):
    """`instance` with the KVS modules loaded. rc1 may load them already (it
    runs before the broker enters the run state, so wait for that first);
    only the modules this fixture loaded are removed, in reverse order,
    before the instance shuts down."""
    wait_until_running(instance)
    present = loaded_modules(instance)
    added = []
    for mod in KVS_MODULES:
        if mod in present:
            continue
        r = instance.run("module", "load", mod)
        if r.returncode != 0:
            pytest.fail(f"flux module load {mod} failed: {r.stderr}\n" + instance.broker_log())
        added.append(mod)
    yield instance
    if instance.stopped or instance.proc.poll() is not None:
        return
    for mod in reversed(added):
        r = instance.run("module", "remove", mod)
        if r.returncode != 0:
            pytest.fail(f"flux module remove {mod} failed: {r.stderr}\n" + instance.broker_log())
