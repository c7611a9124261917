"""Job terminals (the pty shell option) and interactive attach: real
commands under a real pseudo-terminal made here (pty.fork), talking to a
real instance's job shell."""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import termios
import time

from conftest import FLUX, wait_until_running

TIMEOUT = 60.0


class Terminal:
    """`flux ARGS...` on a pseudo-terminal of rows x cols: type into it,
    read what it shows, wait for it."""

    def __init__(self, instance, *args, rows=24, cols=80, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes flux on the terminal
            try:
                os.execve(FLUX, [FLUX, *args], env or instance.env(SHELL="/bin/sh", PS1="$ "))
            finally:
                os._exit(127)
        self.resize(rows, cols)
        self.out = b""
        self.status = None

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def read_until(self, pattern, start=0, timeout=TIMEOUT):
        """Read until the output from start on matches pattern (bytes
        regex); the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.compile(pattern).search(self.out, start)
            if m:
                return m
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} in {self.out!r}"
            r, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:  # EIO: the other side has closed
                    data = b""
                assert data, f"terminal closed before {pattern!r}: {self.out!r}"
                self.out += data

    def wait(self, timeout=TIMEOUT):
        """Read everything until the command exits; its exit code."""
        deadline = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                self.out += data
                if not data:
                    break
            elif os.waitpid(self.pid, os.WNOHANG)[0]:
                self.pid = None
                break
            assert time.monotonic() < deadline, f"still running: {self.out!r}"
        return self._reap()

    def _reap(self):
        if self.pid is not None:
            _, st = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(st)
            self.pid = None
        os.close(self.fd)
        return self.status

    def close(self):
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self._reap()


def test_pty_option_gives_tasks_a_terminal(instance):
    wait_until_running(instance)
    r = instance.run("run", "-o", "pty", "tty")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"/dev/pts/\d+\n", r.stdout), r.stdout  # (text mode: \r\n read as \n)
    # Without it, no terminal.
    r = instance.run("run", "tty")
    assert r.stdout == "not a tty\n"
    # pty.ranks: only those tasks; stderr goes through the terminal too.
    r = instance.run("run", "-n2", "-o", "pty.ranks=1", "sh", "-c",
                     'test -t 0 && echo "$FLUX_TASK_RANK tty" >&2; echo done')
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["1", "done", "done", "tty"]
    # A malformed option is the shell's clear error, not a hang.
    r = instance.run("run", "-o", "pty.bogus=1", "true")
    assert r.returncode != 0
    assert "pty: unknown option 'bogus'" in r.stderr


def test_interactive_alloc_runs_a_shell_on_a_terminal(instance):
    wait_until_running(instance)
    t = Terminal(instance, "alloc", "-N1")
    try:
        t.read_until(rb"\$ ")
        t.type("tty; echo $((6*7)); stty size; exit 3\r")
        assert t.wait() == 3
    finally:
        t.close()
    text = t.out.decode(errors="replace")
    assert re.search(r"/dev/pts/\d+\r\n42\r\n24 80\r\n", text), text


def test_interactive_job_sees_resize_and_detach_leaves_it_running(instance):
    wait_until_running(instance)
    t = Terminal(instance, "run", "-o", "pty.interactive", "sh", rows=20, cols=70)
    try:
        t.read_until(rb"\$ ")
        t.type("stty size\r")
        t.read_until(rb"20 70\r\n")
        # The window grows: SIGWINCH reaches flux run, which tells the job.
        # (The resize and the next keys travel separately: ask until it shows.)
        t.resize(30, 100)
        deadline = time.monotonic() + TIMEOUT
        while True:
            start = len(t.out)
            t.type("stty size\r")
            # (the echo and the prompt may come in either order)
            if t.read_until(rb"(\d+ \d+)\r\n", start).group(1) == b"30 100":
                break
            assert time.monotonic() < deadline, t.out
        # Ctrl-\ detaches; the job goes on.
        t.type(b"\x1c")
        assert t.wait() == 0
        assert b"detached from" in t.out
    finally:
        t.close()
    r = instance.run("jobs", "-no", "{state}")
    assert r.stdout.split() == ["RUN"]
    jobid = instance.run("jobs", "-no", "{id}").stdout.strip()
    assert instance.run("cancel", jobid).returncode == 0
    assert instance.run("job", "wait-event", "-t", "30", jobid, "clean").returncode == 0


def test_alloc_asks_for_terminals_only_where_flux_core_does(instance):
    wait_until_running(instance)

    def pty_option(*args):
        r = instance.run("alloc", "--dry-run", *args)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["attributes"]["system"]["shell"]["options"].get("pty")

    # stdin is not a terminal here: no pty; --bg: captured, not interactive
    assert pty_option("-N1", "true") is None
    assert pty_option("--bg", "-N1") == {"capture": 1}
    t = Terminal(instance, "alloc", "--dry-run", "-N1", "true")
    try:
        assert t.wait() == 0
    finally:
        t.close()
    assert json.loads(t.out.decode())["attributes"]["system"]["shell"]["options"]["pty"] == {
        "interactive": 1}


def test_shell_service_requests_are_checked(instance):
    # Bad requests to a job shell's service (terminals, stdin) get errors;
    # the job lives on.
    wait_until_running(instance)
    r = instance.run("submit", "-o", "pty", "sleep", "30")
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    assert instance.run("job", "wait-event", "-t", "30", jobid, "start").returncode == 0
    r = instance.run("python", "-c", f"""
import errno, os, flux
from flux.job import JobID
h = flux.Flux()
jid = JobID("{jobid}")
svc = f"{{os.getuid()}}-shell-{{jid.f58plain}}.terminus"
for topic, payload in [(svc + ".0", {{}}), (svc + ".0", {{"type": "bogus"}}),
                       (svc + ".0", {{"type": "data", "data": "x"}}),
                       (svc + ".0", {{"type": "attach", "mode": "xx"}}),
                       (svc + ".0", {{"type": "attach", "mode": "rw", "winsize": {{"rows": -1, "cols": 5}}}}),
                       (svc + ".7", {{"type": "detach"}}),
                       (svc[:-9] + ".stdin", {{"stream": "stdout", "rank": "0", "data": "x"}}),
                       (svc[:-9] + ".stdin", {{"stream": "stdin", "rank": "x", "data": "x"}}),
                       (svc[:-9] + ".stdin", {{"stream": "stdin", "rank": "0", "data": 5}}),
                       (svc[:-9] + ".stdin", {{"stream": "stdin", "rank": "all", "data": "ok"}})]:
    try:
        h.rpc(topic, payload).get()
        print("ok")
    except OSError as e:
        print(errno.errorcode[e.errno])
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["EPROTO", "ENOENT", "ENOENT", "EPROTO", "EINVAL", "ENOSYS",
                                "EPROTO", "EPROTO", "EPROTO", "EPIPE"]  # submit: stdin is /dev/null
    assert instance.run("jobs", "-no", "{state}", jobid).stdout.strip() == "RUN"
    instance.run("cancel", jobid)
    assert instance.run("job", "wait-event", "-t", "30", jobid, "clean").returncode == 0


def test_eventlog_follow_prints_until_the_job_ends(instance):
    wait_until_running(instance)
    r = instance.run("submit", "sh", "-c", "echo one; flux job wait-event -t 30 $FLUX_JOB_ID memo"
                     " >/dev/null; echo two")
    jobid = r.stdout.strip()
    p = instance.popen("job", "eventlog", "-F", "-p", "guest.output", jobid)
    try:
        # The memo lets the job finish only once we follow it.
        assert instance.run("job", "wait-event", "-t", "30", "-p", "guest.output", "-m",
                            "data=one\n", jobid, "data").returncode == 0
        assert instance.run("job", "memo", jobid, "go=1").returncode == 0
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 0, err
    names = [line.split()[1] for line in out.splitlines()]
    assert names[0] == "header" and names.count("data") == 4, out  # two lines, two eofs
    assert "two" in out
