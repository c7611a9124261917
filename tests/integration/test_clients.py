"""The local connector from the wire up: a raw Python client (fluxmsg.py)
checks framing, routing of responses to the right connection, and that bad
or vanishing clients cannot hurt the broker or other clients."""

import errno
import os
import socket
import struct
import time

import fluxmsg
from conftest import Instance


def ping(c, seq=1, matchtag=5, pad=""):
    c.send(fluxmsg.request("broker.ping", {"seq": seq, "pad": pad}, matchtag=matchtag))


def check_pong(rep, seq, matchtag, pad=""):
    assert rep.type == fluxmsg.RESPONSE, rep
    assert rep.topic == "broker.ping"
    assert rep.matchtag == matchtag
    assert rep.errnum == 0, rep.string()
    body = rep.json()
    assert body["seq"] == seq
    assert body["pad"] == pad
    assert "route" in body
    return body


def broker_alive(instance):
    with fluxmsg.Client(instance.sock) as c:
        ping(c, seq=42, matchtag=1)
        check_pong(c.recv(), 42, 1)
    r = instance.run("getattr", "rank")
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stderr


def test_raw_ping(instance):
    uuid = instance.run("getattr", "broker.uuid").stdout.strip()
    with fluxmsg.Client(instance.sock) as c:
        ping(c, seq=1, matchtag=5)
        rep = c.recv()
        body = check_pong(rep, 1, 5)
        hops = body["route"].split("!")
        assert len(hops) == 2 and hops[1] == uuid[:8], body["route"]
        # The broker stamps the connection's credentials on the request.
        assert body["userid"] == os.getuid()
        assert body["rolemask"] & fluxmsg.ROLE_OWNER
        # A response to a client has had the client's own hop popped.
        assert not rep.routes, rep.routes


def test_raw_ping_large_payload(instance):
    # Parts of 255 bytes and more use the 0xff + 4-byte length form.
    with fluxmsg.Client(instance.sock) as c:
        for n, tag in ((200, 1), (254, 2), (255, 3), (70000, 4)):
            pad = "x" * n
            ping(c, seq=n, matchtag=tag, pad=pad)
            check_pong(c.recv(), n, tag, pad)


def test_pipelined_requests(instance):
    with fluxmsg.Client(instance.sock) as c:
        data = b"".join(
            fluxmsg.frame(fluxmsg.request("broker.ping", {"seq": i, "pad": ""}, matchtag=100 + i))
            for i in range(50))
        c.send_raw(data)  # many frames in one write
        got = {}
        for _ in range(50):
            rep = c.recv()
            got[rep.matchtag] = rep.json()["seq"]
        assert got == {100 + i: i for i in range(50)}


def test_split_frame(instance):
    # A frame arriving a few bytes at a time is reassembled.
    with fluxmsg.Client(instance.sock) as c:
        data = fluxmsg.frame(fluxmsg.request("broker.ping", {"seq": 7, "pad": ""}, matchtag=8))
        for i in range(0, len(data), 3):
            c.send_raw(data[i:i + 3])
            time.sleep(0.001)
        check_pong(c.recv(), 7, 8)


def test_two_clients_get_their_own_responses(instance):
    with fluxmsg.Client(instance.sock) as c1, fluxmsg.Client(instance.sock) as c2:
        # Same matchtag on both connections: responses are routed by
        # connection, not by matchtag.
        ping(c1, seq=1, matchtag=1)
        ping(c2, seq=2, matchtag=1)
        ping(c1, seq=3, matchtag=2)
        ping(c2, seq=4, matchtag=2)
        b2 = check_pong(c2.recv(), 2, 1)
        b4 = check_pong(c2.recv(), 4, 2)
        b1 = check_pong(c1.recv(), 1, 1)
        b3 = check_pong(c1.recv(), 3, 2)
        assert b1["route"] == b3["route"]
        assert b2["route"] == b4["route"]
        assert b1["route"] != b2["route"], "two connections share a route hop"


def test_unknown_service_enosys(instance):
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("nosuchservice.foo", {}, matchtag=3)
        assert rep.type == fluxmsg.RESPONSE
        assert rep.matchtag == 3
        assert rep.errnum == errno.ENOSYS


def test_unreachable_rank(instance):
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("broker.ping", {"seq": 1, "pad": ""}, matchtag=4, nodeid=5)
        assert rep.matchtag == 4
        assert rep.errnum == errno.EHOSTUNREACH


def test_noresponse_request_gets_no_response(instance):
    with fluxmsg.Client(instance.sock) as c:
        c.send(fluxmsg.request("broker.ping", {"seq": 1, "pad": ""}, matchtag=0,
                               flags=fluxmsg.F_NORESPONSE))
        c.send(fluxmsg.request("nosuchservice.foo", {}, matchtag=0, flags=fluxmsg.F_NORESPONSE))
        ping(c, seq=2, matchtag=6)
        check_pong(c.recv(), 2, 6)  # the first message back is the later ping's


def test_garbage_disconnects_only_that_client(instance):
    with fluxmsg.Client(instance.sock) as good:
        before = instance.run("dmesg").stdout.splitlines()
        bad = fluxmsg.Client(instance.sock)
        try:
            try:
                bad.send_raw(b"\x00\x01garbage" * 10)
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert bad.wait_closed(10), "broker kept a client that sent garbage"
        finally:
            bad.close()
        # The other connection and new ones still work.
        ping(good, seq=9, matchtag=9)
        check_pong(good.recv(), 9, 9)
    broker_alive(instance)
    after = instance.run("dmesg").stdout.splitlines()
    new = [line for line in after if line not in before]
    assert any("client" in line for line in new), f"nothing logged about the bad client: {new}"


def test_bad_proto_block_disconnects(instance):
    # Valid framing but an invalid message: PROTO magic is wrong.
    body = fluxmsg.encode(fluxmsg.request("broker.ping", {"seq": 1, "pad": ""}, matchtag=1))
    body = body[:-20] + b"\x8f" + body[-19:]
    with fluxmsg.Client(instance.sock) as bad:
        try:
            bad.send_raw(fluxmsg.FRAME_MAGIC + struct.pack(">I", len(body)) + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert bad.wait_closed(10), "broker kept a client that sent a malformed message"
    broker_alive(instance)


def test_huge_frame_length_disconnects(instance):
    with fluxmsg.Client(instance.sock) as bad:
        try:
            bad.send_raw(fluxmsg.FRAME_MAGIC + struct.pack(">I", 0xFFFFFFF0) + b"\x01" * 64)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert bad.wait_closed(10), "broker waited for a 4 GB frame"
    broker_alive(instance)


def test_response_from_client_without_route_is_dropped(instance):
    # A client sending a response nobody asked for must not crash anything.
    with fluxmsg.Client(instance.sock) as c:
        c.send(fluxmsg.Message(fluxmsg.RESPONSE, topic="broker.ping", payload=b"{}\0", aux2=77))
        c.send(fluxmsg.Message(fluxmsg.EVENT, topic="client.event", payload=b"{}\0"))
        ping(c, seq=3, matchtag=3)
        rep = c.recv()
        assert rep.type == fluxmsg.RESPONSE and rep.matchtag == 3
    broker_alive(instance)


def test_truncated_frame_then_close(instance):
    data = fluxmsg.frame(fluxmsg.request("broker.ping", {"seq": 1, "pad": ""}, matchtag=1))
    with fluxmsg.Client(instance.sock) as c:
        c.send_raw(data[: len(data) // 2])
    broker_alive(instance)


def test_connect_and_close_many(instance):
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(str(instance.sock))
        s.close()  # without even reading the status byte
    broker_alive(instance)


def test_client_disconnects_during_request(instance, echo_module):
    r = instance.run("module", "load", echo_module)
    assert r.returncode == 0, r.stderr
    leaver = fluxmsg.Client(instance.sock)
    leaver.send(fluxmsg.request("echo.sleep", {"seconds": 1}, matchtag=1))
    leaver.close()  # gone before the response
    broker_alive(instance)
    # A second sleeper started later finishes after the first; once it has
    # its response, the module has tried to answer the departed client.
    with fluxmsg.Client(instance.sock) as stayer:
        rep = stayer.rpc("echo.sleep", {"seconds": 1}, matchtag=2)
        assert rep.matchtag == 2 and rep.errnum == 0, rep
    broker_alive(instance)
    r = instance.run("ping", "--count=1", "echo")
    assert r.returncode == 0, r.stderr
    r = instance.run("module", "remove", "echo")
    assert r.returncode == 0, r.stderr


def test_many_clients_disconnect_with_pending_streams(instance, echo_module):
    assert instance.run("module", "load", echo_module).returncode == 0
    for i in range(10):
        c = fluxmsg.Client(instance.sock)
        c.send(fluxmsg.request("echo.stream", {"count": 1000}, matchtag=1,
                               flags=fluxmsg.F_STREAMING))
        c.send(fluxmsg.request("echo.sleep", {"seconds": 0.2}, matchtag=2))
        c.close()
    broker_alive(instance)
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("echo.sleep", {"seconds": 0.3}, matchtag=3)
        assert rep.errnum == 0
    broker_alive(instance)


# Requests whose payloads a handler did not expect: each gets an error
# response and the broker (and the module's thread) carries on. Each of
# these once ended the broker with an exception out of its reactor.
MALFORMED = [
    ("broker.getenv", {"names": [1, 2]}),
    ("broker.getenv", {"names": {"a": 1}}),
    ("kvs.wait-version", {"namespace": "nosuch", "rootseq": 1}),
    ("kvs.wait-version", {"rootseq": "one"}),
    ("kvs.namespace-list", {"x": None}),
    ("kvs.commit", {"ops": "not a list"}),
    ("kvs.fence", {"ops": [], "name": 3, "nprocs": "x"}),
]


def test_malformed_payloads_get_error_responses(kvs_instance):
    with fluxmsg.Client(kvs_instance.sock) as c:
        for tag, (topic, payload) in enumerate(MALFORMED, start=10):
            rep = c.rpc(topic, payload, matchtag=tag)
            assert rep.matchtag == tag, topic
            # namespace-list ignores unknown keys: its one success is fine.
            if topic != "kvs.namespace-list":
                assert rep.errnum != 0, (topic, payload)
        ping(c, seq=1, matchtag=99)
        check_pong(c.recv(), 1, 99)
        rep = c.rpc("kvs.getroot", {}, matchtag=100)
        assert rep.errnum == 0


def test_oversized_message_disconnects_that_client(instance):
    """A client announcing a message over broker.max-message-size (256 MiB
    by default) is disconnected as soon as the header arrives, with a log
    line; the broker buffers none of it and the others carry on."""
    assert instance.run("getattr", "broker.max-message-size").stdout.strip() == str(256 << 20)
    with fluxmsg.Client(instance.sock) as good:
        bad = fluxmsg.Client(instance.sock)
        try:
            bad.send_raw(fluxmsg.FRAME_MAGIC + struct.pack(">I", (256 << 20) + 1) + b"x" * 100)
            assert bad.wait_closed(10), "broker kept a client announcing 256 MiB + 1"
        finally:
            bad.close()
        ping(good, seq=3, matchtag=3)
        check_pong(good.recv(), 3, 3)
    log = instance.run("dmesg").stdout
    assert "is over the limit of 268435456" in log, log


def test_client_that_never_reads_is_disconnected(workdir):
    """A client whose unread messages pass broker.max-client-backlog is
    disconnected with a log line, so its answers cannot pile up in the
    broker; a client that reads gets a large answer whole."""
    inst = Instance(workdir, broker_args=["-Sbroker.max-client-backlog=65536"])
    inst.start()
    try:
        big = "x" * 200000  # more than the limit in one message: still delivered
        with fluxmsg.Client(inst.sock) as reader:
            r = reader.rpc("broker.ping", {"pad": big})
            assert r.errnum == 0 and len(r.json()["pad"]) == len(big)
        lazy = fluxmsg.Client(inst.sock)
        try:
            pad = "y" * 4000
            closed = False
            for tag in range(1, 2001):  # ~8 MB of answers, none read
                try:
                    lazy.send(fluxmsg.request("broker.ping", {"pad": pad}, matchtag=tag))
                except (BrokenPipeError, ConnectionResetError):
                    closed = True  # the broker hung up while we were still sending
                    break
            assert closed or lazy.wait_closed(30), "broker kept a client with 8 MB unread"
        finally:
            lazy.close()
        with fluxmsg.Client(inst.sock) as good:
            assert good.rpc("attr.get", {"name": "size"}).errnum == 0
        log = inst.run("dmesg").stdout
        assert "unread (over the limit of 65536)" in log, log
        assert inst.stop() == 0
    finally:
        inst.kill()
