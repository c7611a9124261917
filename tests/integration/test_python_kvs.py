"""flux.kvs as flux-core's Python KVS API, against a real broker: values
and their decoding, staging and commit, KVSDir, KVSTxn, walk, namespaces
and kvs_watch_async. Each test is one `flux python` script that records
its observations in a dict, compared here exactly; the tests share one
instance, each under its own keys."""

import json
import shutil
import textwrap

import pytest

from conftest import Instance, short_dir

PRELUDE = """
import errno, json, os, flux, flux.constants, flux.kvs as kvs
h = flux.Flux()
r = {}

def err(f, *a, **kw):
    '''What calling f raises: "OSError ENOENT", "KeyError", ... or "no error".'''
    try:
        f(*a, **kw)
    except OSError as e:
        return "OSError " + errno.errorcode.get(e.errno, str(e.errno))
    except Exception as e:
        return type(e).__name__
    return "no error"

def nxt(future):
    '''The watch's next value, failing (ETIMEDOUT) rather than hanging.'''
    future.wait_for(10)
    return future.get()

def walked(gen):
    return [[path, dirs, files] for path, dirs, files in gen]
"""


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    base, cleanup = short_dir(tmp_path_factory.mktemp("pykvs"))
    instance = Instance(base)
    instance.start()
    try:
        yield instance
        crashed = instance.proc.poll()
        rc = instance.stop()
        if crashed is not None or rc != 0:
            pytest.fail(f"broker exited with {rc}:\n" + instance.broker_log())
    finally:
        instance.kill()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def run(inst, body):
    """Run PRELUDE + body in the instance; the dict r it printed."""
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(r))\n"
    p = inst.run("python", "-c", code, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])


VALUES = {
    "int": 10,
    "float": 10.5,
    "str": "stuff",
    "none": None,
    "true": True,
    "unicode": "\u32db \u263a \u32e1",
    "list": [1, 2, 3, 4],
    "dict": {"thing": "stuff", "n": {"x": 1}},
    "empty": "",
    "bytes": bytes.fromhex("deadbeef"),
    "jsonbytes": b'{"k": [1]}',
    "badjson": b"{",
}


def test_values_staging_and_commit(inst):
    r = run(inst, f"""
        vals = {VALUES!r}
        for k, v in vals.items():
            kvs.put(h, "v." + k, v)
        kvs.put(h, "v.a.b.c.e.f", 5)
        kvs.put(h, "raw.b", b"foobar", raw=True)
        kvs.put(h, "raw.s", "foobar", raw=True)
        kvs.put(h, "raw.empty", b"", raw=True)
        kvs.put(h, "raw.nul", b"ab\\0cd", raw=True)  # a C string in flux-core: "ab"
        kvs.put_mkdir(h, "emptydir")
        kvs.put_symlink(h, "link", "v.int")
        kvs.put_symlink(h, "dirlink", "v.a")
        kvs.put_symlink(h, "dangling", "nowhere")
        r["staged_only"] = kvs.exists(h, "v.int")
        kvs.commit(h)
        r["values"] = {{k: repr(kvs.get(h, "v." + k)) for k in vals}}
        r["deep"] = kvs.get(h, "v.a.b.c.e.f")
        r["raw"] = [kvs.get(h, "raw.b"), kvs.get(h, "raw.s"), kvs.get(h, "raw.empty"),
                    kvs.get(h, "raw.nul")]
        r["link"] = kvs.get(h, "link")
        d = kvs.get(h, "dirlink")
        r["dirlink"] = [type(d).__name__, d["b"]["c"]["e"]["f"]]
        d = kvs.get(h, "v")
        r["dir"] = [type(d).__name__, d.path, d["int"]]
        r["direct"] = [kvs.get_key_direct(h, "v.int"), err(kvs.get_key_direct, h, "v")]
        r["exists"] = [kvs.exists(h, k) for k in
                       ("v.int", "v", "emptydir", "nope", "v.int.sub", "link", "dangling")]
        r["isdir"] = [kvs.isdir(h, k) for k in
                      ("v", "emptydir", "v.int", "nope", "dirlink", "link")]
        r["errors"] = [
            err(kvs.get, h, "nope"), err(kvs.get, h, "v.int.sub"), err(kvs.get, h, "dangling"),
            err(kvs.get, h, ""), err(kvs.exists, h, ""), err(kvs.isdir, h, ""),
            err(kvs.get_dir, h, ""), err(kvs.get_dir, h, "nope"), err(kvs.get_dir, h, "v.int"),
            err(kvs.put, h, "", ""), err(kvs.put_mkdir, h, ""), err(kvs.put_unlink, h, ""),
            err(kvs.put_symlink, h, "", ""), err(kvs.put, h, "k", 1, raw=True),
            err(kvs.put, h, "k", object()), err(kvs.get, h, "v.int", namespace="nons"),
        ]

        kvs.put_unlink(h, "v.none")
        kvs.commit(h)
        r["unlinked"] = kvs.exists(h, "v.none")

        kvs.put(h, "cf", "foo")
        kvs.commit(h, flux.constants.FLUX_KVS_NO_MERGE)
        kvs.put(h, "cf", "bar")
        kvs.commit(h, flux.constants.FLUX_KVS_SYNC)
        r["flags"] = kvs.get(h, "cf")
        kvs.put(h, "cf", "baz")
        r["bad_flags"] = err(kvs.commit, h, 64)
        kvs.commit(h)
        r["bad_flags_dropped"] = kvs.get(h, "cf")

        # A failed commit empties the handle's transaction (flux-core #5333).
        kvs.put(h, ".", "foof")
        r["root_value"] = err(kvs.commit, h)
        r["empty_commit"] = err(kvs.commit, h)
        kvs.put(h, "after", 1)
        kvs.commit(h)
        r["after"] = kvs.get(h, "after")

        # Each handle stages its own transaction.
        h2 = flux.Flux()
        kvs.put(h2, "h2key", 1)
        kvs.commit(h)
        r["h2"] = [kvs.exists(h, "h2key")]
        kvs.commit(h2)
        r["h2"].append(kvs.exists(h, "h2key"))

        kvs.put(h, "ca", "x")
        f = kvs.commit_async(h)
        r["commit_async"] = [f.get(), kvs.get(h, "ca"), kvs.commit_async(h).get()]

        for bypass in (False, True):
            c = kvs.kvs_checkpoint_lookup(h, cache_bypass=bypass)
            r[f"checkpoint_{{bypass}}"] = [len(c), c[0]["version"], sorted(c[0])]
    """)
    assert r.pop("values") == {k: repr(v) for k, v in {
        **VALUES, "bytes": bytes.fromhex("deadbeef"), "jsonbytes": {"k": [1]}, "badjson": "{",
    }.items()}
    checkpoint = [1, 1, ["rootref", "sequence", "timestamp", "version"]]
    assert r == {
        "staged_only": False,
        "deep": 5,
        "raw": ["foobar", "foobar", None, "ab"],
        "link": 10,
        "dirlink": ["KVSDir", 5],
        "dir": ["KVSDir", "v", 10],
        "direct": [10, "OSError EISDIR"],
        "exists": [True, True, True, False, False, True, False],
        "isdir": [True, True, False, False, True, False],
        "errors": ["OSError ENOENT", "OSError ENOENT", "OSError ENOENT",
                   "OSError EINVAL", "OSError EINVAL", "OSError EINVAL",
                   "OSError EINVAL", "OSError ENOENT", "OSError ENOTDIR",
                   "OSError EINVAL", "OSError EINVAL", "OSError EINVAL",
                   "OSError EINVAL", "AttributeError",
                   "TypeError", "OSError ENOTSUP"],
        "unlinked": False,
        "flags": "bar",
        "bad_flags": "OSError EINVAL",
        "bad_flags_dropped": "bar",
        "root_value": "OSError EINVAL",
        "empty_commit": "no error",
        "after": 1,
        "h2": [False, True],
        "commit_async": [None, "x", None],
        "checkpoint_False": checkpoint,
        "checkpoint_True": checkpoint,
    }


def test_kvsdir_kvstxn_and_walk(inst):
    r = run(inst, """
        with kvs.get_dir(h) as kd:
            r["ctx"] = [type(kd).__name__, kd.path]
            kd["d.int"] = 10
            kd["d.bytes"] = bytes.fromhex("deadbeef")
            r["ctx_staged_only"] = kvs.exists(h, "d.int")
        d = kvs.KVSDir(h, "d")
        r["items"] = [[k, repr(v)] for k, v in d.items()]
        r["keys"] = list(d.keys())
        r["values"] = [repr(v) for v in d.values()]
        r["len_in"] = [len(d), "int" in d, "nope" in d]
        r["errors"] = [err(lambda: d["nope"]), err(kvs.KVSDir, h, "nosuchdir"),
                       err(kvs.KVSDir, h, "d.int"), err(kvs.KVSDir)]
        del d["int"]
        r["del_staged_only"] = d["int"]
        d.commit()
        r["deleted"] = [err(lambda: d["int"]), list(kvs.KVSDir(h, "d"))]

        # Subdirectories read with [] share the parent's transaction.
        kvs.put_mkdir(h, "s.sub")
        kvs.commit(h)
        kd = kvs.KVSDir(h)
        sub = kd["s"]["sub"]
        sub["a"] = 1
        kd["s.b"] = 2
        r["sub"] = [type(sub).__name__, sub.path, kvs.exists(h, "s.sub.a")]
        kd.commit()
        r["shared"] = [kvs.get(h, "s.sub.a"), kvs.get(h, "s.b")]

        s = kvs.KVSDir(h, "s")
        s["c"] = 3
        s["d.e.f"] = 4
        s.commit()
        r["initial_path"] = [kvs.get(h, "s.c"), kvs.get(h, "s.d.e.f"), s["d"]["e"]["f"],
                             s["d.e.f"], s.key_at("meh"), kvs.KVSDir(h).key_at("meh")]
        r["dir_exists"] = [s.exists("c"), s.exists("s"), s.exists("d.e"), s.isdir("d"),
                           s.isdir("c"), kvs.KVSDir(h).exists("s.c")]
        kvs.get_dir(h, "s").fill({"g": 1, "h": "bar", "i.j.k": "baz"})
        r["fill"] = [kvs.get(h, "s.g"), kvs.get(h, "s.h"), kvs.get(h, "s.i.j.k"),
                     err(kvs.get_dir(h).fill, None)]
        kvs.get_dir(h).mkdir("mk", {"l": 1, "n.o.p": "baz"})
        kvs.get_dir(h, "s").mkdir("inner", {"q": 7})
        kvs.get_dir(h).mkdir("mkempty")
        r["mkdir"] = [kvs.get(h, "mk.l"), kvs.get(h, "mk.n.o.p"), kvs.get(h, "s.inner.q"),
                      kvs.isdir(h, "mkempty")]
        s = kvs.KVSDir(h, "s")
        r["listing"] = [list(s), list(s.files()), list(s.directories()), s.list_all()]

        # The context manager commits on exit, even on an exception.
        try:
            with kvs.get_dir(h) as kd:
                kd["cm_exc"] = 1
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        r["cm_exc"] = kvs.get(h, "cm_exc")

        kd = kvs.KVSDir(h)
        kd["ca4"] = "qux"
        r["kvsdir_commit_async"] = [kd.commit_async().get(), kvs.get(h, "ca4")]

        kd1 = kvs.get_dir(h, "s")
        kd1["x1"] = 1
        kd2 = kvs.get_dir(h, "s")
        kd2["x2"] = 2
        kd1.commit()
        r["separate"] = [kvs.exists(h, "s.x1"), kvs.exists(h, "s.x2")]
        kd2.commit()
        r["separate"].append(kvs.exists(h, "s.x2"))

        txn = kvs.KVSTxn(h)
        txn.mkdir("t")
        txn.put("t.a", 1)
        txn.put("t.b", 2)
        txn.put("t.c", b"foobar", raw=True)
        txn.put("t.d", "boobar", raw=True)
        txn.symlink("t.link", "t.a")
        r["txn_staged_only"] = kvs.exists(h, "t")
        txn.commit()
        r["txn"] = [kvs.isdir(h, "t"), kvs.get(h, "t.a"), kvs.get(h, "t.b"),
                    kvs.get(h, "t.c"), kvs.get(h, "t.d"), kvs.get(h, "t.link"), txn.txn]
        txn.unlink("t.b")
        txn.commit()
        txn.put("t.cleared", 1)
        txn.clear()
        txn.commit()
        r["txn_unlink_clear"] = [kvs.exists(h, "t.b"), kvs.exists(h, "t.cleared")]
        tp = kvs.KVSTxn(h, "t")
        tp.put("e", 3)
        tp.commit()
        with kvs.KVSTxn(h) as t2:
            t2.put("t.f", 4)
        t3 = kvs.KVSTxn(h)
        kvs.put(h, "t.g", 5, _kvstxn=t3)
        kvs.put_mkdir(h, "t.gd", _kvstxn=t3)
        kvs.commit(h, _kvstxn=t3)
        t4 = kvs.KVSTxn(h)
        t4.put("t.h", "baz")
        f = t4.commit_async()
        r["txn_more"] = [kvs.get(h, "t.e"), kvs.get(h, "t.f"), kvs.get(h, "t.g"),
                         kvs.isdir(h, "t.gd"), f.get(), kvs.get(h, "t.h"), t4.txn]

        with kvs.KVSTxn(h, "w") as t:
            for k in ("1", "2", "3", "sub.x", "sub.deep.y"):
                t.put(k, k)
            t.mkdir("empty")
        r["walk_topdown"] = walked(kvs.walk("w", flux_handle=h, topdown=True))
        r["walk_bottomup"] = walked(kvs.walk("w", flux_handle=h))
        r["walk_kvsdir"] = walked(kvs.walk(kvs.get_dir(h, "w.sub")))
        r["walk_no_handle"] = err(kvs.walk, "w")
        r["join"] = kvs.join("a", "", "b.c")
    """)
    deadbeef = repr(bytes.fromhex("deadbeef"))
    assert r == {
        "ctx": ["KVSDir", "."],
        "ctx_staged_only": False,
        "items": [["bytes", deadbeef], ["int", "10"]],
        "keys": ["bytes", "int"],
        "values": [deadbeef, "10"],
        "len_in": [2, True, False],
        "errors": ["KeyError", "OSError ENOENT", "OSError ENOTDIR", "ValueError"],
        "del_staged_only": 10,
        "deleted": ["KeyError", ["bytes"]],
        "sub": ["KVSDir", "s.sub", False],
        "shared": [1, 2],
        "initial_path": [3, 4, 4, 4, "s.meh", "meh"],
        "dir_exists": [True, False, True, True, False, True],
        "fill": [1, "bar", "baz", "ValueError"],
        "mkdir": [1, "baz", 7, True],
        "listing": [["b", "c", "d", "g", "h", "i", "inner", "sub"],
                    ["b", "c", "g", "h"], ["d", "i", "inner", "sub"],
                    [["b", "c", "g", "h"], ["d", "i", "inner", "sub"]]],
        "cm_exc": 1,
        "kvsdir_commit_async": [None, "qux"],
        "separate": [True, False, True],
        "txn_staged_only": False,
        "txn": [True, 1, 2, "foobar", "boobar", 1, []],
        "txn_unlink_clear": [False, False],
        "txn_more": [3, 4, 5, True, None, "baz", []],
        "walk_topdown": [["", ["empty", "sub"], ["1", "2", "3"]], ["empty", [], []],
                         ["sub", ["deep"], ["x"]], ["sub.deep", [], ["y"]]],
        "walk_bottomup": [["empty", [], []], ["sub.deep", [], ["y"]],
                          ["sub", ["deep"], ["x"]], ["", ["empty", "sub"], ["1", "2", "3"]]],
        "walk_kvsdir": [["deep", [], ["y"]], ["", ["deep"], ["x"]]],
        "walk_no_handle": "ValueError",
        "join": "a.b.c",
    }


def test_namespaces(inst):
    r = run(inst, """
        kvs.namespace_create(h, "ns1")
        kvs.namespace_create(h, "ns2", owner=os.getuid())
        names = kvs.namespace_list(h)
        r["list"] = [n in names for n in ("primary", "ns1", "ns2")]
        r["dup"] = err(kvs.namespace_create, h, "ns1")
        kvs.put_mkdir(h, "dir1")
        kvs.put(h, "dir1.a", 1)
        kvs.commit(h, namespace="ns1")
        kvs.put(h, "dir2.a", 2)
        kvs.commit(h, namespace="ns2")
        r["get"] = [kvs.get(h, "dir1.a", namespace="ns1"), kvs.get(h, "dir2.a", namespace="ns2")]
        r["cross"] = [err(kvs.get, h, "dir1.a", namespace="ns2"),
                      err(kvs.get, h, "dir2.a", namespace="ns1"), err(kvs.get, h, "dir1.a")]
        r["exists"] = [kvs.exists(h, "dir1", namespace="ns1"),
                       kvs.exists(h, "dir1", namespace="ns2"),
                       kvs.exists(h, "dir2.a", namespace="ns2"), kvs.exists(h, "dir2.a")]
        r["isdir"] = [kvs.isdir(h, "dir1", namespace="ns1"), kvs.isdir(h, "dir1", namespace="ns2"),
                      kvs.isdir(h, "dir1.a", namespace="ns1")]
        with kvs.get_dir(h, "dir1", namespace="ns1") as kd:
            r["kvsdir"] = [kd.exists("a"), kd["a"], list(kd)]
            kd["b"] = 2
        r["kvsdir"] += [kvs.get(h, "dir1.b", namespace="ns1"),
                        kvs.exists(h, "dir1.b", namespace="ns2")]
        sub = kvs.get_dir(h, namespace="ns1")["dir1"]
        r["kvsdir_sub_ns"] = [sub.namespace, list(sub.files())]
        with kvs.KVSTxn(h, namespace="ns2") as t:
            t.put("tx", 1)
        kvs.get_dir(h, namespace="ns2").fill({"f.a": 1})
        kvs.get_dir(h, namespace="ns2").mkdir("md", {"a": 1})
        r["ns2"] = [kvs.get(h, "tx", namespace="ns2"), kvs.exists(h, "tx"),
                    kvs.get(h, "f.a", namespace="ns2"), kvs.get(h, "md.a", namespace="ns2"),
                    kvs.get_dir(h, namespace="ns2").list_all()]
        r["walk"] = walked(kvs.walk(".", flux_handle=h, topdown=True, namespace="ns1"))

        # FLUX_KVS_NAMESPACE is the default namespace.
        os.environ["FLUX_KVS_NAMESPACE"] = "ns1"
        r["env"] = [kvs.get(h, "dir1.a"), kvs.exists(h, "dir2")]
        kvs.put(h, "envkey", 1)
        kvs.commit(h)
        del os.environ["FLUX_KVS_NAMESPACE"]
        r["env"] += [kvs.get(h, "envkey", namespace="ns1"), kvs.exists(h, "envkey")]

        kvs.namespace_remove(h, "ns2")
        r["removed"] = ["ns2" in kvs.namespace_list(h), err(kvs.get, h, "tx", namespace="ns2"),
                        err(kvs.namespace_remove, h, "primary")]
    """)
    assert r == {
        "list": [True, True, True],
        "dup": "OSError EEXIST",
        "get": [1, 2],
        "cross": ["OSError ENOENT"] * 3,
        "exists": [True, False, True, False],
        "isdir": [True, False, False],
        "kvsdir": [True, 1, ["a"], 2, False],
        "kvsdir_sub_ns": ["ns1", ["a", "b"]],
        "ns2": [1, False, 1, 1, [["tx"], ["dir2", "f", "md"]]],
        "walk": [["", ["dir1"], []], ["dir1", [], ["a", "b"]]],
        "env": [1, False, 1, False],
        "removed": [False, "OSError ENOTSUP", "OSError ENOTSUP"],
    }


def test_kvs_watch(inst):
    r = run(inst, """
        kvs.put(h, "wv.val", 1)
        kvs.commit(h)
        f = kvs.kvs_watch_async(h, "wv.val")
        u = kvs.kvs_watch_async(h, "wv.val", uniq=True)
        r["type"] = type(f).__name__
        seq, useq = [nxt(f)], [nxt(u)]
        kvs.put(h, "wv.val", 1)
        kvs.commit(h)
        seq.append(nxt(f))
        kvs.put(h, "wv.val", {"v": 2})
        kvs.commit(h)
        seq.append(nxt(f))
        useq.append(nxt(u))
        kvs.put(h, "wv.val", 3)
        kvs.commit(h)
        f.wait_for(10)
        seq += [f.get(autoreset=False), f.get()]
        useq.append(nxt(u))
        f.cancel()
        u.cancel()
        r["seq"], r["useq"] = seq, useq
        r["cancelled"] = [nxt(f), nxt(u)]
        r["enoent"] = err(lambda: nxt(kvs.kvs_watch_async(h, "wv.nokey")))
        r["badkey"] = err(kvs.kvs_watch_async, h, "")

        # The plain watch's ENOENT shows kvs-watch has the earlier request.
        wc = kvs.kvs_watch_async(h, "wv.later", waitcreate=True)
        r["waitcreate"] = [err(lambda: nxt(kvs.kvs_watch_async(h, "wv.later"))), wc.is_ready()]
        kvs.put(h, "wv.later", "hi")
        kvs.commit(h)
        r["waitcreate"].append(nxt(wc))
        wc.cancel()
        r["waitcreate"].append(nxt(wc))

        kvs.put(h, "fw.val", 1)
        kvs.commit(h)
        ff = kvs.kvs_watch_async(h, "fw.val", full=True)
        r["full"] = [nxt(ff)]
        kvs.put_unlink(h, "fw")
        kvs.commit(h)
        r["full"].append(err(nxt, ff))

        kvs.put(h, "cb.val", 1)
        kvs.commit(h)
        calls = []

        def cb(future, arg, key=None):
            value = future.get()
            calls.append([arg, key, value])
            if value == 1:
                kvs.put(h, "cb.val", 2)
                kvs.commit_async(h)
            elif value == 2:
                future.cancel()

        kvs.kvs_watch_async(h, "cb.val").then(cb, "arg", key="kw")
        r["reactor"] = h.reactor_run()
        r["calls"] = calls
    """)
    assert r == {
        "type": "KVSWatchFuture",
        "seq": [1, 1, {"v": 2}, 3, 3],
        "useq": [1, {"v": 2}, 3],
        "cancelled": [None, None],
        "enoent": "OSError ENOENT",
        "badkey": "OSError EINVAL",
        "waitcreate": ["OSError ENOENT", False, "hi", None],
        "full": [1, "OSError ENOENT"],
        "reactor": 0,
        "calls": [["arg", "kw", 1], ["arg", "kw", 2], ["arg", "kw", None]],
    }
