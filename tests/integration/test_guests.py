"""Guests: other users connect to an instance that allows them
(access.allow-guest-user) and get flux-core's rights: their own jobs and
namespaces, read-only views of the instance, and EPERM for the rest.

test_relabelled_guest needs nothing special: the owner's connection may
speak for another user (as flux-core's FLUX_HANDLE_ROLEMASK), which is how a
guest's request looks to a service. The other tests run commands as real
second users, created here with useradd; they need root and say so when
skipped.
"""

import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile

import pytest

import fluxmsg
from conftest import FLUX, CMD_TIMEOUT, Instance, clean_env

GUEST = 4242
EPERM = 1
ENOENT = 2
OWNER_ONLY = "Request requires owner credentials"

# Topics a guest may not use at all (owner-only rows of the handler tables),
# with a payload that would otherwise be acceptable or at least parsed.
OWNER_TOPICS = [
    ("module.load", {"path": "/nonexistent.so", "args": []}),
    ("module.remove", {"name": "kvs"}),
    ("log.clear", {}),
    ("log.append", {}),
    ("shutdown.start", {"loglevel": 6}),
    ("attr.set", {"name": "log-level", "value": "3"}),
    ("attr.rm", {"name": "log-level"}),
    ("broker.getenv", {"names": ["PATH"]}),
    ("rexec.list", {}),
    ("content.load", {}),
    ("content.flush", {}),
    ("content-backing.info", {}),
    ("kvs.namespace-create", {"namespace": "g", "owner": GUEST, "flags": 0}),
    ("kvs.namespace-list", {}),
    ("kvs.dropcache", {}),
    ("job-manager.queue-enable", {"enable": False}),
    ("job-manager.submit", {"jobs": []}),
    ("job-manager.wait", {"id": 1}),
    ("resource.drain", {"targets": "0", "reason": "x"}),
    ("sched.free", {"id": 1}),
    ("job-exec.kill", {"id": 1}),
    ("overlay.disconnect-subtree", {"rank": 1}),
    ("kvs.stats-clear", {}),
]

# Topics open to guests (no EPERM from the table; each answers).
USER_TOPICS = [
    ("attr.get", {"name": "size"}),
    ("attr.list", {}),
    ("module.list", {}),
    ("state-machine.get", {}),
    ("overlay.health", {}),
    ("resource.status", {}),
    ("job-manager.queue-status", {}),
    ("job-list.list-attrs", {}),
    ("kvs.ping", {}),
    ("kvs.stats-get", {}),
]


def as_guest(topic, payload, matchtag, userid=GUEST):
    m = fluxmsg.request(topic, payload, matchtag=matchtag)
    m.userid = userid
    m.rolemask = 2  # FLUX_ROLE_USER
    return m


def test_relabelled_guest(instance):
    with fluxmsg.Client(instance.sock, timeout=10) as c:
        for tag, (topic, payload) in enumerate(OWNER_TOPICS, start=1):
            c.send(as_guest(topic, payload, tag))
            rep = c.recv(timeout=10)
            assert rep.errnum == EPERM, f"{topic}: errno {rep.errnum} {rep.string()!r}"
            assert rep.string() == OWNER_ONLY, f"{topic}: {rep.string()!r}"
        for tag, (topic, payload) in enumerate(USER_TOPICS, start=100):
            c.send(as_guest(topic, payload, tag))
            rep = c.recv(timeout=10)
            assert rep.errnum == 0, f"{topic}: errno {rep.errnum} {rep.string()!r}"
        # A guest publishes only its own events (USERID-*).
        c.send(as_guest("event.pub", {"topic": "heartbeat.pulse", "flags": 0}, 200))
        rep = c.recv(timeout=10)
        assert rep.errnum == EPERM, rep.string()
        c.send(as_guest("event.pub", {"topic": f"{GUEST}-news", "flags": 0}, 201))
        assert c.recv(timeout=10).errnum == 0
        # The broker is still whole.
        assert c.rpc("attr.get", {"name": "size"}).errnum == 0
    # The owner's own requests still work.
    r = instance.run("module", "list")
    assert r.returncode == 0 and "kvs" in r.stdout


def test_guests_refused_by_default(instance):
    """Without access.allow-guest-user the run directory stays 0700 and a
    connection from another uid is refused."""
    assert instance.rundir.stat().st_mode & 0o777 == 0o700
    assert (instance.sock.stat().st_mode & 0o777) == 0o777


def test_bad_access_config_is_an_error(workdir):
    conf = workdir / "conf.toml"
    conf.write_text("[access]\nallow-guest-users = true\n")
    r = subprocess.run([FLUX, "start", f"-o,--config-path={conf}", "true"], env=clean_env(),
                       capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode != 0
    assert "allow-guest-users" in r.stderr
    conf.write_text('[access]\nallow-guest-user = "yes"\n')
    r = subprocess.run([FLUX, "start", f"-o,--config-path={conf}", "true"], env=clean_env(),
                       capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode != 0
    assert "true or false" in r.stderr


# ---- real second users ------------------------------------------------------

USERS = ["fluxguest-a", "fluxguest-b"]


@pytest.fixture(scope="module")
def users():
    if os.geteuid() != 0:
        pytest.skip("the second-user tests need root (to create users with useradd and "
                    "run commands as them)")
    if not shutil.which("useradd") or not shutil.which("setpriv"):
        pytest.skip("the second-user tests need useradd and setpriv")
    made = []
    for name in USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", name], check=True, timeout=CMD_TIMEOUT)
            made.append(name)
    try:
        pws = [pwd.getpwnam(n) for n in USERS]
        # The build must be reachable by another user (a checkout in a 0700
        # directory, such as mktemp -d makes, is not).
        pw = pws[0]
        r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                            "--clear-groups", FLUX, "version"], capture_output=True, text=True,
                           timeout=CMD_TIMEOUT, cwd="/")
        if r.returncode != 0:
            pytest.skip("another user cannot run this build's flux (is the checkout in a "
                        f"private directory?): {r.stderr.strip()[:200]}")
        yield pws
    finally:
        for name in made:
            subprocess.run(["userdel", name], timeout=CMD_TIMEOUT)


class Guest:
    def __init__(self, inst, pw):
        self.inst = inst
        self.pw = pw
        self.uid = pw.pw_uid

    def run(self, *args, timeout=CMD_TIMEOUT):
        cmd = ["setpriv", f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}",
               "--clear-groups", FLUX, *map(str, args)]
        return subprocess.run(cmd, env=self.inst.env(HOME="/", USER=self.pw.pw_name),
                              capture_output=True, text=True, timeout=timeout, cwd="/")


@pytest.fixture
def shared(users):
    """An instance that lets guests in, in a directory they can traverse."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="fxg", dir="/tmp"))
    os.chmod(base, 0o711)
    conf = base / "conf.toml"
    conf.write_text("[access]\nallow-guest-user = true\n")
    inst = Instance(base, broker_args=[f"-o,--config-path={conf}"])
    inst.start()
    try:
        yield inst, [Guest(inst, pw) for pw in users]
        assert inst.proc.poll() is None, "broker died:\n" + inst.broker_log()
        assert inst.stop() in (0, None), inst.broker_log()
    finally:
        inst.kill()
        shutil.rmtree(base, ignore_errors=True)


def ok(r, what):
    assert r.returncode == 0, f"{what}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def refused(r, what, text="Request requires owner credentials"):
    """r failed with EPERM: the table's text, or strerror where the command
    prints that instead."""
    assert r.returncode != 0, f"{what} succeeded for a guest:\n{r.stdout}"
    assert text in r.stderr or "Operation not permitted" in r.stderr, f"{what}: {r.stderr!r}"


def test_guest_reads_but_does_not_manage(shared):
    inst, (a, _) = shared
    assert inst.rundir.stat().st_mode & 0o777 == 0o711
    ok(a.run("getattr", "size"), "getattr")
    ok(a.run("ping", "-c", "1", "kvs"), "ping kvs")
    ok(a.run("resource", "list"), "resource list")
    ok(a.run("queue", "status"), "queue status")
    assert "kvs" in ok(a.run("module", "list"), "module list")
    refused(a.run("module", "remove", "sched-simple"), "module remove")
    refused(a.run("dmesg"), "dmesg")
    refused(a.run("dmesg", "-C"), "dmesg -C")
    refused(a.run("setattr", "log-level", "3"), "setattr")
    refused(a.run("exec", "-r", "0", "true"), "exec")
    refused(a.run("queue", "stop"), "queue stop")
    refused(a.run("resource", "drain", "0"), "drain")
    refused(a.run("kvs", "namespace", "create", "mine"), "namespace create")
    refused(a.run("kvs", "get", "resource"), "kvs get in primary", text="guests")
    refused(a.run("shutdown"), "shutdown")
    # None of that hurt the instance.
    ok(inst.run("kvs", "put", "still=here"), "owner kvs put")
    assert ok(inst.run("kvs", "get", "still"), "owner kvs get").strip() == "here"


def test_guest_jobs_are_their_own(shared):
    inst, (a, b) = shared
    # A held job (guests may lower urgency to 0) stays pending.
    jid = ok(a.run("submit", "--urgency=0", "true"), "guest submit").strip()
    owner_jid = ok(inst.run("submit", "--urgency=0", "true"), "owner submit").strip()

    listed = ok(a.run("jobs", "-n", "-o", "{id.f58}"), "guest jobs")
    assert jid in listed and owner_jid not in listed
    all_b = ok(b.run("jobs", "-A", "-n", "-o", "{id.f58}"), "other guest jobs -A")
    assert jid not in all_b and owner_jid not in all_b
    owner_all = ok(inst.run("jobs", "-A", "-n", "-o", "{id.f58}"), "owner jobs -A")
    assert jid in owner_all and owner_jid in owner_all

    ok(a.run("job", "eventlog", jid), "own eventlog")
    refused(b.run("job", "eventlog", jid), "another's eventlog",
            text="access is restricted to job/instance owner")
    refused(b.run("cancel", jid), "cancel another's job", text="guests")
    refused(a.run("cancel", owner_jid), "cancel the owner's job", text="guests")
    refused(a.run("cancel", "--all", "--user=all"), "cancel everyone's", text="guests")
    refused(a.run("job", "urgency", jid, "31"), "urgency above default", text="guests")
    ok(a.run("cancel", jid), "cancel own job")
    ok(inst.run("job", "wait-event", "-t", "30", jid, "clean"), "guest job cleaned")
    ok(inst.run("cancel", owner_jid), "owner cancels own job")

    # A guest's job would have to run as the guest: without the IMP nothing
    # runs, and the job says why.
    r = a.run("run", "true", timeout=60)
    assert r.returncode != 0
    assert "IMP" in r.stderr, r.stderr
