"""flux event pub / sub."""

import json
import select
import subprocess
import time

import fluxmsg

DEADLINE = 10.0


def publish_until_done(instance, sub, topics_payloads):
    """Publish the given events every 50 ms until `sub` exits (it was started
    with --count, and prints nothing until events arrive, so there is no other
    way to know when it has subscribed). Returns sub's stdout."""
    deadline = time.monotonic() + DEADLINE
    try:
        while sub.poll() is None and time.monotonic() < deadline:
            for topic, payload in topics_payloads:
                args = ["event", "pub", topic] + ([payload] if payload is not None else [])
                r = instance.run(*args)
                assert r.returncode == 0, r.stderr
            time.sleep(0.05)
        out, err = sub.communicate(timeout=5)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.communicate(timeout=5)
    assert sub.returncode == 0, f"flux event sub did not finish: rc={sub.returncode} {err}"
    return out


def test_sub_receives_matching_events(instance):
    sub = instance.popen("event", "sub", "--count=2", "test.")
    out = publish_until_done(instance, sub, [("other.z", '{"no":0}'), ("test.a", '{"x":1}')])
    lines = out.splitlines()
    assert len(lines) == 2, out
    for line in lines:
        topic, payload = line.split("\t")
        assert topic == "test.a", f"unexpected event {line!r} (prefix filter broken?)"
        assert json.loads(payload) == {"x": 1}


def test_sub_all_topics(instance):
    sub = instance.popen("event", "sub", "--count=2")
    out = publish_until_done(instance, sub, [("any.thing", '{"k":"v"}')])
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(line.split("\t")[0] == "any.thing" for line in lines)


def test_sub_several_prefixes(instance):
    sub = instance.popen("event", "sub", "--count=4", "foo.", "bar.")
    out = publish_until_done(instance, sub,
                             [("foo.one", '{"a":1}'), ("baz.no", None), ("bar.two", '{"b":2}')])
    topics = [line.split("\t")[0] for line in out.splitlines()]
    assert len(topics) == 4
    assert set(topics) <= {"foo.one", "bar.two"}, topics
    assert "bar.two" in topics


def test_pub_without_payload(instance):
    sub = instance.popen("event", "sub", "--count=1", "empty.")
    out = publish_until_done(instance, sub, [("empty.ev", None)])
    assert out.splitlines()[0].split("\t")[0] == "empty.ev"


def test_pub_invalid_payload(instance):
    r = instance.run("event", "pub", "test.bad", "{not json")
    assert r.returncode != 0
    assert r.stderr.startswith("flux-event:"), r.stderr


def test_pub_no_subscribers(instance):
    r = instance.run("event", "pub", "test.a", '{"x":1}')
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_raw_subscriber_gets_event_message(instance):
    with fluxmsg.Client(instance.sock) as c:
        rep = c.rpc("local.sub", {"topic": "raw."}, matchtag=1)
        assert rep.type == fluxmsg.RESPONSE and rep.errnum == 0, rep
        seqs = []
        for i in range(2):
            r = instance.run("event", "pub", f"raw.ev{i}", json.dumps({"y": i}))
            assert r.returncode == 0, r.stderr
            ev = c.recv()
            assert ev.type == fluxmsg.EVENT, ev
            assert ev.topic == f"raw.ev{i}"
            assert ev.json() == {"y": i}
            seqs.append(ev.aux1)
        assert seqs[1] == seqs[0] + 1, seqs
        # Unsubscribe: no more events (a ping response arrives instead).
        rep = c.rpc("local.unsub", {"topic": "raw."}, matchtag=2)
        assert rep.errnum == 0
        assert instance.run("event", "pub", "raw.ev9", '{"y":9}').returncode == 0
        rep = c.rpc("broker.ping", {"seq": 1, "pad": ""}, matchtag=3)
        assert rep.type == fluxmsg.RESPONSE and rep.matchtag == 3, f"got {rep}"


def test_sub_exits_when_broker_goes_away(instance):
    sub = instance.popen("event", "sub", "gone.")
    try:
        # Publish until the subscriber prints one event: then it is connected.
        deadline = time.monotonic() + DEADLINE
        first = ""
        while not first and sub.poll() is None and time.monotonic() < deadline:
            assert instance.run("event", "pub", "gone.x").returncode == 0
            r, _, _ = select.select([sub.stdout], [], [], 0.05)
            if r:
                first = sub.stdout.readline()
        assert first.startswith("gone.x"), f"subscriber printed {first!r}"
        assert instance.stop() == 0
        sub.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("flux event sub kept running after the broker exited")
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.communicate(timeout=5)
