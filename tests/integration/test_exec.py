"""The broker's rexec service (raw RFC 3 requests through fluxmsg) and
`flux exec`, on real brokers: output, stdin, exit statuses, exec failures,
cwd and environment, process-group kills, disconnects and guest refusal.

Nothing here sleeps for a fixed time: every wait is for an event (a
response, a process leaving /proc) with a deadline.
"""

import errno
import os
import signal
import stat
import subprocess
import time

import pytest

import fluxmsg
from conftest import flux, wait_until_running

STREAMING = fluxmsg.F_STREAMING
ENODATA = 61
ENOENT = 2
EACCES = 13
EPERM = 1
EPROTO = 71
ESRCH = 3
FLAGS = 3  # forward stdout and stderr
DEADLINE = 20.0


def cmd(cmdline, cwd=None, env=None):
    c = {"cmdline": cmdline, "env": env or {}, "opts": {}, "channels": []}
    if cwd is not None:
        c["cwd"] = str(cwd)
    return c


def start(c, cmdline, tag=1, flags=FLAGS, **kw):
    c.send(fluxmsg.request("rexec.exec", {"cmd": cmd(cmdline, **kw), "flags": flags},
                           matchtag=tag, flags=STREAMING))


class Result:
    def __init__(self):
        self.pid = None
        self.out = {"stdout": b"", "stderr": b""}
        self.eof = {"stdout": False, "stderr": False}
        self.status = None
        self.errnum = 0
        self.error = ""
        self.types = []  # response types in order, then "ENODATA"


def decode_io(io):
    data = io.get("data", "")
    if io.get("encoding") == "base64":
        import base64

        return base64.b64decode(data)
    return data.encode()


def collect(c, tag=1, timeout=DEADLINE, on_started=None, pid=None):
    """Read one exec stream (matchtag tag) to its end; pid: its "started"
    response was read already."""
    r = Result()
    if pid is not None:
        r.pid = pid
        r.types.append("started")
    deadline = time.monotonic() + timeout
    while True:
        m = c.recv(timeout=max(0.1, deadline - time.monotonic()))
        if m.matchtag != tag:
            continue
        if m.errnum:
            r.errnum = m.errnum
            r.error = m.string()
            r.types.append("ENODATA" if m.errnum == ENODATA else "error")
            return r
        p = m.json()
        r.types.append(p["type"])
        if p["type"] == "started":
            r.pid = p["pid"]
            if on_started:
                on_started(r)
        elif p["type"] == "output":
            io = p["io"]
            assert r.types[0] == "started"
            assert not r.eof[io["stream"]], "output after EOF"
            r.out[io["stream"]] += decode_io(io)
            if io.get("eof"):
                r.eof[io["stream"]] = True
        elif p["type"] == "finished":
            r.status = p["status"]


def run(inst, cmdline, **kw):
    with fluxmsg.Client(inst.sock) as c:
        start(c, cmdline, **kw)
        return collect(c)


def gone(pid):
    """True if pid no longer runs (absent, or a zombie awaiting its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # it went while we read
        return True


def wait_gone(pids, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(gone(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


def broker_pid(inst):
    r = inst.run("getattr", "broker.pid")
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def zombie_children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            out.append(int(d))
    return out


def rpc(c, topic, payload, tag=100, **kw):
    c.send(fluxmsg.request(topic, payload, matchtag=tag, **kw))
    deadline = time.monotonic() + DEADLINE
    while True:
        m = c.recv(timeout=max(0.1, deadline - time.monotonic()))
        if m.matchtag == tag:
            return m


# --- the rexec service ------------------------------------------------------


def test_output_status_and_order(instance):
    r = run(instance, ["sh", "-c", "echo hi; echo oops >&2; exit 3"])
    assert r.errnum == ENODATA
    assert r.out == {"stdout": b"hi\n", "stderr": b"oops\n"}
    assert r.eof == {"stdout": True, "stderr": True}
    assert r.status == 3 << 8
    assert r.types[0] == "started" and r.types[-2:] == ["finished", "ENODATA"]
    assert r.pid > 0
    assert not zombie_children(broker_pid(instance))


def test_signaled_status(instance):
    r = run(instance, ["sh", "-c", "kill -9 $$"])
    assert r.status == 9  # WIFSIGNALED, WTERMSIG 9


def test_one_megabyte_and_binary(instance, tmp_path):
    blob = os.urandom(1 << 20)
    path = tmp_path / "blob"
    path.write_bytes(blob)
    r = run(instance, ["cat", str(path)])
    assert r.status == 0
    assert r.out["stdout"] == blob
    text = "".join(f"line {i} ünïcödé €\n" for i in range(60000)).encode()
    path.write_bytes(text)
    r = run(instance, ["cat", str(path)])
    assert len(text) > 1 << 20
    assert r.out["stdout"] == text


def test_interleaved_stdout_stderr(instance):
    script = "i=0; while [ $i -lt 3000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"
    r = run(instance, ["sh", "-c", script])
    assert r.status == 0
    assert r.out["stdout"].decode().split() == [f"out{i}" for i in range(3000)]
    assert r.out["stderr"].decode().split() == [f"err{i}" for i in range(3000)]


def test_stdin_by_pid_and_by_matchtag(instance):
    chunk = "".join(f"{i:07d}\n" for i in range(16384))  # 128 KiB
    with fluxmsg.Client(instance.sock) as c:
        start(c, ["cat"], tag=7)

        def feed(r):
            # flux-core's form: the exec request's matchtag and an io object
            c.send(fluxmsg.request("rexec.write", {
                "matchtag": 7, "io": {"stream": "stdin", "rank": "0", "data": chunk}},
                flags=fluxmsg.F_NORESPONSE))
            # the pid form, answered with {}
            c.send(fluxmsg.request("rexec.write", {
                "pid": r.pid, "stream": "stdin", "data": "end\n", "eof": True}, matchtag=8))

        r = collect(c, tag=7, on_started=feed)
    assert r.status == 0
    assert r.out["stdout"].decode() == chunk + "end\n"


def test_cwd_and_env(instance, tmp_path):
    env = {"PATH": os.environ["PATH"], "FOO": "bar baz"}
    r = run(instance, ["sh", "-c", 'pwd; echo "$FOO"; echo "$FLUX_URI"'], cwd=tmp_path, env=env)
    assert r.status == 0
    assert r.out["stdout"].decode().splitlines() == [
        str(tmp_path.resolve()), "bar baz", instance.uri]


def test_default_env_is_the_brokers(instance):
    r = run(instance, ["sh", "-c", 'echo "$FLUX_URI"; command -v flux'])
    assert r.status == 0
    uri, flux = r.out["stdout"].decode().splitlines()
    assert uri == instance.uri and flux.endswith("/bin/flux")


def test_exec_failures(instance, tmp_path):
    r = run(instance, ["no-such-command-xyz"])
    assert r.errnum == ENOENT and r.types == ["error"]
    assert r.error == "no-such-command-xyz: No such file or directory"
    script = tmp_path / "noexec.sh"
    script.write_text("#!/bin/sh\necho no\n")
    script.chmod(stat.S_IRUSR | stat.S_IWUSR)
    r = run(instance, [str(script)])
    assert r.errnum == EACCES and "Permission denied" in r.error
    r = run(instance, ["true"], cwd=tmp_path / "missing")
    assert r.errnum == ENOENT and "missing" in r.error
    assert not zombie_children(broker_pid(instance))


def test_kill_signals_the_process_group(instance):
    with fluxmsg.Client(instance.sock) as c:
        start(c, ["sh", "-c", "sleep 300 & echo $!; wait"], tag=3)
        first = [None]
        pid = None
        while first[0] is None:
            m = c.recv(timeout=DEADLINE)
            p = m.json()
            if p["type"] == "started":
                pid = p["pid"]
            elif p["type"] == "output" and p["io"].get("data"):
                first[0] = int(p["io"]["data"])
        sleep_pid = first[0]
        assert not gone(sleep_pid)
        m = rpc(c, "rexec.kill", {"pid": pid, "signum": signal.SIGTERM})
        assert m.errnum == 0 and m.json() == {}
        r = collect(c, tag=3, pid=pid)
    assert r.status == signal.SIGTERM
    assert wait_gone([pid, sleep_pid])


def test_kill_unknown_pid(instance):
    with fluxmsg.Client(instance.sock) as c:
        m = rpc(c, "rexec.kill", {"pid": 999999, "signum": 15})
        assert m.errnum == ESRCH


def test_list_and_disconnect(instance):
    with fluxmsg.Client(instance.sock) as c:
        start(c, ["sh", "-c", "sleep 300 & echo $!; wait"], tag=4)
        pid = sleep_pid = None
        while sleep_pid is None:
            p = c.recv(timeout=DEADLINE).json()
            if p["type"] == "started":
                pid = p["pid"]
            elif p["type"] == "output" and p["io"].get("data"):
                sleep_pid = int(p["io"]["data"])
        with fluxmsg.Client(instance.sock) as other:
            m = rpc(other, "rexec.list", {})
            procs = m.json()["procs"]
            assert m.json()["rank"] == 0
            assert [(p["pid"], p["cmdline"][0], p["state"]) for p in procs] == [(pid, "sh", "R")]
            assert procs[0]["sender"]
    # the client is gone: its process group is killed and reaped
    assert wait_gone([pid, sleep_pid])
    with fluxmsg.Client(instance.sock) as c:
        deadline = time.monotonic() + DEADLINE
        while rpc(c, "rexec.list", {}).json()["procs"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rpc(c, "rexec.list", {}).json()["procs"] == []
    assert not zombie_children(broker_pid(instance))


@pytest.mark.parametrize("topic,payload", [
    ("rexec.exec", {"cmd": cmd(["true"]), "flags": FLAGS}),
    ("rexec.write", {"pid": 1, "stream": "stdin", "data": "x"}),
    ("rexec.kill", {"pid": 1, "signum": 9}),
    ("rexec.list", {}),
])
def test_guests_are_refused(instance, topic, payload):
    with fluxmsg.Client(instance.sock) as c:
        m = fluxmsg.request(topic, payload, matchtag=9,
                            flags=STREAMING if topic == "rexec.exec" else 0)
        m.userid = os.getuid() + 1
        m.rolemask = 2  # user, not owner
        c.send(m)
        r = c.recv(timeout=DEADLINE)
        assert r.errnum == EPERM, r


def test_non_streaming_exec_is_background_mode(instance):
    """RFC 42: a non-streaming exec answers once (started) and the process
    runs on; the waitable flag is refused for a streaming one."""
    with fluxmsg.Client(instance.sock) as c:
        m = rpc(c, "rexec.exec", {"cmd": cmd(["true"]), "flags": FLAGS})
        assert m.errnum == 0 and m.json()["type"] == "started"
        m = rpc(c, "rexec.exec", {"cmd": cmd(["true"]), "flags": FLAGS | 16}, flags=STREAMING)
        assert m.errnum == errno.EINVAL
        assert b"only supported in background mode" in m.payload


# --- flux exec ----------------------------------------------------------------


def readline(proc, timeout=DEADLINE):
    """One line of a Popen's stdout, within timeout."""
    import select

    r, _, _ = select.select([proc.stdout], [], [], timeout)
    assert r, "no output in time"
    return proc.stdout.readline()


def test_flux_exec_output(instance, tmp_path):
    text = "".join(f"line {i} ü€\n" for i in range(80000))  # > 1 MB
    path = tmp_path / "text"
    path.write_text(text)
    r = instance.run("exec", "cat", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == text
    script = "i=0; while [ $i -lt 2000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"
    r = instance.run("exec", "sh", "-c", script)
    assert r.returncode == 0
    assert r.stdout.split() == [f"out{i}" for i in range(2000)]
    assert r.stderr.split() == [f"err{i}" for i in range(2000)]


def test_flux_exec_label_io(instance):
    r = instance.run("exec", "-l", "sh", "-c", "echo a; echo b >&2; printf c")
    assert r.returncode == 0
    assert r.stdout == "0: a\n0: c"  # a last line without newline stays so (flux-core)
    assert r.stderr == "0: b\n"


def test_flux_exec_stdin(instance):
    data = "".join(f"{i}\n" for i in range(50000))
    r = instance.run("exec", "cat", input=data)
    assert r.returncode == 0 and r.stdout == data
    r = instance.run("exec", "-n", "cat", input="ignored\n")
    assert r.returncode == 0 and r.stdout == ""


@pytest.mark.parametrize("args,code", [
    (["true"], 0),
    (["sh", "-c", "exit 3"], 3),
    (["sh", "-c", "kill -TERM $$"], 128 + signal.SIGTERM),
    (["no-such-command-xyz"], 127),
    (["/etc/passwd"], 126),
])
def test_flux_exec_exit_codes(instance, args, code):
    r = instance.run("exec", *args)
    assert r.returncode == code, r.stderr
    if code == 127:
        assert ("no-such-command-xyz: error launching process: No such file or directory"
                in r.stderr)
    if code == 126:
        assert "Permission denied" in r.stderr


def test_flux_exec_cwd_and_env(instance, tmp_path):
    r = instance.run("exec", "-d", tmp_path, "--setenv=FOO=bar baz", "--setenv", "X=1",
                     "sh", "-c", 'pwd; echo "$FOO"; echo "$X"; echo "$MINE"',
                     env=instance.env(MINE="passed"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [str(tmp_path.resolve()), "bar baz", "1", "passed"]
    # by default the command runs in our working directory
    r = subprocess_run_in(instance, tmp_path, "exec", "pwd")
    assert r.stdout.strip() == str(tmp_path.resolve())


def subprocess_run_in(inst, cwd, *args):
    from conftest import flux, FLUX

    return subprocess.run([FLUX, *map(str, args)], env=inst.env(), cwd=cwd,
                          capture_output=True, text=True, timeout=DEADLINE)


def test_flux_exec_bad_rank(instance):
    r = instance.run("exec", "-r", "1", "true")
    assert r.returncode == 68
    assert "rank 1" in r.stderr
    r = instance.run("exec", "-r", "0", "true")
    assert r.returncode == 0


def test_flux_exec_forwards_sigterm(instance):
    p = instance.popen("exec", "sh", "-c", "sleep 300 & echo $!; wait", stdin=subprocess.PIPE)
    try:
        sleep_pid = int(readline(p))
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=DEADLINE) == 128 + signal.SIGTERM
        assert wait_gone([sleep_pid])
    finally:
        p.kill()
        p.wait()


def test_flux_exec_killed_client_kills_processes(instance):
    p = instance.popen("exec", "sh", "-c", "echo $$; sleep 300", stdin=subprocess.PIPE)
    try:
        pid = int(readline(p))
        p.kill()
        p.wait(timeout=DEADLINE)
        assert wait_gone([pid])
    finally:
        p.kill()
        p.wait()


def test_flux_exec_exclude_dir_none_and_failure_summary(tmp_path):
    """-x drops ranks, -d none leaves the broker's directory, and the ranks
    that failed are summed up by how, as flux-core prints them."""
    script = (
        "flux exec -x 1 flux getattr rank && "
        f"cd {tmp_path} && flux exec -r 0 -d none pwd; "
        "flux exec sh -c 'exit 2'; echo rc=$?; "
        "flux exec -r 1 sh -c 'kill -SEGV $$'; echo rc=$?; "
        "flux exec --setopt=stdin_BUFSIZE=4096 -r 0 true"
    )
    r = flux("start", "--test-size=3", script, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert sorted(out[:2]) == ["0", "2"]
    assert out[2] != str(tmp_path)
    assert "rc=2" in out and "rc=139" in out
    assert "[0-2]: Exit 2" in r.stderr
    assert "[1]: Segmentation fault" in r.stderr


def test_background_processes_wait_kill_attach(instance):
    """--bg (RANK: PID, output and exit in the log), --waitable zombies
    collected once by flux sproc wait, labels, kill by label with --wait,
    and --attach following a background process to its exit status."""
    inst = instance
    wait_until_running(inst)

    def ok(*args, code=0):
        r = inst.run(*args)
        assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        return r

    r = ok("exec", "-r", "0", "--bg", "--waitable", "sh", "-c", "echo out; echo err >&2; exit 3")
    rank, pid = r.stdout.strip().split(": ")
    assert rank == "0" and int(pid) > 0
    assert ok("sproc", "wait", pid, code=3).stdout == ""
    ok("sproc", "wait", pid, code=1)  # collected already
    log = ok("dmesg").stdout
    assert f"rexec.info[0]: sh[{pid}]: out" in log
    assert f"rexec.info[0]: sh[{pid}]: err" in log
    assert f"rexec.info[0]: sh[{pid}]: Exit 3" in log

    ok("exec", "-r", "0", "--bg", "--waitable", "--label=sleeper", "sleep", "300")
    ps = ok("sproc", "ps").stdout.splitlines()
    assert ps[0].split() == ["PID", "ST", "LABEL", "COMMAND"]
    assert any(line.split()[1:] == ["R", "sleeper", "sleep"] for line in ps[1:]), ps
    ok("exec", "-r", "0", "--label=sleeper", "true", code=1)  # labels are unique
    ok("sproc", "wait", "nosuch", code=1)
    ok("sproc", "kill", "--wait", "15", "sleeper", code=143)
    assert "sleeper: sleep[" in ok("dmesg").stdout

    # Not waitable: nothing to wait for, and gone once it has exited.
    ok("exec", "-r", "0", "--bg", "--label=plain", "sleep", "300")
    ok("sproc", "wait", "plain", code=1)
    ok("sproc", "kill", "9", "plain")

    # Attach: the output from now on, then the exit status as ours.
    ok("exec", "-r", "0", "--bg", "--label=att", "sh", "-c", "sleep 1; echo late; exit 4")
    r = ok("exec", "-r", "0", "--attach", "att", code=4)
    assert r.stdout == "late\n"
    ok("exec", "-r", "0", "--attach", "att", code=127)  # gone
    # A waitable zombie is collected by an attach.
    ok("exec", "-r", "0", "--bg", "--waitable", "--label=z", "sh", "-c", "exit 7")
    deadline = time.monotonic() + 30
    while " Z " not in ok("sproc", "ps").stdout:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ok("exec", "-r", "0", "--attach", "z", code=7)
    ok("sproc", "wait", "z", code=1)

    # Usage errors as flux-core's.
    assert "--waitable can only be used with --bg" in ok("exec", "--waitable", "true", code=1).stderr
    assert "failed to set label" in ok("exec", "--label=", "true", code=1).stderr
    ok("exec", "--attach", "--bg", "x", code=1)
    ok("exec", "-r", "0", "--attach", "x", "y", code=1)
    ok("exec", "-r", "0", "--bg", "nosuchcommand", code=1)
    assert "nosuchcommand" not in ok("sproc", "ps").stdout
