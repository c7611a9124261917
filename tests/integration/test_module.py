"""flux module load/list/remove/stats with the test module echo.so, and its
services reached over the raw local protocol."""

import errno
import json
import time

import pytest

import fluxmsg


def load_echo(instance, path, *args):
    r = instance.run("module", "load", path, *args)
    assert r.returncode == 0, f"module load failed: {r.stderr}"


def listed(instance):
    """{name: row fields} from flux module list (skipping the header)."""
    r = instance.run("module", "list")
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in r.stdout.splitlines()[1:]:
        fields = line.split()
        if fields:
            rows[fields[0]] = fields
    return rows


def test_load_list_remove(instance, echo_module):
    assert "echo" not in listed(instance)
    load_echo(instance, echo_module, "a", "b")
    rows = listed(instance)
    assert "echo" in rows, rows
    assert "R" in rows["echo"], rows["echo"]  # running
    assert "echo2" in rows["echo"][-1], "extra service echo2 should be listed"
    r = instance.run("module", "remove", "echo")
    assert r.returncode == 0, r.stderr
    assert "echo" not in listed(instance)


def test_ping_module_and_extra_service(instance, echo_module):
    load_echo(instance, echo_module)
    r = instance.run("ping", "--count=2", "--interval=0", "echo")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("echo.ping") == 2
    r = instance.run("ping", "--count=1", "echo2")
    assert r.returncode == 0, r.stderr
    assert "echo2.ping" in r.stdout


def test_stats(instance, echo_module):
    load_echo(instance, echo_module)
    assert instance.run("ping", "--count=3", "--interval=0", "echo").returncode == 0
    r = instance.run("module", "stats", "echo")
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["rx"]["request"] >= 3
    assert stats["tx"]["response"] >= 3


def test_removed_module_does_not_answer(instance, echo_module):
    load_echo(instance, echo_module)
    assert instance.run("module", "remove", "echo").returncode == 0
    for target in ("echo", "echo2"):
        r = instance.run("ping", "--count=1", target)
        assert r.returncode == 1, f"{target} still answers after remove"
        assert "Function not implemented" in r.stderr, r.stderr


def test_reload_after_remove(instance, echo_module):
    load_echo(instance, echo_module)
    assert instance.run("module", "remove", "echo").returncode == 0
    load_echo(instance, echo_module)
    assert instance.run("ping", "--count=1", "echo").returncode == 0
    assert instance.run("ping", "--count=1", "echo2").returncode == 0


def test_load_twice_fails(instance, echo_module):
    load_echo(instance, echo_module)
    r = instance.run("module", "load", echo_module)
    assert r.returncode != 0
    assert "File exists" in r.stderr or "already loaded" in r.stderr, r.stderr
    # The first copy is unharmed.
    assert instance.run("ping", "--count=1", "echo").returncode == 0
    assert list(listed(instance)).count("echo") == 1


def test_load_nonexistent_path(instance, tmp_path):
    r = instance.run("module", "load", str(tmp_path / "nosuch.so"))
    assert r.returncode != 0
    assert r.stderr.startswith("flux-module:"), r.stderr
    assert "nosuch" in r.stderr
    assert "No such file" in r.stderr or "not found" in r.stderr, r.stderr


def test_load_nonexistent_name(instance):
    r = instance.run("module", "load", "nosuchmodule")
    assert r.returncode != 0
    assert "nosuchmodule" in r.stderr
    assert "not found" in r.stderr or "No such file" in r.stderr, r.stderr


def test_load_not_a_module(instance, tmp_path):
    bogus = tmp_path / "bogus.so"
    bogus.write_text("this is not an ELF file\n")
    r = instance.run("module", "load", str(bogus))
    assert r.returncode != 0
    assert "bogus" in r.stderr
    assert "bogus" not in listed(instance)


def test_failing_module_load(instance, echo_module):
    r = instance.run("module", "load", echo_module, "fail")
    assert r.returncode != 0
    assert "echo" in r.stderr
    assert "echo" not in listed(instance)
    # The name is free again.
    load_echo(instance, echo_module)
    assert instance.run("ping", "--count=1", "echo").returncode == 0


def test_remove_nosuch(instance):
    r = instance.run("module", "remove", "nosuch")
    assert r.returncode != 0
    assert "nosuch" in r.stderr
    r = instance.run("module", "remove", "-f", "nosuch")
    assert r.returncode == 0, r.stderr


def test_stats_unknown_module(instance):
    r = instance.run("module", "stats", "nosuch")
    assert r.returncode != 0


# --- the module's own services over the raw protocol -----------------------


def test_echo_hello(instance, echo_module):
    load_echo(instance, echo_module, "a", "b")
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("echo.hello", {"greeting": "hi", "n": 3}, matchtag=9)
        assert rep.type == fluxmsg.RESPONSE
        assert rep.matchtag == 9
        assert rep.errnum == 0, rep.string()
        body = rep.json()
        assert body["greeting"] == "hi" and body["n"] == 3
        assert body["module"] == "echo"
        assert body["args"][-2:] == ["a", "b"]
        rep = c.rpc("echo2.hello", {"x": 1}, matchtag=10)
        assert rep.errnum == 0, rep.string()
        assert rep.json()["x"] == 1 and rep.json()["module"] == "echo"


def test_echo_stream(instance, echo_module):
    load_echo(instance, echo_module)
    with fluxmsg.Client(instance.sock) as c:
        c.send(fluxmsg.request("echo.stream", {"count": 4}, matchtag=3,
                               flags=fluxmsg.F_STREAMING))
        got = []
        while True:
            rep = c.recv()
            assert rep.matchtag == 3
            if rep.errnum:
                assert rep.errnum == errno.ENODATA, rep
                break
            assert rep.flags & fluxmsg.F_STREAMING
            got.append(rep.json()["i"])
        assert got == [0, 1, 2, 3]


def test_echo_sleep(instance, echo_module):
    load_echo(instance, echo_module)
    with fluxmsg.Client(instance.sock) as c:
        t0 = time.monotonic()
        c.send(fluxmsg.request("echo.sleep", {"seconds": 0.5}, matchtag=1))
        # While the module sleeps it keeps serving other requests.
        rep = c.rpc("echo.hello", {}, matchtag=2)
        assert rep.matchtag == 2 and rep.errnum == 0
        assert time.monotonic() - t0 < 0.5
        rep = c.recv()
        assert rep.matchtag == 1 and rep.errnum == 0, rep
        assert rep.json() == {}
        assert time.monotonic() - t0 >= 0.5


def test_echo_unknown_method(instance, echo_module):
    load_echo(instance, echo_module)
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("echo.nosuch", {}, matchtag=4)
        assert rep.errnum == errno.ENOSYS


@pytest.mark.parametrize("target", ["echo", "echo2"])
def test_module_ping_route(instance, echo_module, target):
    load_echo(instance, echo_module)
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc(f"{target}.ping", {"seq": 1, "pad": ""}, matchtag=7)
        assert rep.errnum == 0, rep.string()
        assert rep.json()["seq"] == 1
        assert "!" in rep.json()["route"]


def test_module_on_broker_thread_loads_fails_and_reloads(instance):
    # content runs on the broker's own thread (it exports mod_start): its
    # set-up failure must fail the load, and it must unload and load again.
    for mod in ("kvs-watch", "kvs", "content-sqlite", "content"):
        r = instance.run("module", "remove", mod)
        assert r.returncode == 0, r.stderr
    r = instance.run("module", "load", "content", "bogus=1")
    assert r.returncode == 1
    assert "content failed to start" in r.stderr
    assert "content" not in instance.run("module", "list").stdout
    for mod in ("content", "content-sqlite", "kvs", "kvs-watch"):
        r = instance.run("module", "load", mod)
        assert r.returncode == 0, r.stderr
    r = instance.run("ping", "--count=1", "content")
    assert r.returncode == 0, r.stderr
    r = instance.run("kvs", "put", "after.reload=1")
    assert r.returncode == 0, r.stderr
    assert instance.run("kvs", "get", "after.reload").stdout.strip() == "1"


def test_reload_unload_and_debug_flags(instance, echo_module):
    load_echo(instance, echo_module)
    r = instance.run("module", "reload", echo_module, "x")
    assert r.returncode == 0, r.stderr
    assert "echo" in listed(instance)
    for args, flags in [(["-s", "0x2"], "0x2"), (["--setbit=0x8"], "0xa"), (["-c", "2"], "0x8"),
                        (["-S", "0x11"], "0x11"), (["-C"], "0x0")]:
        r = instance.run("module", "debug", *args, "echo")
        assert r.returncode == 0 and r.stdout == flags + "\n", (args, r)
    r = instance.run("module", "unload", "echo")
    assert r.returncode == 0, r.stderr
    assert "echo" not in listed(instance)
    r = instance.run("module", "reload", echo_module)
    assert r.returncode == 1  # not loaded: -f is needed
    r = instance.run("module", "reload", "-f", echo_module)
    assert r.returncode == 0, r.stderr
    assert "echo" in listed(instance)
    instance.run("module", "remove", "echo")


def test_handle_trace(instance):
    r = instance.run("getattr", "rank", env=instance.env(FLUX_HANDLE_TRACE="1"))
    assert r.returncode == 0 and r.stdout == "0\n"
    assert "--> request attr.get" in r.stderr and "<-- response attr.get" in r.stderr


def test_job_exec_kill_timeout_option(instance):
    from conftest import wait_until_running

    wait_until_running(instance)
    r = instance.run("module", "reload", "job-exec", "kill-timeout=0.1")
    assert r.returncode == 0, r.stderr
    r = instance.run("module", "reload", "job-exec", "kill-timeout=soon")
    assert r.returncode != 0 and "failed to start" in r.stderr
    r = instance.run("module", "load", "job-exec")
    assert r.returncode == 0, r.stderr
