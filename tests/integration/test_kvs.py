"""The KVS through its raw protocol (fluxmsg): kvs.commit / kvs.fence /
kvs.lookup / kvs.getroot / kvs.namespace-* and the kvs-watch.lookup stream,
with values as RFC 11 val treeobjs. See src/modules/kvs/README.md and
src/modules/kvs-watch/README.md.

Covers: concurrent appends, fence atomicity, watch ordering and modes,
guest access to namespaces (requests sent with another userid/rolemask,
which the broker allows the instance owner's connection), restart and
kill -9 durability on a statedir, bad input, symlinks across namespaces.

Every wait has a deadline; brokers are always shut down or killed.
"""

import base64
import hashlib
import os
import random
import select
import signal
import threading
import time

import pytest

import conftest
import fluxmsg

EPERM = 1
ENOENT = 2
EEXIST = 17
ENOTDIR = 20
EISDIR = 21
EINVAL = 22
ELOOP = 40
ENODATA = 61
EPROTO = 71
ENOTSUP = 95

ROLE_USER = 2
GUEST = 4242

# lookup / watch flags
READDIR = 1
READLINK = 2
WATCH = 4
WAITCREATE = 8
TREEOBJ = 16
UNIQ = 128
WATCH_APPEND = 256
# op flags
APPEND = 32

TIMEOUT = 20.0  # seconds for any one answer


# ---- helpers ---------------------------------------------------------------


class Client(fluxmsg.Client):
    """fluxmsg.Client that reads large messages in linear time (the base
    class grows a bytes buffer by concatenation, quadratic for 100 MB)."""

    def _read_exact(self, n):
        if len(self.buf) < n:
            buf = bytearray(self.buf)
            while len(buf) < n:
                chunk = self.sock.recv(max(65536, min(n - len(buf), 1 << 24)))
                if not chunk:
                    raise EOFError("connection closed by the broker")
                buf += chunk
            self.buf = bytes(buf)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def rpc(self, topic, payload=None, matchtag=1, timeout=TIMEOUT, **kw):
        self.send(fluxmsg.request(topic, payload if payload is not None else {},
                                  matchtag=matchtag, **kw))
        return self.recv(timeout=timeout)

    def pending(self, wait=0.0):
        """True if a message (or part of one) is waiting to be read."""
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)


def val(data):
    """An RFC 11 val treeobj holding data (bytes or str)."""
    if isinstance(data, str):
        data = data.encode()
    return {"ver": 1, "type": "val", "data": base64.b64encode(data).decode()}


def symlink(target, ns=None):
    data = {"target": target}
    if ns is not None:
        data["namespace"] = ns
    return {"ver": 1, "type": "symlink", "data": data}


def op(key, dirent, flags=0):
    return {"key": key, "flags": flags, "dirent": dirent}


def put(key, data, flags=0):
    return op(key, val(data), flags)


def commit_payload(ops, ns="primary", flags=0):
    return {"namespace": ns, "flags": flags, "ops": ops}


def lookup_payload(key, ns="primary", flags=0, **extra):
    return {"key": key, "namespace": ns, "flags": flags, **extra}


def ok(rep, what=""):
    """Assert rep is a successful response; return its JSON payload."""
    assert rep.type == fluxmsg.RESPONSE, f"{what}: not a response: {rep!r}"
    assert rep.errnum == 0, f"{what}: errno {rep.errnum}: {rep.string()}"
    return rep.json()


def err(rep, errnum, what="", need_message=True):
    """Assert rep failed with errnum (and, unless need_message is false, a
    non-empty message); return the message."""
    assert rep.type == fluxmsg.RESPONSE, f"{what}: not a response: {rep!r}"
    assert rep.errnum == errnum, (
        f"{what}: expected errno {errnum}, got {rep.errnum}: {rep.string()!r}")
    msg = rep.string()
    if need_message:
        assert msg.strip(), f"{what}: error {errnum} without a message"
    return msg


def commit(c, ops, ns="primary", flags=0, tag=1, timeout=TIMEOUT):
    return ok(c.rpc("kvs.commit", commit_payload(ops, ns, flags), matchtag=tag, timeout=timeout),
              f"commit {ops!r:.200}")


def value_of(treeobj):
    assert treeobj["type"] == "val", f"not a val: {treeobj!r:.200}"
    return base64.b64decode(treeobj["data"], validate=True)


def get(c, key, ns="primary", flags=0, timeout=TIMEOUT):
    """The value at key (bytes)."""
    rep = c.rpc("kvs.lookup", lookup_payload(key, ns, flags), timeout=timeout)
    return value_of(ok(rep, f"lookup {key}")["val"])


def unlink(key):
    return op(key, None)


def readdir(c, key, ns="primary"):
    """The names in directory key."""
    rep = c.rpc("kvs.lookup", lookup_payload(key, ns, 1))
    return list(ok(rep, f"readdir {key}")["val"]["data"].keys())


def getroot(c, ns="primary"):
    return ok(c.rpc("kvs.getroot", {"namespace": ns}), f"getroot {ns}")


def ns_create(c, name, owner, flags=0):
    ok(c.rpc("kvs.namespace-create", {"namespace": name, "owner": owner, "flags": flags}),
       f"namespace-create {name}")


def as_guest(topic, payload, matchtag=1, userid=GUEST, flags=0):
    """A request that the broker treats as coming from guest `userid`."""
    m = fluxmsg.request(topic, payload, matchtag=matchtag, flags=flags)
    m.userid = userid
    m.rolemask = ROLE_USER
    return m


def guest_rpc(c, topic, payload, userid=GUEST, matchtag=1):
    c.send(as_guest(topic, payload, matchtag=matchtag, userid=userid))
    return c.recv(timeout=TIMEOUT)


def watch_start(c, key, flags, ns="primary", tag=1):
    c.send(fluxmsg.request("kvs-watch.lookup", lookup_payload(key, ns, flags), matchtag=tag,
                           flags=fluxmsg.F_STREAMING))


def watch_sync(c, tag=999):
    """kvs-watch.ping on c: once answered, kvs-watch has taken every request
    c sent before it (messages from one connection arrive in order)."""
    rep = c.rpc("kvs-watch.ping", {}, matchtag=tag)
    ok(rep, "kvs-watch.ping")


def watch_next(c, tag=1, timeout=TIMEOUT):
    """The next response on the stream with matchtag tag."""
    rep = c.recv(timeout=timeout)
    assert rep.type == fluxmsg.RESPONSE and rep.matchtag == tag, f"unexpected {rep!r}"
    return rep


def watch_value(c, tag=1, timeout=TIMEOUT):
    rep = watch_next(c, tag, timeout)
    return value_of(ok(rep, "watch")["val"])


def assert_alive(inst, c=None):
    """The broker still runs and the kvs still answers."""
    assert inst.proc.poll() is None, "broker died:\n" + inst.broker_log()
    if c is None:
        with Client(inst.sock) as c2:
            getroot(c2)
    else:
        getroot(c)


# ---- 1. concurrent commits ---------------------------------------------------


def test_concurrent_appends_lose_nothing(kvs_instance):
    nclients, nlines = 8, 500
    errors = []

    def writer(k):
        try:
            with Client(kvs_instance.sock) as c:
                for i in range(nlines):
                    rep = c.rpc("kvs.commit", commit_payload([put("log", f"c{k}-{i:04d}\n",
                                                                  APPEND)]),
                                matchtag=i + 1)
                    if rep.errnum != 0 or rep.matchtag != i + 1:
                        errors.append(f"client {k} append {i}: {rep!r}")
                        return
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {k}: {e!r}")

    threads = [threading.Thread(target=writer, args=(k,), daemon=True) for k in range(nclients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a writer did not finish within 60 s"
    assert not errors, errors[:5]

    with Client(kvs_instance.sock) as c:
        data = get(c, "log").decode()
    lines = data.splitlines()
    assert len(lines) == nclients * nlines, f"{len(lines)} lines"
    assert data.endswith("\n")
    for k in range(nclients):
        mine = [ln for ln in lines if ln.startswith(f"c{k}-")]
        assert mine == [f"c{k}-{i:04d}" for i in range(nlines)], f"client {k}'s lines"


# ---- 2. fences -------------------------------------------------------------


def test_fence_is_atomic(kvs_instance):
    n = 4
    clients = [Client(kvs_instance.sock) for _ in range(n)]
    try:
        def fence(i):
            return {"name": "f1", "nprocs": n, "namespace": "primary", "flags": 0,
                    "ops": [put(f"fence.k{i}", f"v{i}")]}

        before = None
        for i in range(n - 1):
            c = clients[i]
            c.send(fluxmsg.request("kvs.fence", fence(i), matchtag=1))
            # getroot on the same connection is handled after the fence: its
            # answer proves the kvs has the fence, which must still wait.
            rep = c.rpc("kvs.getroot", {"namespace": "primary"}, matchtag=2)
            assert rep.matchtag == 2, f"fence member {i} answered early: {rep!r}"
            root = ok(rep)
            before = before or root
            assert root["rootseq"] == before["rootseq"], "a fence member was committed alone"
        with Client(kvs_instance.sock) as other:
            rep = other.rpc("kvs.lookup", lookup_payload("fence.k0"))
            err(rep, ENOENT, "a fence member's key before the fence completed")
        for i in range(n - 1):
            assert not clients[i].pending(0.1), f"fence member {i} answered before all arrived"

        clients[n - 1].send(fluxmsg.request("kvs.fence", fence(n - 1), matchtag=1))
        answers = [ok(c.recv(timeout=TIMEOUT), "fence") for c in clients]
        seqs = {a["rootseq"] for a in answers}
        refs = {a["rootref"] for a in answers}
        assert len(seqs) == 1 and len(refs) == 1, answers
        with Client(kvs_instance.sock) as c:
            for i in range(n):
                assert get(c, f"fence.k{i}") == f"v{i}".encode()
            # All four keys are in the one root the fence made.
            rootref = refs.pop()
            for i in range(n):
                rep = c.rpc("kvs.lookup", lookup_payload(f"fence.k{i}", rootref=rootref))
                assert value_of(ok(rep)["val"]) == f"v{i}".encode()
            # One new root, made from the four members together.
            assert seqs.pop() == before["rootseq"] + 1
            for i in range(n):
                rep = c.rpc("kvs.lookup", lookup_payload(f"fence.k{i}", rootref=before["rootref"]))
                err(rep, ENOENT, "a fence key in the root before the fence")
    finally:
        for c in clients:
            c.close()


def test_fence_nprocs_mismatch(kvs_instance):
    with Client(kvs_instance.sock) as a, Client(kvs_instance.sock) as b, \
            Client(kvs_instance.sock) as c:
        a.send(fluxmsg.request("kvs.fence", {"name": "f2", "nprocs": 2, "flags": 0,
                                             "ops": [put("f2.a", "a")]}, matchtag=1))
        rep = b.rpc("kvs.fence", {"name": "f2", "nprocs": 3, "flags": 0,
                                  "ops": [put("f2.b", "b")]})
        err(rep, EINVAL, "fence with mismatched nprocs")
        # The fence still completes with its right number of members.
        c.send(fluxmsg.request("kvs.fence", {"name": "f2", "nprocs": 2, "flags": 0,
                                             "ops": [put("f2.c", "c")]}, matchtag=1))
        ra, rc = ok(a.recv(timeout=TIMEOUT)), ok(c.recv(timeout=TIMEOUT))
        assert ra["rootseq"] == rc["rootseq"]
        assert get(b, "f2.a") == b"a" and get(b, "f2.c") == b"c"
        err(b.rpc("kvs.lookup", lookup_payload("f2.b")), ENOENT, "the refused member's key")


# ---- 3. watch ----------------------------------------------------------------


def _watch_all_versions(inst, key, flags, initial):
    with Client(inst.sock) as w, Client(inst.sock) as c:
        watch_start(w, key, flags)
        if initial is not None:
            assert watch_value(w) == initial
        else:
            watch_sync(w)
            assert not w.pending(0.05), "waitcreate answered before the key existed"
        for i in range(50):
            commit(c, [put(key, str(i))])
        commit(c, [put("unrelated", "x")])
        commit(c, [put(key, "end")])
        seen = []
        while True:
            v = watch_value(w).decode()
            seen.append(v)
            if v == "end" or len(seen) > 60:
                break
        assert seen == [str(i) for i in range(50)] + ["end"]


def test_watch_sees_every_version(kvs_instance):
    with Client(kvs_instance.sock) as c:
        commit(c, [put("w", "init")])
    _watch_all_versions(kvs_instance, "w", WATCH, b"init")


def test_watch_waitcreate_sees_every_version(kvs_instance):
    _watch_all_versions(kvs_instance, "wc", WATCH | WAITCREATE, None)


def test_watch_missing_key_without_waitcreate(kvs_instance):
    with Client(kvs_instance.sock) as w:
        watch_start(w, "nokey", WATCH)
        err(watch_next(w), ENOENT, "watch of a missing key")


def test_watch_uniq(kvs_instance):
    with Client(kvs_instance.sock) as w, Client(kvs_instance.sock) as c:
        commit(c, [put("u", "a")])
        watch_start(w, "u", WATCH | UNIQ, tag=1)
        watch_start(w, "u", WATCH, tag=2)  # the same without uniq, for contrast
        first = [w.recv(timeout=TIMEOUT) for _ in range(2)]
        assert {r.matchtag for r in first} == {1, 2}
        assert all(value_of(ok(r)["val"]) == b"a" for r in first)
        for v in ["a", "a", "b", "b", "c"]:
            commit(c, [put("u", v)])
        got = {1: [], 2: []}
        while got[1][-1:] != [b"c"] or got[2][-1:] != [b"c"]:
            rep = w.recv(timeout=TIMEOUT)
            got[rep.matchtag].append(value_of(ok(rep)["val"]))
        assert got[2] == [b"a", b"a", b"b", b"b", b"c"], "plain watch must see re-puts"
        assert got[1] == [b"b", b"c"], "uniq watch must suppress identical values"


def _watch_append(inst, create_by_append):
    with Client(inst.sock) as w, Client(inst.sock) as c:
        commit(c, [put("ap", "hello", APPEND if create_by_append else 0)])
        watch_start(w, "ap", WATCH | WATCH_APPEND)
        assert watch_value(w) == b"hello"
        chunks = [b" world", b"!", b"\x00bin\xff", b"x" * 5000]
        for ch in chunks:
            commit(c, [put("ap", ch, APPEND)])
        for ch in chunks:
            assert watch_value(w) == ch
        assert get(c, "ap") == b"hello" + b"".join(chunks)
        # Replacing the value (not appending) ends the stream.
        commit(c, [put("ap", "new")])
        err(watch_next(w), EINVAL, "append watch of a replaced value")


def test_watch_append(kvs_instance):
    """The key is created by an append op."""
    _watch_append(kvs_instance, True)


def test_watch_append_after_put(kvs_instance):
    """The key is created by a plain put of a small value, then appended to
    (the kvs turns the inline val into a valref on the first append)."""
    _watch_append(kvs_instance, False)


def test_watch_namespace_removed(kvs_instance):
    with Client(kvs_instance.sock) as w, Client(kvs_instance.sock) as c:
        ns_create(c, "wns", os.getuid())
        commit(c, [put("k", "v")], ns="wns")
        watch_start(w, "k", WATCH, ns="wns")
        assert watch_value(w) == b"v"
        ok(c.rpc("kvs.namespace-remove", {"namespace": "wns"}))
        err(watch_next(w), ENOTSUP, "watch in a removed namespace")


def test_watch_cancel(kvs_instance):
    with Client(kvs_instance.sock) as w, Client(kvs_instance.sock) as c:
        commit(c, [put("cw", "1")])
        watch_start(w, "cw", WATCH, tag=7)
        watch_start(w, "cw", WATCH, tag=8)
        first = [w.recv(timeout=TIMEOUT) for _ in range(2)]
        assert {r.matchtag for r in first} == {7, 8}
        for r in first:
            assert value_of(ok(r)["val"]) == b"1"
        w.send(fluxmsg.request("kvs-watch.cancel", {"matchtag": 7}, matchtag=0,
                               flags=fluxmsg.F_NORESPONSE))
        # The end of a cancelled stream: ENODATA (flux-core sends no message).
        err(watch_next(w, tag=7), ENODATA, "cancelled watch", need_message=False)
        # The other stream goes on.
        commit(c, [put("cw", "2")])
        assert watch_value(w, tag=8) == b"2"


# ---- 4. guests -------------------------------------------------------------


def test_guest_namespace_access(kvs_instance):
    with Client(kvs_instance.sock) as c:
        ns_create(c, "g1", GUEST)
        ns_create(c, "g2", GUEST + 1)
        commit(c, [put("secret", "s")])

        rep = guest_rpc(c, "kvs.commit", commit_payload([put("a", "guest")], ns="g1"))
        ok(rep, "guest commit in its namespace")
        rep = guest_rpc(c, "kvs.lookup", lookup_payload("a", ns="g1"))
        assert value_of(ok(rep, "guest lookup in its namespace")["val"]) == b"guest"
        assert get(c, "a", ns="g1") == b"guest"  # the owner sees it too
        ok(guest_rpc(c, "kvs.getroot", {"namespace": "g1"}), "guest getroot of g1")

        for ns in ["primary", "g2"]:
            err(guest_rpc(c, "kvs.commit", commit_payload([put("a", "x")], ns=ns)), EPERM,
                f"guest commit in {ns}")
            err(guest_rpc(c, "kvs.lookup", lookup_payload("secret", ns=ns)), EPERM,
                f"guest lookup in {ns}")
            err(guest_rpc(c, "kvs.getroot", {"namespace": ns}), EPERM, f"guest getroot of {ns}")
        err(guest_rpc(c, "kvs.fence", {"name": "gf", "nprocs": 1, "namespace": "primary",
                                       "flags": 0, "ops": [put("a", "x")]}),
            EPERM, "guest fence in primary")
        err(guest_rpc(c, "kvs.namespace-create",
                      {"namespace": "g3", "owner": GUEST, "flags": 0}),
            EPERM, "guest namespace-create")
        err(guest_rpc(c, "kvs.namespace-remove", {"namespace": "g1"}), EPERM,
            "guest namespace-remove")

        # Listing namespaces is the owner's, as in flux-core.
        err(guest_rpc(c, "kvs.namespace-list", {}), EPERM, "guest namespace-list")
        owner_list = ok(c.rpc("kvs.namespace-list", {}))["namespaces"]
        owners = {n["namespace"]: n["owner"] for n in owner_list}
        assert owners.get("g1") == GUEST and owners.get("g2") == GUEST + 1
        assert "primary" in owners
        # The guest's write did not leak into primary.
        err(c.rpc("kvs.lookup", lookup_payload("a")), ENOENT, "guest key in primary")


def test_guest_cannot_watch_others_namespaces(kvs_instance):
    """kvs-watch looks keys up with its own (owner) credentials, so it must
    check the requester's access itself."""
    with Client(kvs_instance.sock) as c:
        ns_create(c, "gw", GUEST)
        commit(c, [put("k", "mine")], ns="gw")
        commit(c, [put("secret", "s")])
        c.send(as_guest("kvs-watch.lookup", lookup_payload("k", ns="gw", flags=WATCH),
                        matchtag=1, flags=fluxmsg.F_STREAMING))
        assert value_of(ok(watch_next(c, tag=1), "guest watch in its namespace")["val"]) == b"mine"
        c.send(as_guest("kvs-watch.lookup", lookup_payload("secret", flags=WATCH),
                        matchtag=2, flags=fluxmsg.F_STREAMING))
        rep = watch_next(c, tag=2)
        err(rep, EPERM, "guest watch in primary")


def test_namespace_errors(kvs_instance):
    with Client(kvs_instance.sock) as c:
        ns_create(c, "dup", os.getuid())
        err(c.rpc("kvs.namespace-create", {"namespace": "dup", "owner": os.getuid(),
                                           "flags": 0}), EEXIST, "namespace-create twice")
        err(c.rpc("kvs.namespace-remove", {"namespace": "primary"}), ENOTSUP,
            "removing primary")
        ok(c.rpc("kvs.namespace-remove", {"namespace": "dup"}))
        err(c.rpc("kvs.getroot", {"namespace": "dup"}), ENOTSUP, "getroot of a removed namespace")
        err(c.rpc("kvs.lookup", lookup_payload("k", ns="dup")), ENOTSUP,
            "lookup in a removed namespace")
        # The name may be used again, starting empty.
        ns_create(c, "dup", os.getuid())
        assert getroot(c, "dup")["rootseq"] == 0


# ---- 5. restart --------------------------------------------------------------


def test_restart_keeps_every_key(workdir):
    statedir = workdir / "state"
    big = os.urandom(3 << 20)
    with conftest.state_instance(workdir / "a", statedir) as inst:
        with Client(inst.sock) as c:
            seq0 = getroot(c)["rootseq"]
            for i in range(100):
                r = commit(c, [put(f"r.k{i}", f"value {i}")], tag=i + 1)
                assert r["rootseq"] == seq0 + i + 1
            last = commit(c, [put("r.big", big)], timeout=60)
            assert last["rootseq"] == seq0 + 101
            root = getroot(c)
            assert root["rootseq"] == last["rootseq"]
        assert inst.stop() == 0, inst.broker_log()
    with conftest.state_instance(workdir / "b", statedir) as inst:
        with Client(inst.sock) as c:
            # Other services may commit on the way down and up (the
            # job-manager's checkpoint): the sequence only moves forward.
            root2 = getroot(c)
            assert root2["rootseq"] >= root["rootseq"] > 100
            for i in range(100):
                assert get(c, f"r.k{i}") == f"value {i}".encode()
            assert hashlib.sha1(get(c, "r.big")).digest() == hashlib.sha1(big).digest()
            r = commit(c, [put("r.after", "x")])
            assert r["rootseq"] == getroot(c)["rootseq"] > root2["rootseq"]


# ---- 6. kill -9 ----------------------------------------------------------------


def _write_until_killed(inst, start, acked, progress, stop):
    """Commit d.<i> for i = start, ... one at a time; append i to acked only
    once its response arrived. Ends when the connection breaks."""
    try:
        with Client(inst.sock) as c:
            i = start
            while not stop.is_set():
                rep = c.rpc("kvs.commit", commit_payload([put(f"d.{i}", f"value-{i}")]),
                            matchtag=i + 1)
                if rep.errnum != 0 or rep.matchtag != i + 1:
                    progress.append(f"commit d.{i}: {rep!r}")
                    return
                acked.append(i)
                i += 1
    except (EOFError, OSError, fluxmsg.ProtocolError):
        pass  # the broker was killed


def test_kill9_keeps_acknowledged_commits(workdir):
    statedir = workdir / "state"
    rng = random.Random(os.getpid())
    acked_all = []
    next_i = 0
    for rnd in range(5):
        with conftest.state_instance(workdir / f"r{rnd}", statedir) as inst:
            if acked_all:  # everything acknowledged before earlier kills is here
                with Client(inst.sock) as c:
                    for i in acked_all:
                        rep = c.rpc("kvs.lookup", lookup_payload(f"d.{i}"))
                        assert rep.errnum == 0, (
                            f"round {rnd}: acknowledged key d.{i} lost: {rep.string()}")
                        assert value_of(rep.json()["val"]) == f"value-{i}".encode()
            acked, problems, stop = [], [], threading.Event()
            t = threading.Thread(target=_write_until_killed,
                                 args=(inst, next_i, acked, problems, stop), daemon=True)
            t.start()
            target = 20 + rng.randrange(40)
            deadline = time.monotonic() + 30
            while len(acked) < target and t.is_alive():
                assert time.monotonic() < deadline, f"only {len(acked)} commits in 30 s"
                time.sleep(0.001)
            assert not problems, problems
            assert len(acked) >= target, "writer stopped early"
            time.sleep(rng.random() * 0.005)
            # `flux start` execs the broker: the pid is the broker's.
            assert os.readlink(f"/proc/{inst.proc.pid}/exe").endswith("flux-broker")
            os.kill(inst.proc.pid, signal.SIGKILL)
            inst.stopped = True
            inst.proc.wait(timeout=10)
            stop.set()
            t.join(timeout=10)
            assert not t.is_alive()
            assert not problems, problems
            acked_all.extend(acked)
            next_i = acked[-1] + 2  # the one in flight may or may not be there
    with conftest.state_instance(workdir / "final", statedir) as inst:
        with Client(inst.sock) as c:
            for i in acked_all:
                rep = c.rpc("kvs.lookup", lookup_payload(f"d.{i}"))
                assert rep.errnum == 0, f"acknowledged key d.{i} lost: {rep.string()}"
                assert value_of(rep.json()["val"]) == f"value-{i}".encode()
            assert getroot(c)["rootseq"] >= len(acked_all)


# ---- 7. bad input ------------------------------------------------------------


BLOBREF = "sha1-" + "0" * 40


@pytest.mark.parametrize("dirent, what", [
    ({"ver": 2, "type": "val", "data": ""}, "wrong ver"),
    ({"ver": 1, "type": "bogus", "data": ""}, "unknown type"),
    ({"ver": 1, "type": "val", "data": "!!not base64!!"}, "bad base64"),
    ({"ver": 1, "type": "val"}, "no data"),
    ({"ver": 1, "type": "dirref", "data": [BLOBREF, BLOBREF]}, "dirref with 2 refs"),
    ({"ver": 1, "type": "valref", "data": ["nonsense"]}, "valref with a bad blobref"),
    ({"ver": 1, "type": "symlink", "data": {"target": ""}}, "empty symlink target"),
    ({"ver": 1, "type": "dir", "data": {"x": {"ver": 1, "type": "bogus"}}}, "bad dir entry"),
    ("val", "not an object"),
])
def test_bad_treeobj_is_einval(kvs_instance, dirent, what):
    with Client(kvs_instance.sock) as c:
        seq = getroot(c)["rootseq"]
        rep = c.rpc("kvs.commit", commit_payload([put("good", "g"), op("bad", dirent)]))
        err(rep, EINVAL, what)
        # The commit is refused whole.
        err(c.rpc("kvs.lookup", lookup_payload("good")), ENOENT, "half of a refused commit")
        assert getroot(c)["rootseq"] == seq
        assert_alive(kvs_instance, c)


def test_bad_requests(kvs_instance):
    with Client(kvs_instance.sock) as c:
        err(c.rpc("kvs.commit", commit_payload([put("", "x")])), EINVAL, "empty key")
        err(c.rpc("kvs.commit", {"namespace": "primary", "flags": 0, "ops": "nope"}), EPROTO,
            "ops a string")
        err(c.rpc("kvs.commit", {"namespace": "primary", "flags": 0, "ops": {"k": 1}}), EPROTO,
            "ops an object")
        err(c.rpc("kvs.commit", {"namespace": "nosuchns", "flags": 0, "ops": []}), ENOTSUP,
            "commit to a missing namespace")
        # Garbage of other kinds: any error, with no crash.
        garbage = [
            ("kvs.commit", b"not json\0"),
            ("kvs.commit", {"flags": 0}),
            ("kvs.commit", {"ops": [{"key": 5, "dirent": None}]}),
            ("kvs.commit", {"ops": [{"key": "k"}]}),
            ("kvs.commit", {"ops": [42]}),
            ("kvs.lookup", b"\xff\xfe\0"),
            ("kvs.lookup", {"key": 7}),
            ("kvs.lookup", {"key": "k", "flags": "x"}),
            ("kvs.lookup", {"key": "k", "rootref": "sha1-zz"}),
            ("kvs.fence", {"ops": []}),
            ("kvs.fence", {"name": "z", "nprocs": 0, "ops": []}),
            ("kvs.fence", {"name": "z", "nprocs": "2", "ops": []}),
            ("kvs.getroot", {"namespace": 3}),
            ("kvs.namespace-create", {"namespace": ""}),
            ("kvs.namespace-create", {"owner": 1}),
            ("kvs.namespace-remove", {}),
        ]
        for i, (topic, payload) in enumerate(garbage):
            rep = c.rpc(topic, payload, matchtag=100 + i)
            assert rep.matchtag == 100 + i
            assert rep.errnum != 0, f"{topic} {payload!r} succeeded: {rep.json()}"
            assert rep.string().strip(), f"{topic} {payload!r}: error without a message"
        c.send(fluxmsg.request("kvs-watch.lookup", {"key": "k"}, matchtag=200))
        assert c.recv(timeout=TIMEOUT).errnum == EPROTO  # not streaming
        assert_alive(kvs_instance, c)


def test_lookup_errors(kvs_instance):
    with Client(kvs_instance.sock) as c:
        commit(c, [put("e.val", "v"), put("e.dir.x", "1"),
                   op("e.l1", symlink("e.l2")), op("e.l2", symlink("e.l1")),
                   op("e.self", symlink("e.self"))])
        err(c.rpc("kvs.lookup", lookup_payload("e.missing")), ENOENT, "missing key")
        err(c.rpc("kvs.lookup", lookup_payload("nothere.at.all")), ENOENT, "missing dir")
        err(c.rpc("kvs.lookup", lookup_payload("e.dir")), EISDIR, "dir without readdir")
        d = ok(c.rpc("kvs.lookup", lookup_payload("e.dir", flags=READDIR)))["val"]
        assert d["type"] == "dir" and set(d["data"]) == {"x"}
        err(c.rpc("kvs.lookup", lookup_payload("e.val.b")), ENOTDIR, "lookup through a value")
        err(c.rpc("kvs.lookup", lookup_payload("e.val.b.c")), ENOTDIR, "deeper through a value")
        err(c.rpc("kvs.lookup", lookup_payload("e.l1")), ELOOP, "symlink loop")
        err(c.rpc("kvs.lookup", lookup_payload("e.self")), ELOOP, "self symlink")
        err(c.rpc("kvs.lookup", lookup_payload("e.l1.sub")), ELOOP, "path through a loop")
        assert_alive(kvs_instance, c)


def test_hundred_megabyte_value(kvs_instance):
    size = 100 << 20
    data = os.urandom(size)
    want = hashlib.sha1(data).hexdigest()
    with Client(kvs_instance.sock, timeout=120) as c:
        r = commit(c, [put("huge", data)], timeout=120)
        assert r["rootseq"] > 0
        del data
        rep = c.rpc("kvs.lookup", lookup_payload("huge"), timeout=120)
        got = value_of(ok(rep, "lookup huge")["val"])
        del rep
        assert len(got) == size
        assert hashlib.sha1(got).hexdigest() == want
        del got
        assert_alive(kvs_instance, c)


# ---- 8. symlinks -------------------------------------------------------------


def test_symlinks(kvs_instance):
    with Client(kvs_instance.sock) as c:
        ns_create(c, "ns2", os.getuid())
        commit(c, [put("x", "in ns2"), put("sub.y", "deep in ns2")], ns="ns2")
        commit(c, [put("x", "in primary"), put("dir.z", "z")])
        link = symlink("x", ns="ns2")
        commit(c, [op("sl", link), op("sd", symlink("sub", ns="ns2")), op("local", symlink("dir")),
                   op("lx", symlink("x"))])

        assert get(c, "sl") == b"in ns2"
        assert get(c, "sd.y") == b"deep in ns2"
        assert get(c, "local.z") == b"z"
        assert get(c, "lx") == b"in primary"
        rep = c.rpc("kvs.lookup", lookup_payload("sl", flags=READLINK))
        assert ok(rep)["val"] == link
        rep = c.rpc("kvs.lookup", lookup_payload("lx", flags=READLINK))
        assert ok(rep)["val"] == symlink("x")
        err(c.rpc("kvs.lookup", lookup_payload("x", flags=READLINK)), EINVAL,
            "readlink of a value")
        # A link that follows the target as it changes.
        commit(c, [put("x", "changed")], ns="ns2")
        assert get(c, "sl") == b"changed"
        # A link into a namespace that does not exist.
        commit(c, [op("dangling", symlink("x", ns="nope"))])
        rep = c.rpc("kvs.lookup", lookup_payload("dangling"))
        assert rep.errnum != 0, "symlink into a missing namespace resolved"
        # A guest may not reach primary through a link in its own namespace.
        ns_create(c, "gl", GUEST)
        commit(c, [op("back", symlink("x", ns="primary"))], ns="gl")
        assert get(c, "back", ns="gl") == b"in primary"  # the owner may
        err(guest_rpc(c, "kvs.lookup", lookup_payload("back", ns="gl")), EPERM,
            "guest following a link into primary")
        rep = guest_rpc(c, "kvs.lookup", lookup_payload("back", ns="gl", flags=READLINK))
        assert ok(rep)["val"] == symlink("x", ns="primary")  # reading the link itself is fine


def test_readdir_of_value_is_enotdir(kvs_instance):
    """flux-core: FLUX_KVS_READDIR on a value fails with ENOTDIR."""
    with Client(kvs_instance.sock) as c:
        commit(c, [put("rv", "v")])
        err(c.rpc("kvs.lookup", lookup_payload("rv", flags=READDIR)), ENOTDIR,
            "readdir of a value")


def test_large_directory_survives_restart(workdir):
    # Past 256 entries a directory is split into hash buckets (an hdir);
    # every entry must be found, listed and kept across a restart, and
    # changes after the restart must keep the rest.
    statedir = workdir / "state"
    n = 5000
    with conftest.state_instance(workdir / "a", statedir) as inst:
        with Client(inst.sock) as c:
            for start in range(0, n, 1000):
                commit(c, [put(f"big.k{i}", f"v{i}") for i in range(start, start + 1000)])
            for i in range(0, 300):  # then one key per commit
                commit(c, [put(f"big.s{i}", f"s{i}")], tag=10 + i)
            commit(c, [unlink("big.k7")])
        assert inst.stop() == 0, inst.broker_log()
    with conftest.state_instance(workdir / "b", statedir) as inst:
        with Client(inst.sock) as c:
            for i in (0, 1, 999, 1000, 2500, n - 1):
                assert get(c, f"big.k{i}") == f"v{i}".encode()
            assert get(c, "big.s299") == b"s299"
            names = set(readdir(c, "big"))
            assert len(names) == n - 1 + 300
            assert "k7" not in names and "k8" in names
            commit(c, [put("big.k7", "back")])
            assert get(c, "big.k7") == b"back"
            assert get(c, "big.k8") == b"v8"
