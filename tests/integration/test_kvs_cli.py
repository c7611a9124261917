"""flux kvs: every subcommand against flux-core's documented behaviour, on
an instance with content, content-sqlite, kvs and kvs-watch loaded.

Watch tests start the watcher first, then commit repeatedly (polling) until
the watcher has printed what it should and exited, within a deadline."""

import json
import os
import re
import select
import subprocess
import time

import pytest

from conftest import CMD_TIMEOUT, FLUX, loaded_modules, wait_until_running

DEADLINE = 15.0  # seconds for a watcher to see what it waits for
POLL = 0.05

BLOBREF = re.compile(r"^sha(1-[0-9a-f]{40}|256-[0-9a-f]{64})$")


def kvs(inst, *args, input=None, env=None):
    if env is None:
        # Output width must not depend on the caller's terminal.
        env = inst.env()
        env.pop("COLUMNS", None)
    return inst.run("kvs", *args, input=input, env=env)


def ok(inst, *args, **kw):
    """Run flux kvs ARGS; assert success and return stdout."""
    r = kvs(inst, *args, **kw)
    assert r.returncode == 0, f"flux kvs {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout


def fails(inst, *args, **kw):
    """Run flux kvs ARGS; assert exit code 1 and return stderr."""
    r = kvs(inst, *args, **kw)
    assert r.returncode == 1, f"expected failure, got rc={r.returncode} out={r.stdout!r}"
    assert r.stderr.startswith("flux-kvs: "), r.stderr
    return r.stderr


def run_bytes(inst, *args, input=b""):
    """flux kvs ARGS with binary stdin/stdout."""
    return subprocess.run([FLUX, "kvs", *map(str, args)], env=inst.env(), input=input,
                          capture_output=True, timeout=CMD_TIMEOUT)


def watcher(inst, *args):
    """Start `flux kvs ARGS` in the background, for watch()."""
    return inst.popen("kvs", *map(str, args), text=False, stdin=subprocess.DEVNULL)


def watch(proc, action, ready=lambda out: True, deadline=DEADLINE):
    """Collect proc's output as it comes; whenever ready(output so far) is
    true, call action(i) (i = 0, 1, ...), at most every POLL seconds, until
    proc exits. Returns (rc, stdout, stderr) as text. Fails the test if proc
    is still running at the deadline."""
    end = time.monotonic() + deadline
    fd = proc.stdout.fileno()
    out = b""
    i = 0
    try:
        while True:
            if time.monotonic() > end:
                pytest.fail(f"watcher did not exit in time; output so far: {out!r}")
            readable, _, _ = select.select([fd], [], [], POLL)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break  # stdout closed: the command is exiting
                out += chunk
                continue
            if ready(out.decode(errors="replace")):
                action(i)
                i += 1
        rc = proc.wait(timeout=5)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    return rc, out.decode(errors="replace"), err.decode(errors="replace")


def version(inst, *args):
    return int(ok(inst, "version", *args))


# ---- get / put ------------------------------------------------------------


def test_put_get_roundtrip(kvs_instance):
    ok(kvs_instance, "put", "test.a=hello", "test.b=two words", "test.c=line1\nline2")
    assert ok(kvs_instance, "get", "test.a") == "hello\n"
    assert ok(kvs_instance, "get", "test.b") == "two words\n"
    assert ok(kvs_instance, "get", "test.c") == "line1\nline2\n"
    # Several keys print in command line order.
    assert ok(kvs_instance, "get", "test.b", "test.a") == "two words\nhello\n"
    # Extra dots in keys are ignored.
    assert ok(kvs_instance, "get", ".test..a.") == "hello\n"


def test_put_is_one_commit(kvs_instance):
    v0 = version(kvs_instance)
    ok(kvs_instance, "put", "one.a=1", "one.b=2", "one.c=3")
    assert version(kvs_instance) == v0 + 1


def test_put_value_with_equals(kvs_instance):
    ok(kvs_instance, "put", "eq=a=b=c")
    assert ok(kvs_instance, "get", "eq") == "a=b=c\n"


def test_put_replaces(kvs_instance):
    ok(kvs_instance, "put", "r=1")
    ok(kvs_instance, "put", "r=2")
    assert ok(kvs_instance, "get", "r") == "2\n"


def test_get_label(kvs_instance):
    ok(kvs_instance, "put", "l.a=x", "l.b=y")
    assert ok(kvs_instance, "get", "--label", "l.a", "l.b") == "l.a=x\nl.b=y\n"
    assert ok(kvs_instance, "get", "-l", "-r", "l.a") == "l.a=x"


def test_empty_value_prints_nothing(kvs_instance):
    ok(kvs_instance, "put", "empty=")
    assert ok(kvs_instance, "get", "empty") == ""
    assert ok(kvs_instance, "get", "--raw", "empty") == ""


def test_raw_roundtrip_binary(kvs_instance):
    data = bytes(range(256)) + b"\0tail\n\xff"
    r = run_bytes(kvs_instance, "put", "--raw", "bin=-", input=data)
    assert r.returncode == 0, r.stderr
    r = run_bytes(kvs_instance, "get", "--raw", "bin")
    assert r.returncode == 0, r.stderr
    assert r.stdout == data
    # Without --raw the value is a C string: up to the first NUL, plus \n.
    r = run_bytes(kvs_instance, "get", "bin")
    assert r.returncode == 0
    assert r.stdout == b"\n"  # the first byte is NUL


def test_get_non_utf8_prints_bytes(kvs_instance):
    data = b"caf\xe9 \xff\xfe ok"
    assert run_bytes(kvs_instance, "put", "-r", "latin=-", input=data).returncode == 0
    r = run_bytes(kvs_instance, "get", "latin")
    assert r.stdout == data + b"\n"


def test_raw_without_stdin_and_plain_dash(kvs_instance):
    ok(kvs_instance, "put", "--raw", "nonl=abc")
    assert ok(kvs_instance, "get", "--raw", "nonl") == "abc"
    # Without --raw or --treeobj, "-" is an ordinary value (as flux-core).
    ok(kvs_instance, "put", "dash=-", input="from stdin")
    assert ok(kvs_instance, "get", "dash") == "-\n"


def test_put_append(kvs_instance):
    ok(kvs_instance, "put", "app=foo")
    ok(kvs_instance, "put", "--append", "app=bar")
    ok(kvs_instance, "put", "-A", "app=baz")
    assert ok(kvs_instance, "get", "app") == "foobarbaz\n"
    # Appending to a missing key creates it.
    ok(kvs_instance, "put", "-A", "newapp=x")
    assert ok(kvs_instance, "get", "newapp") == "x\n"


def test_put_sequence_treeobj_root_blobref(kvs_instance):
    seq = int(ok(kvs_instance, "put", "-s", "s.a=1"))
    assert seq == version(kvs_instance)
    seq2 = int(ok(kvs_instance, "put", "--sequence", "s.a=2"))
    assert seq2 > seq
    root = json.loads(ok(kvs_instance, "put", "-O", "s.a=3"))
    assert root["type"] == "dirref" and root["ver"] == 1
    assert BLOBREF.match(root["data"][0])
    ref = ok(kvs_instance, "put", "-b", "s.a=4").strip()
    assert BLOBREF.match(ref)
    assert ok(kvs_instance, "getroot", "-b").strip() == ref


def test_put_no_merge_and_sync(kvs_instance):
    ok(kvs_instance, "put", "-n", "nm=1")
    ok(kvs_instance, "put", "--no-merge", "--sync", "nm=2")
    ok(kvs_instance, "put", "-S", "nm=3")
    assert ok(kvs_instance, "get", "nm") == "3\n"


def test_put_treeobj(kvs_instance):
    val = '{"data":"aGVsbG8=","type":"val","ver":1}'  # "hello"
    ok(kvs_instance, "put", "--treeobj", f"t.v={val}")
    assert ok(kvs_instance, "get", "t.v") == "hello\n"
    assert json.loads(ok(kvs_instance, "get", "--treeobj", "t.v")) == json.loads(val)
    ok(kvs_instance, "put", "-t", "t.w=-", input=val)
    assert ok(kvs_instance, "get", "t.w") == "hello\n"
    # A directory's treeobj is a dirref that can be stored elsewhere.
    dirref = ok(kvs_instance, "get", "-t", "t").strip()
    assert json.loads(dirref)["type"] == "dirref"
    ok(kvs_instance, "put", "-t", f"t2={dirref}")
    assert ok(kvs_instance, "get", "t2.v") == "hello\n"
    err = fails(kvs_instance, "put", "-t", "t.bad={not json")
    assert err.startswith("flux-kvs: t.bad: ")
    fails(kvs_instance, "put", "-t", 't.bad={"type":"val","data":1,"ver":1}')


def test_put_errors(kvs_instance):
    err = fails(kvs_instance, "put", "novalue")
    assert "key=value" in err
    r = kvs(kvs_instance, "put")
    assert r.returncode == 1
    r = kvs(kvs_instance, "put", "-r", "-t", "a=b")
    assert r.returncode == 1


def test_get_errors(kvs_instance):
    ok(kvs_instance, "put", "e.val=1")
    err = fails(kvs_instance, "get", "e.missing")
    assert err == "flux-kvs: e.missing: No such file or directory\n"
    err = fails(kvs_instance, "get", "e")
    assert err == "flux-kvs: e: Is a directory\n"
    err = fails(kvs_instance, "get", "e.val.sub")
    assert err == "flux-kvs: e.val.sub: Not a directory\n"
    # Output stops at the first failing key.
    r = kvs(kvs_instance, "get", "e.val", "e.missing", "e.val")
    assert r.returncode == 1 and r.stdout == "1\n"
    r = kvs(kvs_instance, "get")
    assert r.returncode == 1


def test_get_treeobj_of_dir_works(kvs_instance):
    ok(kvs_instance, "put", "td.a=1")
    obj = json.loads(ok(kvs_instance, "get", "-t", "td"))
    assert obj["type"] == "dirref"


def test_get_at_snapshot(kvs_instance):
    ok(kvs_instance, "put", "snap.a=old")
    root = ok(kvs_instance, "getroot").strip()
    blobref = ok(kvs_instance, "getroot", "-b").strip()
    ok(kvs_instance, "put", "snap.a=new", "snap.b=added")
    assert ok(kvs_instance, "get", "snap.a") == "new\n"
    assert ok(kvs_instance, "get", "--at", root, "snap.a") == "old\n"
    assert ok(kvs_instance, "get", "-a", blobref, "snap.a") == "old\n"
    err = fails(kvs_instance, "get", "-a", root, "snap.b")
    assert "No such file or directory" in err
    fails(kvs_instance, "get", "-a", "not-a-ref", "snap.a")
    fails(kvs_instance, "get", "-a", '{"data":"aGk=","type":"val","ver":1}', "snap.a")


def test_get_waitcreate(kvs_instance):
    w = watcher(kvs_instance, "get", "--waitcreate", "wc.key")
    rc, out, err = watch(w, lambda i: i == 0 and ok(kvs_instance, "put", "wc.key=made"))
    assert rc == 0, err
    assert out == "made\n"
    # An existing key is returned at once.
    assert ok(kvs_instance, "get", "-W", "wc.key") == "made\n"


def test_get_watch_count(kvs_instance):
    ok(kvs_instance, "put", "w.k=0")
    w = watcher(kvs_instance, "get", "--watch", "--count=3", "w.k")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "put", f"w.k={i + 1}"),
                         ready=lambda out: out.startswith("0\n"))
    assert rc == 0, err
    values = [int(x) for x in out.splitlines()]
    assert len(values) == 3 and values[0] == 0, out
    assert values == sorted(values) and len(set(values)) == 3, values


def test_get_watch_label_and_several_keys(kvs_instance):
    ok(kvs_instance, "put", "wl.a=a0", "wl.b=b0")
    w = watcher(kvs_instance, "get", "-w", "-l", "-c", "2", "wl.a", "wl.b")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "put", f"wl.a=a{i + 1}", f"wl.b=b{i + 1}"),
                         ready=lambda out: "wl.a=a0\n" in out and "wl.b=b0\n" in out)
    assert rc == 0, err
    lines = out.splitlines()
    assert "wl.a=a0" in lines and "wl.b=b0" in lines, lines
    assert len([x for x in lines if x.startswith("wl.a=")]) == 2
    assert len([x for x in lines if x.startswith("wl.b=")]) == 2


def test_get_watch_uniq(kvs_instance):
    ok(kvs_instance, "put", "wu=same")

    def commit(i):
        ok(kvs_instance, "put", "wu=same")  # the same value: not printed
        if i >= 3:
            ok(kvs_instance, "put", "wu=other")

    w = watcher(kvs_instance, "get", "-w", "--uniq", "-c", "2", "wu")
    rc, out, err = watch(w, commit, ready=lambda out: out == "same\n")
    assert rc == 0, err
    assert out == "same\nother\n"


def test_get_watch_append(kvs_instance):
    ok(kvs_instance, "put", "wa=abc")
    w = watcher(kvs_instance, "get", "-w", "--append", "-c", "3", "wa")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "put", "-A", "wa=x"),
                         ready=lambda out: out.startswith("abc\n"))
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "abc", lines
    assert len(lines) == 3 and all(set(x) == {"x"} for x in lines[1:]), lines


def test_get_watch_append_overwrite_fails(kvs_instance):
    ok(kvs_instance, "put", "wao=abc")
    w = watcher(kvs_instance, "get", "-w", "-A", "wao")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "put", f"wao=replaced{i}"),
                         ready=lambda out: out.startswith("abc\n"), deadline=5)
    assert rc == 1, out
    assert err.startswith("flux-kvs: wao: "), err


def test_get_watch_full_parent_replaced(kvs_instance):
    ok(kvs_instance, "put", "wf.dir.k=1", "wf.src.k=2")
    w = watcher(kvs_instance, "get", "-w", "--full", "-c", "2", "wf.dir.k")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "copy", "wf.src", "wf.dir"),
                         ready=lambda out: out == "1\n")
    assert rc == 0, err
    assert out == "1\n2\n"


def test_get_watch_waitcreate(kvs_instance):
    w = watcher(kvs_instance, "get", "-w", "-W", "-c", "2", "wwc")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "put", f"wwc={i}"))
    assert rc == 0, err
    lines = [int(x) for x in out.splitlines()]
    assert len(lines) == 2 and lines[0] < lines[1], out


def test_get_watch_key_removed(kvs_instance):
    ok(kvs_instance, "put", "wr=1")
    w = watcher(kvs_instance, "get", "-w", "wr")
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "unlink", "-f", "wr"),
                         ready=lambda out: out == "1\n")
    assert rc == 1
    assert err == "flux-kvs: wr: No such file or directory\n"


def test_get_watch_missing_without_waitcreate(kvs_instance):
    err = fails(kvs_instance, "get", "-w", "nowhere")
    assert err == "flux-kvs: nowhere: No such file or directory\n"


def test_get_at_with_watch_rejected(kvs_instance):
    root = ok(kvs_instance, "getroot").strip()
    r = kvs(kvs_instance, "get", "-w", "-a", root, "x")
    assert r.returncode == 1


# ---- dir ------------------------------------------------------------------


def setup_tree(inst):
    ok(inst, "put", "d.a=1", "d.b=two words", "d.sub.x=10", "d.sub.deep.y=20")
    ok(inst, "mkdir", "d.empty")
    ok(inst, "link", "d.a", "d.ln")


def test_dir_default(kvs_instance):
    setup_tree(kvs_instance)
    out = ok(kvs_instance, "dir", "-w", "0", "d")
    assert out == ("d.a = 1\n"
                   "d.b = two words\n"
                   "d.empty.\n"
                   "d.ln -> d.a\n"
                   "d.sub.\n")


def test_dir_recursive(kvs_instance):
    setup_tree(kvs_instance)
    out = ok(kvs_instance, "dir", "-R", "d")
    assert out == ("d.a = 1\n"
                   "d.b = two words\n"
                   "d.empty.\n"
                   "d.ln -> d.a\n"
                   "d.sub.deep.y = 20\n"
                   "d.sub.x = 10\n")


def test_dir_directory_only(kvs_instance):
    setup_tree(kvs_instance)
    out = ok(kvs_instance, "dir", "-R", "-d", "d.sub")
    assert out == "d.sub.deep.y\nd.sub.x\n"


def test_dir_root_default(kvs_instance):
    ok(kvs_instance, "put", "top=1")
    out = ok(kvs_instance, "dir")
    assert "top = 1\n" in out
    assert ok(kvs_instance, "dir", ".") == out


def test_dir_truncation(kvs_instance):
    long = "v" * 100
    ok(kvs_instance, "put", f"tr.long={long}", "tr.nl=first\nsecond", "tr.nlend=only\n")
    assert run_bytes(kvs_instance, "put", "-r", "tr.np=-", input=b"ab\x01cd").returncode == 0
    out = ok(kvs_instance, "dir", "-w", "40", "tr").splitlines()
    assert out[0] == ("tr.long = " + long)[:37] + "..."
    assert len(out[0]) == 40
    assert out[1] == "tr.nl = first..."
    assert out[2] == "tr.nlend = only"  # nothing after the newline: no "..."
    assert out[3] == "tr.np = ab..."
    # Width 0: nothing is cut.
    out = ok(kvs_instance, "dir", "-w", "0", "tr")
    assert f"tr.long = {long}\n" in out
    assert "tr.nl = first\nsecond\n" in out
    # Not a terminal: COLUMNS, else 80 columns.
    out = ok(kvs_instance, "dir", "tr", env=kvs_instance.env(COLUMNS="30")).splitlines()
    assert out[0] == ("tr.long = " + long)[:27] + "..."
    env = kvs_instance.env()
    env.pop("COLUMNS", None)
    out = ok(kvs_instance, "dir", "tr", env=env).splitlines()
    assert len(out[0]) == 80


def test_dir_errors(kvs_instance):
    ok(kvs_instance, "put", "de.v=1")
    assert fails(kvs_instance, "dir", "de.v") == "flux-kvs: de.v: Not a directory\n"
    assert fails(kvs_instance, "dir", "de.none") == "flux-kvs: de.none: No such file or directory\n"
    r = kvs(kvs_instance, "dir", "a", "b")
    assert r.returncode == 1


def test_dir_at(kvs_instance):
    ok(kvs_instance, "put", "da.x=1")
    root = ok(kvs_instance, "getroot").strip()
    ok(kvs_instance, "put", "da.x=2", "da.y=3")
    assert ok(kvs_instance, "dir", "-a", root, "da") == "da.x = 1\n"


def test_dir_namespace(kvs_instance):
    ok(kvs_instance, "namespace", "create", "dirns")
    ok(kvs_instance, "put", "-N", "dirns", "q.r=1")
    assert ok(kvs_instance, "dir", "-N", "dirns", "-R") == "q.r = 1\n"


# ---- ls -------------------------------------------------------------------


def test_ls_one_per_line(kvs_instance):
    setup_tree(kvs_instance)
    assert ok(kvs_instance, "ls", "-1", "d") == "a\nb\nempty\nln\nsub\n"


def test_ls_columns(kvs_instance):
    ok(kvs_instance, "put", "c.a=1", "c.bb=2", "c.ccc=3")
    # Column width is the longest name plus 4.
    row = "a" + " " * 6 + "bb" + " " * 5 + "ccc\n"
    assert ok(kvs_instance, "ls", "-w", "80", "c") == row
    assert ok(kvs_instance, "ls", "-w", "14", "c") == "a" + " " * 6 + "bb\nccc\n"
    assert ok(kvs_instance, "ls", "-w", "0", "c") == row
    # Not a terminal: COLUMNS (else 80) still gives columns, as flux-core.
    out = ok(kvs_instance, "ls", "c", env=kvs_instance.env(COLUMNS="10"))
    assert out == "a\nbb\nccc\n"


def test_ls_classify(kvs_instance):
    setup_tree(kvs_instance)
    assert ok(kvs_instance, "ls", "-1F", "d") == "a\nb\nempty.\nln@\nsub.\n"


def test_ls_directory(kvs_instance):
    setup_tree(kvs_instance)
    assert ok(kvs_instance, "ls", "-d", "d") == "d\n"
    # Columns fit the longest name as printed ("d.ln@") plus 4.
    assert ok(kvs_instance, "ls", "-dF", "d", "d.ln") == "d." + " " * 7 + "d.ln@\n"


def test_ls_recursive(kvs_instance):
    setup_tree(kvs_instance)
    out = ok(kvs_instance, "ls", "-1", "-R", "d.sub")
    assert out == "d.sub:\ndeep\nx\n\nd.sub.deep:\ny\n"


def test_ls_values_and_dirs(kvs_instance):
    setup_tree(kvs_instance)
    out = ok(kvs_instance, "ls", "-1", "d.b", "d.a", "d.sub", "d.empty")
    assert out == "d.a\nd.b\n\nd.empty:\n\nd.sub:\ndeep\nx\n"


def test_ls_symlink_to_dir(kvs_instance):
    ok(kvs_instance, "put", "lsd.t.x=1")
    ok(kvs_instance, "link", "lsd.t", "lsd.l")
    ok(kvs_instance, "link", "lsd.nothere", "lsd.dangling")
    assert ok(kvs_instance, "ls", "-1", "lsd.l") == "x\n"
    assert ok(kvs_instance, "ls", "-1", "lsd.dangling") == "lsd.dangling\n"


def test_ls_root_default(kvs_instance):
    ok(kvs_instance, "put", "rootkey=1")
    assert "rootkey" in ok(kvs_instance, "ls", "-1").splitlines()


def test_ls_errors(kvs_instance):
    ok(kvs_instance, "put", "le.v=1")
    r = kvs(kvs_instance, "ls", "-1", "le.none", "le.v")
    assert r.returncode == 1
    assert r.stderr == "flux-kvs: le.none: No such file or directory\n"
    assert r.stdout == "le.v\n"  # the others are still listed
    r = kvs(kvs_instance, "ls", "le.v.")
    assert r.returncode == 1
    assert r.stderr == "flux-kvs: le.v: Not a directory\n"


# ---- unlink ---------------------------------------------------------------


def test_unlink_value(kvs_instance):
    ok(kvs_instance, "put", "u.a=1", "u.b=2")
    ok(kvs_instance, "unlink", "u.a", "u.b")
    fails(kvs_instance, "get", "u.a")
    fails(kvs_instance, "get", "u.b")


def test_unlink_missing(kvs_instance):
    err = fails(kvs_instance, "unlink", "u.none")
    assert err == "flux-kvs: cannot unlink 'u.none': No such file or directory\n"
    ok(kvs_instance, "unlink", "-f", "u.none")
    ok(kvs_instance, "put", "u.c=1")
    ok(kvs_instance, "unlink", "--force", "u.none", "u.c")
    fails(kvs_instance, "get", "u.c")


def test_unlink_directory(kvs_instance):
    ok(kvs_instance, "put", "ud.full.x=1")
    ok(kvs_instance, "mkdir", "ud.empty")
    err = fails(kvs_instance, "unlink", "ud.full")
    assert err == "flux-kvs: cannot unlink 'ud.full': Directory not empty\n"
    assert ok(kvs_instance, "get", "ud.full.x") == "1\n"
    ok(kvs_instance, "unlink", "ud.empty")
    ok(kvs_instance, "unlink", "-R", "ud.full")
    fails(kvs_instance, "get", "ud.full.x")
    assert ok(kvs_instance, "dir", "ud") == ""


def test_unlink_sequence(kvs_instance):
    ok(kvs_instance, "put", "us=1")
    seq = int(ok(kvs_instance, "unlink", "-s", "us"))
    assert seq == version(kvs_instance)


def test_unlink_symlink_keeps_target(kvs_instance):
    ok(kvs_instance, "put", "ul.t=1")
    ok(kvs_instance, "link", "ul.t", "ul.l")
    ok(kvs_instance, "unlink", "ul.l")
    assert ok(kvs_instance, "get", "ul.t") == "1\n"


# ---- link / readlink ------------------------------------------------------


def test_link_readlink(kvs_instance):
    ok(kvs_instance, "put", "lk.target=value")
    ok(kvs_instance, "link", "lk.target", "lk.link")
    assert ok(kvs_instance, "get", "lk.link") == "value\n"
    assert ok(kvs_instance, "readlink", "lk.link") == "lk.target\n"
    # The target need not exist.
    ok(kvs_instance, "link", "lk.nothing", "lk.dangling")
    assert ok(kvs_instance, "readlink", "lk.dangling") == "lk.nothing\n"
    assert "No such file or directory" in fails(kvs_instance, "get", "lk.dangling")
    # readlink of something that is not a link fails.
    err = fails(kvs_instance, "readlink", "lk.target")
    assert err.startswith("flux-kvs: lk.target: ")
    assert "No such file" in fails(kvs_instance, "readlink", "lk.none")


def test_treeobj_lookup_does_not_follow_final_symlink(kvs_instance):
    """As flux-core's kvs: a lookup with the treeobj flag returns a final
    symlink itself, so get -t shows it, copy copies the link (not its
    target) and unlink removes a link to a non-empty directory without -R."""
    ok(kvs_instance, "put", "fs.dir.x=1")
    ok(kvs_instance, "link", "fs.dir", "fs.link")
    obj = json.loads(ok(kvs_instance, "get", "-t", "fs.link"))
    assert obj["type"] == "symlink" and obj["data"]["target"] == "fs.dir", obj
    ok(kvs_instance, "copy", "fs.link", "fs.link2")
    assert ok(kvs_instance, "readlink", "fs.link2") == "fs.dir\n"
    ok(kvs_instance, "unlink", "fs.link")
    assert ok(kvs_instance, "get", "fs.dir.x") == "1\n"


def test_link_to_directory(kvs_instance):
    ok(kvs_instance, "put", "lkd.dir.x=1")
    ok(kvs_instance, "link", "lkd.dir", "lkd.l")
    assert ok(kvs_instance, "get", "lkd.l.x") == "1\n"


def test_link_across_namespaces(kvs_instance):
    ok(kvs_instance, "namespace", "create", "other")
    ok(kvs_instance, "put", "-N", "other", "data.k=42")
    ok(kvs_instance, "link", "-T", "other", "data.k", "xl")
    assert ok(kvs_instance, "get", "xl") == "42\n"
    assert ok(kvs_instance, "readlink", "xl") == "other::data.k\n"
    assert ok(kvs_instance, "readlink", "-o", "xl") == "other\n"
    assert ok(kvs_instance, "readlink", "--key-only", "xl") == "data.k\n"
    # A link in the other namespace to a primary key.
    ok(kvs_instance, "put", "prim=p")
    ok(kvs_instance, "link", "-N", "other", "-T", "primary", "prim", "back")
    assert ok(kvs_instance, "get", "-N", "other", "back") == "p\n"
    assert ok(kvs_instance, "readlink", "-N", "other", "back") == "primary::prim\n"
    # -o on a link without a namespace prints the key.
    ok(kvs_instance, "link", "prim", "plain")
    assert ok(kvs_instance, "readlink", "-o", "plain") == "prim\n"
    assert ok(kvs_instance, "dir", "-w", "0", ".").count("xl -> other::data.k\n") == 1


def test_link_replaces_and_outputs(kvs_instance):
    ok(kvs_instance, "put", "lr=1")
    seq = int(ok(kvs_instance, "link", "-s", "a", "lr"))
    assert seq == version(kvs_instance)
    assert ok(kvs_instance, "readlink", "lr") == "a\n"


def test_readlink_at_and_several(kvs_instance):
    ok(kvs_instance, "link", "t1", "rl.a")
    ok(kvs_instance, "link", "t2", "rl.b")
    root = ok(kvs_instance, "getroot").strip()
    ok(kvs_instance, "link", "t3", "rl.a")
    assert ok(kvs_instance, "readlink", "rl.a", "rl.b") == "t3\nt2\n"
    assert ok(kvs_instance, "readlink", "-a", root, "rl.a") == "t1\n"


# ---- mkdir ----------------------------------------------------------------


def test_mkdir(kvs_instance):
    ok(kvs_instance, "mkdir", "mk.a", "mk.b")
    assert ok(kvs_instance, "dir", "mk") == "mk.a.\nmk.b.\n"
    assert ok(kvs_instance, "dir", "mk.a") == ""
    # It replaces whatever is there.
    ok(kvs_instance, "put", "mk.v=1")
    ok(kvs_instance, "mkdir", "mk.v")
    assert fails(kvs_instance, "get", "mk.v") == "flux-kvs: mk.v: Is a directory\n"
    seq = int(ok(kvs_instance, "mkdir", "-s", "mk.c"))
    assert seq == version(kvs_instance)


# ---- copy / move ----------------------------------------------------------


def test_copy_value_and_dir(kvs_instance):
    ok(kvs_instance, "put", "cp.v=1", "cp.dir.x=2", "cp.dir.sub.y=3")
    ok(kvs_instance, "copy", "cp.v", "cp.v2")
    assert ok(kvs_instance, "get", "cp.v2") == "1\n"
    ok(kvs_instance, "copy", "cp.dir", "cp.dir2")
    assert ok(kvs_instance, "dir", "-R", "cp.dir2") == "cp.dir2.sub.y = 3\ncp.dir2.x = 2\n"
    # The copy is independent of the original.
    ok(kvs_instance, "put", "cp.dir.x=changed")
    assert ok(kvs_instance, "get", "cp.dir2.x") == "2\n"


def test_move(kvs_instance):
    ok(kvs_instance, "put", "mv.a.b=1")
    ok(kvs_instance, "move", "mv.a", "mv.c")
    assert ok(kvs_instance, "get", "mv.c.b") == "1\n"
    fails(kvs_instance, "get", "mv.a.b")


def test_copy_move_across_namespaces(kvs_instance):
    ok(kvs_instance, "namespace", "create", "cpns")
    ok(kvs_instance, "put", "src=hello")
    ok(kvs_instance, "copy", "-D", "cpns", "src", "dst")
    assert ok(kvs_instance, "get", "-N", "cpns", "dst") == "hello\n"
    ok(kvs_instance, "move", "--src-namespace", "cpns", "--dst-namespace", "primary", "dst",
       "back")
    assert ok(kvs_instance, "get", "back") == "hello\n"
    fails(kvs_instance, "get", "-N", "cpns", "dst")


def test_copy_errors(kvs_instance):
    err = fails(kvs_instance, "copy", "cpe.none", "cpe.x")
    assert err == "flux-kvs: cpe.none: No such file or directory\n"
    fails(kvs_instance, "move", "cpe.none", "cpe.x")
    assert kvs(kvs_instance, "copy", "only-one").returncode == 1


# ---- getroot / version / wait / dropcache ---------------------------------


def test_getroot(kvs_instance):
    ok(kvs_instance, "put", "gr=1")
    root = json.loads(ok(kvs_instance, "getroot"))
    assert root["type"] == "dirref" and root["ver"] == 1 and len(root["data"]) == 1
    assert ok(kvs_instance, "getroot", "--blobref").strip() == root["data"][0]
    assert int(ok(kvs_instance, "getroot", "-s")) == version(kvs_instance)
    assert int(ok(kvs_instance, "getroot", "--owner")) == os.getuid()
    assert kvs(kvs_instance, "getroot", "-s", "-b").returncode == 1


def test_version_and_wait(kvs_instance):
    v = version(kvs_instance)
    ok(kvs_instance, "put", "vw=1")
    assert version(kvs_instance) == v + 1
    ok(kvs_instance, "wait", v + 1)  # already reached
    ok(kvs_instance, "wait", "0")
    target = version(kvs_instance) + 2
    w = watcher(kvs_instance, "wait", target)
    rc, out, err = watch(w, lambda i: ok(kvs_instance, "put", f"vw={i}"))
    assert rc == 0, err
    assert version(kvs_instance) >= target
    assert kvs(kvs_instance, "wait").returncode == 1


def test_dropcache(kvs_instance):
    ok(kvs_instance, "put", "dc.a=1", "dc.b=" + "z" * 5000)
    ok(kvs_instance, "dropcache")
    assert ok(kvs_instance, "get", "dc.a") == "1\n"
    ok(kvs_instance, "dropcache", "--all")
    assert ok(kvs_instance, "get", "dc.b") == "z" * 5000 + "\n"


# ---- namespaces -----------------------------------------------------------


def ns_rows(inst):
    lines = ok(inst, "namespace", "list").splitlines()
    assert re.match(r"^NAMESPACE\s+OWNER\s+FLAGS$", lines[0]), lines[0]
    return {line.split()[0]: line for line in lines[1:]}


def test_namespace_create_list_remove(kvs_instance):
    ok(kvs_instance, "namespace", "create", "ns1", "ns2")
    ok(kvs_instance, "namespace", "create", "-o", "1234", "ns3")
    rows = ns_rows(kvs_instance)
    assert {"primary", "ns1", "ns2", "ns3"} <= set(rows)
    uid = os.getuid()
    assert rows["ns1"] == f"{'ns1':<36} {uid:>10} 0x00000000"
    assert rows["ns3"].split()[1] == "1234"
    assert int(ok(kvs_instance, "getroot", "-N", "ns3", "-o")) == 1234
    # Each namespace has its own keys and versions.
    assert version(kvs_instance, "-N", "ns1") == 0
    ok(kvs_instance, "put", "-N", "ns1", "k=in-ns1")
    fails(kvs_instance, "get", "k")
    assert ok(kvs_instance, "get", "-N", "ns1", "k") == "in-ns1\n"
    assert version(kvs_instance, "-N", "ns1") == 1
    ok(kvs_instance, "namespace", "remove", "ns1", "ns2")
    rows = ns_rows(kvs_instance)
    assert "ns1" not in rows and "ns2" not in rows
    err = fails(kvs_instance, "get", "-N", "ns1", "k")
    assert err.startswith("flux-kvs: k: ")


def test_namespace_env(kvs_instance):
    ok(kvs_instance, "namespace", "create", "envns")
    env = kvs_instance.env(FLUX_KVS_NAMESPACE="envns")
    ok(kvs_instance, "put", "ek=1", env=env)
    assert ok(kvs_instance, "get", "ek", env=env) == "1\n"
    fails(kvs_instance, "get", "ek")
    assert ok(kvs_instance, "get", "-N", "envns", "ek") == "1\n"


def test_namespace_errors(kvs_instance):
    ok(kvs_instance, "namespace", "create", "dup")
    err = fails(kvs_instance, "namespace", "create", "dup")
    assert err.startswith("flux-kvs: dup: ")
    assert fails(kvs_instance, "namespace", "remove", "primary").startswith("flux-kvs: primary: ")
    assert fails(kvs_instance, "namespace", "remove", "nons").startswith("flux-kvs: nons: ")
    assert "unsigned integer" in fails(kvs_instance, "namespace", "create", "-o", "x", "n")
    assert kvs(kvs_instance, "namespace").returncode == 1
    assert kvs(kvs_instance, "namespace", "create").returncode == 1
    fails(kvs_instance, "put", "-N", "nons", "a=1")
    fails(kvs_instance, "version", "-N", "nons")


# ---- eventlog -------------------------------------------------------------


def test_eventlog_append_get(kvs_instance):
    ok(kvs_instance, "eventlog", "append", "-t", "1.5", "el", "start")
    ok(kvs_instance, "eventlog", "append", "--timestamp=2.25", "el", "done",
       '{"status":0,"note":"all good"}')
    ok(kvs_instance, "eventlog", "append", "-t", "3", "el", "split", '{"a":', "1}")
    out = ok(kvs_instance, "eventlog", "get", "el")
    assert out == ("1.500000 start\n"
                   '2.250000 done note="all good" status=0\n'
                   "3.000000 split a=1\n")
    raw = ok(kvs_instance, "eventlog", "get", "-u", "el").splitlines()
    assert [json.loads(x) for x in raw] == [
        {"timestamp": 1.5, "name": "start"},
        {"timestamp": 2.25, "name": "done", "context": {"note": "all good", "status": 0}},
        {"timestamp": 3, "name": "split", "context": {"a": 1}},
    ]
    # The stored value is RFC 18 text.
    assert ok(kvs_instance, "get", "-r", "el") == "\n".join(raw) + "\n"
    assert ok(kvs_instance, "eventlog", "get", "-c", "2", "el").count("\n") == 2


def test_eventlog_append_current_time(kvs_instance):
    before = time.time()
    ok(kvs_instance, "eventlog", "append", "now", "tick")
    entry = json.loads(ok(kvs_instance, "eventlog", "get", "-u", "now"))
    assert before - 1 <= entry["timestamp"] <= time.time() + 1
    assert entry["name"] == "tick" and "context" not in entry


def test_eventlog_human(kvs_instance):
    ok(kvs_instance, "eventlog", "append", "-t", "1700000000.5", "hum", "a")
    ok(kvs_instance, "eventlog", "append", "-t", "1700000001.75", "hum", "b")
    lines = ok(kvs_instance, "eventlog", "get", "-H", "hum").splitlines()
    assert re.match(r"^\[[A-Z][a-z]{2}\d\d \d\d:\d\d\] a$", lines[0]), lines
    assert re.match(r"^\[ +\+\d+\.\d+\] b$", lines[1]), lines


def test_eventlog_errors(kvs_instance):
    err = fails(kvs_instance, "eventlog", "get", "el.none")
    assert err == "flux-kvs: el.none: No such file or directory\n"
    err = fails(kvs_instance, "eventlog", "append", "elx", "ev", "{not json")
    assert "JSON object" in err
    fails(kvs_instance, "eventlog", "append", "elx", "ev", "[1,2]")
    fails(kvs_instance, "eventlog", "append", "-t", "-1", "elx", "ev")
    ok(kvs_instance, "put", "notlog=hello")
    err = fails(kvs_instance, "eventlog", "get", "notlog")
    assert err.startswith("flux-kvs: notlog: ")
    assert kvs(kvs_instance, "eventlog").returncode == 1
    assert kvs(kvs_instance, "eventlog", "append", "only-key").returncode == 1


def test_eventlog_get_watch(kvs_instance):
    ok(kvs_instance, "eventlog", "append", "-t", "1", "ew", "first")
    w = watcher(kvs_instance, "eventlog", "get", "--watch", "--count=4", "ew")
    rc, out, err = watch(
        w, lambda i: ok(kvs_instance, "eventlog", "append", "-t", str(i + 2), "ew", f"e{i}",
                        json.dumps({"i": i})))
    assert rc == 0, err
    lines = out.splitlines()
    assert lines == ["1.000000 first", "2.000000 e0 i=0", "3.000000 e1 i=1",
                     "4.000000 e2 i=2"], lines


def test_eventlog_get_watch_waitcreate(kvs_instance):
    w = watcher(kvs_instance, "eventlog", "get", "-W", "-w", "-c", "2", "-u", "ewc")
    rc, out, err = watch(
        w, lambda i: ok(kvs_instance, "eventlog", "append", "-t", str(i + 1), "ewc", "ev"))
    assert rc == 0, err
    entries = [json.loads(x) for x in out.splitlines()]
    assert [e["timestamp"] for e in entries] == [1, 2], entries


def test_eventlog_get_waitcreate_without_watch(kvs_instance):
    w = watcher(kvs_instance, "eventlog", "get", "-W", "ewn")
    rc, out, err = watch(
        w, lambda i: i == 0 and ok(kvs_instance, "eventlog", "append", "-t", "5", "ewn", "made"))
    assert rc == 0, err
    assert out == "5.000000 made\n"


def test_wait_event_present(kvs_instance):
    for t, name in [(1, "a"), (2, "b"), (3, "c")]:
        ok(kvs_instance, "eventlog", "append", "-t", str(t), "we", name)
    assert ok(kvs_instance, "eventlog", "wait-event", "we", "b") == "2.000000 b\n"
    assert ok(kvs_instance, "eventlog", "wait-event", "-q", "we", "b") == ""
    assert ok(kvs_instance, "eventlog", "wait-event", "-v", "we", "c") == (
        "1.000000 a\n2.000000 b\n3.000000 c\n")
    assert ok(kvs_instance, "eventlog", "wait-event", "-v", "-q", "we", "b") == "1.000000 a\n"
    out = ok(kvs_instance, "eventlog", "wait-event", "-u", "we", "a")
    assert json.loads(out) == {"timestamp": 1, "name": "a"}


def test_wait_event_future(kvs_instance):
    ok(kvs_instance, "eventlog", "append", "-t", "1", "wf", "start")
    w = watcher(kvs_instance, "eventlog", "wait-event", "-v", "wf", "finish")

    def append(i):
        ok(kvs_instance, "eventlog", "append", "-t", str(i + 2), "wf", "tick")
        if i == 2:
            ok(kvs_instance, "eventlog", "append", "-t", "100", "wf", "finish", '{"rc":0}')

    rc, out, err = watch(w, append)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "1.000000 start"
    assert lines[-1] == "100.000000 finish rc=0"
    assert all(x.endswith(" tick") for x in lines[1:-1]), lines


def test_wait_event_timeout(kvs_instance):
    ok(kvs_instance, "eventlog", "append", "wt", "other")
    start = time.monotonic()
    err = fails(kvs_instance, "eventlog", "wait-event", "--timeout=0.3", "wt", "never")
    assert "timeout" in err
    assert time.monotonic() - start < 10


def test_wait_event_missing_and_waitcreate(kvs_instance):
    err = fails(kvs_instance, "eventlog", "wait-event", "wm", "x")
    assert "not found" in err
    w = watcher(kvs_instance, "eventlog", "wait-event", "-W", "wm", "x")
    rc, out, err = watch(
        w, lambda i: i == 0 and ok(kvs_instance, "eventlog", "append", "-t", "7", "wm", "x"))
    assert rc == 0, err
    assert out == "7.000000 x\n"


def test_wait_event_namespace(kvs_instance):
    ok(kvs_instance, "namespace", "create", "evns")
    ok(kvs_instance, "eventlog", "append", "-N", "evns", "-t", "9", "log", "hello")
    assert ok(kvs_instance, "eventlog", "wait-event", "-N", "evns", "log", "hello") == (
        "9.000000 hello\n")
    assert ok(kvs_instance, "eventlog", "get", "-N", "evns", "log") == "9.000000 hello\n"
    fails(kvs_instance, "eventlog", "get", "log")


# ---- command line ---------------------------------------------------------


def test_usage_errors_and_help(kvs_instance):
    r = kvs(kvs_instance)
    assert r.returncode == 1
    r = kvs(kvs_instance, "frobnicate")
    assert r.returncode == 1
    r = kvs(kvs_instance, "get", "--help")  # on stderr, as flux-core's C commands
    assert r.returncode == 0 and "--waitcreate" in r.stderr
    r = kvs(kvs_instance, "get", "--bogus", "k")
    assert r.returncode == 1 and r.stderr.startswith("flux-kvs get: unrecognized option '--bogus'")


def test_no_kvs_module(instance):
    """Without the kvs module loaded (unless rc1 loads it) commands fail
    cleanly instead of hanging."""
    wait_until_running(instance)
    if "kvs" in loaded_modules(instance):
        pytest.skip("rc1 loads the KVS")
    r = instance.run("kvs", "get", "a", timeout=10)
    assert r.returncode == 1
    assert r.stderr.startswith("flux-kvs: a: ")


def test_eventlog_commands_refuse_a_value_that_is_not_an_eventlog(kvs_instance):
    """Not an eventlog (no newline): an error at once, not a wait forever."""
    assert kvs(kvs_instance, "put", "plain=foo").returncode == 0
    for args in (["eventlog", "get", "plain"], ["eventlog", "wait-event", "plain", "foo"]):
        r = kvs(kvs_instance, *args)
        assert r.returncode == 1, args
        assert "plain: cannot decode eventlog" in r.stderr


def test_eventlog_color_options(kvs_instance):
    """-L/--color[=WHEN] as flux-core's: always forces escapes, never and a
    pipe (auto) leave them out, anything else is an error."""
    assert kvs(kvs_instance, "eventlog", "append", "colorlog", "primus", '{"a":1}').returncode == 0
    for args in (["-L"], ["--color=always"], ["-Lalways"]):
        for sub in (["get"], ["wait-event"]):
            extra = ["primus"] if sub == ["wait-event"] else []
            r = kvs(kvs_instance, "eventlog", *sub, *args, "colorlog", *extra)
            assert r.returncode == 0 and "\x1b[" in r.stdout, (args, sub, r.stdout)
    for args in ([], ["--color=never"], ["--color=auto"]):
        r = kvs(kvs_instance, "eventlog", "get", *args, "colorlog")
        assert r.returncode == 0 and "\x1b[" not in r.stdout
    r = kvs(kvs_instance, "eventlog", "get", "--color=foo", "colorlog")
    assert r.returncode == 1 and "--color=foo" in r.stderr
