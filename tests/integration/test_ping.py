"""flux ping: round trips to SERVICE.ping with the route each took."""

import os
import re

from conftest import flux

REPLY_RE = re.compile(
    r"^(?P<prefix>(\d+!)?)(?P<topic>[\w.-]+\.ping) pad=(?P<pad>\d+)"
    r".* seq=(?P<seq>\d+) time=(?P<ms>[0-9.]+) ms \((?P<route>[^)]*)\)$"
)


def broker_uuid8(instance):
    r = instance.run("getattr", "broker.uuid")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()[:8]


def replies(stdout):
    """(header lines, parsed reply matches) of flux ping output."""
    lines = stdout.splitlines()
    headers = [line for line in lines if "seq=" not in line]
    matches = []
    for line in lines:
        if "seq=" in line:
            m = REPLY_RE.match(line)
            assert m, f"malformed reply line: {line!r}"
            matches.append(m)
    return headers, matches


def test_ping_broker(instance):
    r = instance.run("ping", "--count=3", "--interval=0", "broker")
    assert r.returncode == 0, r.stderr
    headers, reps = replies(r.stdout)
    lines = r.stdout.splitlines()
    assert len(lines) == 4, r.stdout
    assert lines[0] in headers, "first line should be a header"
    assert len(headers) == 1
    assert len(reps) == 3
    assert [int(m["seq"]) for m in reps] == [0, 1, 2]
    uuid8 = broker_uuid8(instance)
    for m in reps:
        assert m["topic"] == "broker.ping"
        assert float(m["ms"]) >= 0
        # <client hop>!<broker hop>, each shortened to 8 characters
        hops = m["route"].split("!")
        assert len(hops) == 2, m["route"]
        assert 0 < len(hops[0]) <= 8
        assert hops[1] == uuid8, m["route"]
    # One connection: the client hop is the same for every reply.
    assert len({m["route"] for m in reps}) == 1


def test_ping_rank(instance):
    r = instance.run("ping", "--count=2", "--interval=0", "0")
    assert r.returncode == 0, r.stderr
    _, reps = replies(r.stdout)
    assert len(reps) == 2
    for m in reps:
        assert m["prefix"] == "0!"
        assert m["topic"] == "broker.ping"


def test_ping_rank_service(instance):
    r = instance.run("ping", "--count=2", "--interval=0", "0!broker")
    assert r.returncode == 0, r.stderr
    _, reps = replies(r.stdout)
    assert len(reps) == 2
    assert all(m["prefix"] == "0!" and m["topic"] == "broker.ping" for m in reps)


def test_ping_pad(instance):
    r = instance.run("ping", "--count=1", "--pad=100", "broker")
    assert r.returncode == 0, r.stderr
    _, reps = replies(r.stdout)
    assert len(reps) == 1
    assert reps[0]["pad"] == "100"


def test_ping_large_pad(instance):
    # Larger than a 1-byte part length, and than a typical socket buffer.
    r = instance.run("ping", "--count=2", "--interval=0", "--pad=300000", "broker")
    assert r.returncode == 0, r.stderr
    _, reps = replies(r.stdout)
    assert [m["pad"] for m in reps] == ["300000", "300000"]


def test_ping_batch(instance):
    r = instance.run("ping", "--batch", "--count=5", "broker")
    assert r.returncode == 0, r.stderr
    _, reps = replies(r.stdout)
    assert sorted(int(m["seq"]) for m in reps) == [0, 1, 2, 3, 4]


def test_ping_userid(instance):
    r = instance.run("ping", "--count=1", "--userid", "broker")
    assert r.returncode == 0, r.stderr
    assert f"userid={os.getuid()}" in r.stdout
    assert "rolemask=0x5" in r.stdout  # owner | local, as flux-core (t0017-security)


def test_ping_unknown_service(instance):
    r = instance.run("ping", "--count=1", "nosuchservice")
    assert r.returncode == 1
    assert "Function not implemented" in r.stderr
    assert r.stderr.startswith("flux-ping:"), r.stderr


def test_ping_unreachable_rank(instance):
    r = instance.run("ping", "--count=1", "5!broker")
    assert r.returncode == 1
    assert "No route to host" in r.stderr or "EHOSTUNREACH" in r.stderr, r.stderr


def test_ping_bad_target(instance):
    r = instance.run("ping", "--count=1", "x!broker")
    assert r.returncode != 0
    assert r.stderr.startswith("flux-ping:"), r.stderr


def test_ping_many_fast(instance):
    r = instance.run("ping", "--count=200", "--interval=0", "broker")
    assert r.returncode == 0, r.stderr
    _, reps = replies(r.stdout)
    assert [int(m["seq"]) for m in reps] == list(range(200))


def test_ping_targets_as_flux_core():
    """--rank, size suffixes on --pad, the answering rank in each reply,
    upstream (EHOSTUNREACH above the root), and hostnames."""
    script = (
        "flux ping -c1 -r 1 broker && flux ping -c1 --pad=10K 1 && "
        "flux ping -c1 $(flux getattr hostname) && "
        "flux exec -r 1 flux ping -c1 upstream && "
        "! flux ping -c1 -r upstream broker && "
        "! flux ping -c1 -r 1 1!broker"
    )
    r = flux("start", "--test-size=2", "-Sbroker.rc1_path=", "-Sbroker.rc3_path=", script,
             timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "flux-ping 1!broker"
    assert lines[1].startswith("1!broker.ping pad=0 seq=0 time=")
    assert lines[3].startswith("1!broker.ping pad=10240 ")
    assert lines[4].endswith("!broker (rank 0)")
    assert lines[6] == "flux-ping upstream!broker" and lines[7].startswith("0!broker.ping")
    assert "upstream!broker.ping: No route to host" in r.stderr
    assert "--rank and TARGET both try to specify a nodeid" in r.stderr


def test_streaming_request_to_a_single_answer_service_ends_with_enodata(instance):
    """RFC 6: a streaming request's responses end with an ENODATA error;
    a service that answers once (ping) still ends the stream."""
    import fluxmsg

    with fluxmsg.Client(instance.sock) as c:
        c.send(fluxmsg.request("broker.ping", {"seq": 1}, matchtag=5, flags=fluxmsg.F_STREAMING))
        first = c.recv(timeout=10)
        second = c.recv(timeout=10)
    assert first.errnum == 0 and first.json()["seq"] == 1
    assert second.errnum == 61  # ENODATA
