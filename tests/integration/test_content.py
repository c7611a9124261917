"""The content store (RFC 10): the content and content-sqlite modules, driven
by `flux content` and by the raw protocol (fluxmsg).

Modules are loaded content first, then content-sqlite (as rc1 does); either
order works, since the cache asks for a backing store when it loads and the
backing store registers with the cache when it loads. Where rc1 already
loaded them, the tests use those.

Blobrefs are checked against Python's hashlib, not against our own code.
"""

import hashlib
import os
import signal
import subprocess
import time

import pytest

import conftest
import fluxmsg
from conftest import FLUX, flux

ENOENT = 2
ENOSYS = 38
EPROTO = 71


def blobref(data):
    return "sha1-" + hashlib.sha1(data).hexdigest()


def digest(data):
    return hashlib.sha1(data).digest()


def loaded_modules(inst):
    r = inst.run("module", "list")
    assert r.returncode == 0, r.stderr
    return {line.split()[0] for line in r.stdout.splitlines()[1:] if line.strip()}


def content_info(inst):
    with fluxmsg.Client(inst.sock) as c:
        rep = c.rpc("content.info", {})
        assert rep.errnum == 0, rep.string()
        return rep.json()


def wait_until_running(inst):
    """rc1 (which may load the content modules) is done once the broker is
    in its run state."""
    with fluxmsg.Client(inst.sock, timeout=conftest.START_DEADLINE) as c:
        rep = c.rpc("state-machine.wait")
        assert rep.errnum == 0, f"state-machine.wait: errno {rep.errnum}"


def ensure_content(inst, with_backing=True):
    """Load content (and content-sqlite) unless rc1 did; wait for the cache
    to know its backing store."""
    wait_until_running(inst)
    mods = loaded_modules(inst)
    wanted = ["content", "content-sqlite"] if with_backing else ["content"]
    for mod in wanted:
        if mod not in mods:
            r = inst.run("module", "load", mod)
            assert r.returncode == 0, f"module load {mod}: {r.stderr}"
    if with_backing:
        deadline = time.monotonic() + 5
        while not content_info(inst)["backing"]:
            assert time.monotonic() < deadline, "content never saw content-sqlite"
            time.sleep(0.05)


def store(inst, data, *opts):
    """flux content store < data; returns the blobref printed."""
    r = subprocess.run([FLUX, "content", "store", *opts], input=data, env=inst.env(),
                       capture_output=True, timeout=conftest.CMD_TIMEOUT)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode().strip()


def load(inst, ref, *opts):
    """flux content load REF; returns CompletedProcess with bytes stdout."""
    return subprocess.run([FLUX, "content", "load", *opts, ref], env=inst.env(),
                          capture_output=True, timeout=conftest.CMD_TIMEOUT)


def load_ok(inst, ref, *opts):
    r = load(inst, ref, *opts)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


@pytest.fixture
def content(instance):
    ensure_content(instance)
    return instance


# --- store and load ---------------------------------------------------------


def test_store_load_small(content):
    data = b"hello\n"
    ref = store(content, data)
    assert ref == blobref(data) == "sha1-f572d396fae9206628714fb2ce00f72e94f2258f"
    assert load_ok(content, ref) == data


def test_store_load_empty(content):
    ref = store(content, b"")
    assert ref == "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert load_ok(content, ref) == b""
    # RFC 10: an empty blob travels as no payload at all.
    with fluxmsg.Client(content.sock) as c:
        rep = c.rpc("content.load", digest(b""))
        assert rep.errnum == 0 and rep.payload is None, rep


@pytest.mark.parametrize("size", [1 << 20, 50 << 20], ids=["1MB", "50MB"])
def test_store_load_large(content, size):
    data = os.urandom(size)
    ref = store(content, data)
    assert ref == blobref(data)
    assert load_ok(content, ref) == data
    # Again once it has left the cache: from SQLite.
    assert content.run("content", "flush").returncode == 0
    assert content.run("content", "dropcache").returncode == 0
    assert load_ok(content, ref) == data


def test_compressible_blob_round_trip(content):
    # Compresses with LZ4 in content-sqlite; must come back byte for byte.
    data = b"flux content " * 100000
    ref = store(content, data)
    assert content.run("content", "flush").returncode == 0
    assert content.run("content", "dropcache").returncode == 0
    assert load_ok(content, ref) == data
    assert load_ok(content, ref, "--bypass-cache") == data


def test_store_is_idempotent(content):
    data = b"same blob twice"
    assert store(content, data) == store(content, data) == blobref(data)
    assert load_ok(content, blobref(data)) == data


def test_load_unknown(content):
    r = load(content, blobref(b"never stored"))
    assert r.returncode != 0
    err = r.stderr.decode()
    assert err.startswith("flux-content: "), err
    assert "unknown content" in err, err
    with fluxmsg.Client(content.sock) as c:
        rep = c.rpc("content.load", digest(b"never stored"))
        assert rep.errnum == ENOENT, rep


def test_load_malformed(content):
    for bad in ["sha1-xyz", "md5-d41d8cd98f00b204e9800998ecf8427e", "nodash"]:
        r = load(content, bad)
        assert r.returncode != 0
        assert "blobref" in r.stderr.decode(), r.stderr
    with fluxmsg.Client(content.sock) as c:
        rep = c.rpc("content.load", b"short")
        assert rep.errnum == EPROTO, rep


def test_raw_store_response_is_digest(content):
    data = b"raw protocol blob"
    with fluxmsg.Client(content.sock) as c:
        rep = c.rpc("content.store", data, matchtag=5)
        assert rep.errnum == 0 and rep.matchtag == 5
        assert rep.payload == digest(data)
        rep = c.rpc("content.load", digest(data), matchtag=6)
        assert rep.errnum == 0 and rep.payload == data


def test_bypass_cache(content):
    data = b"straight to sqlite"
    ref = store(content, data, "--bypass-cache")
    assert ref == blobref(data)
    assert load_ok(content, ref, "-b") == data
    assert load_ok(content, ref) == data  # the cache faults it in


# --- flush, dropcache, purge --------------------------------------------------


def test_flush_and_dropcache(content):
    refs = {store(content, f"blob {i}".encode()): f"blob {i}".encode() for i in range(20)}
    r = content.run("content", "flush")
    assert r.returncode == 0, r.stderr
    info = content_info(content)
    assert info["dirty"] == 0 and info["count"] >= 20
    r = content.run("content", "dropcache")
    assert r.returncode == 0, r.stderr
    assert content_info(content)["count"] == 0
    for ref, data in refs.items():
        assert load_ok(content, ref) == data
    assert content_info(content)["count"] == len(refs)


def test_cache_size_stays_bounded(content):
    # 40 MiB stored: once written back, the LRU purge keeps the cache at
    # or below its target (16 MiB by default).
    refs = [store(content, os.urandom(2 << 20)) for _ in range(20)]
    assert content.run("content", "flush").returncode == 0
    info = content_info(content)
    assert info["dirty"] == 0
    assert info["size"] <= info["purge-target-size"], info
    assert len(load_ok(content, refs[0])) == 2 << 20


def test_without_backing_store(instance):
    ensure_content(instance)
    assert instance.run("module", "remove", "content-sqlite").returncode == 0
    assert not content_info(instance)["backing"]
    r = instance.run("content", "flush")
    assert r.returncode != 0
    assert "Function not implemented" in r.stderr or "no backing store" in r.stderr, r.stderr
    # Stores stay in memory, dirty, and can be loaded.
    data = b"kept in memory"
    ref = store(instance, data)
    assert load_ok(instance, ref) == data
    assert content_info(instance)["dirty"] >= 1
    assert instance.run("content", "dropcache").returncode == 0
    assert load_ok(instance, ref) == data  # dirty entries are not dropped
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("content.checkpoint-put", {"key": "mem", "value": {"rootref": ref}})
        assert rep.errnum == 0, rep.string()
    # The backing store comes back: dirty blobs and checkpoints move to it.
    assert instance.run("module", "load", "content-sqlite").returncode == 0
    assert instance.run("content", "flush").returncode == 0
    info = content_info(instance)
    assert info["backing"] and info["dirty"] == 0, info
    assert instance.run("content", "dropcache").returncode == 0
    assert load_ok(instance, ref, "--bypass-cache") == data
    with fluxmsg.Client(instance.sock) as c:
        deadline = time.monotonic() + 5
        while content_info(instance)["checkpoints"] > 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        rep = c.rpc("content-backing.checkpoint-get", {"key": "mem"})
        assert rep.errnum == 0, rep.string()
        assert rep.json()["value"] == {"rootref": ref}


def test_stats(content):
    store(content, b"counted")
    r = content.run("module", "stats", "content")
    assert r.returncode == 0, r.stderr
    assert '"request"' in r.stdout


# --- checkpoints ------------------------------------------------------------


def test_checkpoint_put_get(content):
    value = {"version": 1, "rootref": blobref(b"root"), "sequence": 3}
    with fluxmsg.Client(content.sock) as c:
        rep = c.rpc("content.checkpoint-get", {"key": "test-key"})
        assert rep.errnum == ENOENT, rep
        rep = c.rpc("content.checkpoint-put", {"key": "test-key", "value": value})
        assert rep.errnum == 0, rep.string()
        rep = c.rpc("content.checkpoint-get", {"key": "test-key"})
        assert rep.errnum == 0, rep.string()
        assert rep.json() == {"value": value}
        value["sequence"] = 4
        assert c.rpc("content.checkpoint-put", {"key": "test-key", "value": value}).errnum == 0
        assert c.rpc("content.checkpoint-get", {"key": "test-key"}).json()["value"] == value
        rep = c.rpc("content.checkpoint-put", {"key": "bad", "value": 42})
        assert rep.errnum == EPROTO, rep
        rep = c.rpc("content.checkpoint-put", {"value": {}})
        assert rep.errnum != 0, rep


# --- persistence ------------------------------------------------------------


def test_restart_keeps_content(workdir):
    statedir = workdir / "state"
    blobs = [b"persistent", os.urandom(300000), b"x" * 100000]
    with conftest.state_instance(workdir / "a", statedir) as inst:
        ensure_content(inst)
        refs = [store(inst, b) for b in blobs]
        with fluxmsg.Client(inst.sock) as c:
            rep = c.rpc("content.checkpoint-put", {"key": "restart", "value": {"refs": refs}})
            assert rep.errnum == 0, rep.string()
        # No flush: unloading content-sqlite at shutdown must keep it all.
        assert inst.stop() == 0, inst.broker_log()
    assert (statedir / "content.sqlite").exists()
    with conftest.state_instance(workdir / "b", statedir) as inst:
        ensure_content(inst)
        for ref, data in zip(refs, blobs):
            assert load_ok(inst, ref) == data
        with fluxmsg.Client(inst.sock) as c:
            rep = c.rpc("content.checkpoint-get", {"key": "restart"})
            assert rep.errnum == 0, rep.string()
            assert rep.json()["value"] == {"refs": refs}


def test_kill9_after_checkpoint(workdir):
    """Stores pipelined with a checkpoint-put behind them; SIGKILL as soon as
    the checkpoint-put is answered. After a restart the checkpoint and every
    blob stored before it are there."""
    statedir = workdir / "state"
    blobs = [os.urandom(n) for n in range(0, 300 * 997, 997)]  # 300 blobs, 0-300 KB
    blobs += [f"compressible {i} ".encode() * 50 for i in range(100)]
    refs = [blobref(b) for b in blobs]
    value = {"version": 1, "refs": refs}
    with conftest.state_instance(workdir / "a", statedir) as inst:
        ensure_content(inst)
        with fluxmsg.Client(inst.sock) as c:
            for i, b in enumerate(blobs):
                c.send(fluxmsg.request("content.store", b, matchtag=i + 1))
            tag = len(blobs) + 1
            c.send(fluxmsg.request("content.checkpoint-put", {"key": "kill9", "value": value},
                                   matchtag=tag))
            while True:
                rep = c.recv(timeout=30)
                assert rep.errnum == 0, rep.string()
                if rep.matchtag == tag:
                    inst.proc.send_signal(signal.SIGKILL)
                    break
                assert rep.payload == digest(blobs[rep.matchtag - 1])
        inst.proc.wait(timeout=10)
        inst.stopped = True
    with conftest.state_instance(workdir / "b", statedir) as inst:
        ensure_content(inst)
        with fluxmsg.Client(inst.sock) as c:
            rep = c.rpc("content.checkpoint-get", {"key": "kill9"})
            assert rep.errnum == 0, rep.string()
            assert rep.json()["value"] == value
            for i, b in enumerate(blobs):
                rep = c.rpc("content-backing.load", digest(b), matchtag=i + 1)
                assert rep.errnum == 0, f"blob {i} lost: {rep.string()}"
                assert (rep.payload or b"") == b


def _start_expect_failure(workdir, statedir):
    """Start an instance on statedir and load content-sqlite, whether rc1
    loads it or the initial program does; returns (rc, output)."""
    r = subprocess.run(
        [FLUX, "start", f"-Sstatedir={statedir}", f"-Srundir={workdir / 'run'}",
         "sh", "-c", "flux module load content 2>/dev/null; flux module load content-sqlite"],
        env=conftest.clean_env(), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_corrupt_database(workdir):
    statedir = workdir / "state"
    statedir.mkdir()
    dbfile = statedir / "content.sqlite"
    dbfile.write_bytes(b"this is not an SQLite database, just some text\n" * 100)
    rc, out = _start_expect_failure(workdir, statedir)
    assert rc != 0, out
    assert str(dbfile) in out, out
    assert "not a database" in out, out


def test_unopenable_database(workdir):
    statedir = workdir / "state"
    (statedir / "content.sqlite").mkdir(parents=True)  # a directory, not a file
    rc, out = _start_expect_failure(workdir, statedir)
    assert rc != 0, out
    assert str(statedir / "content.sqlite") in out, out


def test_database_in_use(workdir):
    statedir = workdir / "state"
    with conftest.state_instance(workdir / "a", statedir) as inst:
        ensure_content(inst)
        store(inst, b"owned by the first broker")
        rc, out = _start_expect_failure(workdir, statedir)
        assert rc != 0, out
        assert "content.sqlite" in out and "locked" in out, out


def test_content_module_options_as_flux_core():
    """blob-size-limit=N refuses larger stores (EFBIG); purge-old-entry and
    flush-batch-limit are accepted; anything else stops the module."""
    script = ("flux module load content blob-size-limit=1000 purge-old-entry=5 "
              "flush-batch-limit=256 && "
              "head -c 1000 /dev/zero | flux content store && "
              "! (head -c 1001 /dev/zero | flux content store) && "
              "flux module remove content && ! flux module load content frobnicate=1")
    r = flux("start", "-Sbroker.rc1_path=", "-Sbroker.rc3_path=", script, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "larger than the limit of 1000 bytes" in r.stderr
    assert "unknown module option: frobnicate=1" in r.stderr
