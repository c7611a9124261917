"""flux logger and flux dmesg: the broker's log ring buffer."""

import re

ENTRY_RE = re.compile(r"^\S+ (?P<app>[\w.-]+)\.(?P<sev>\w+)\[(?P<rank>\d+)\]: (?P<msg>.*)$")


def dmesg(instance, *args):
    r = instance.run("dmesg", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def lines_with(text, needle):
    return [line for line in text.splitlines() if needle in line]


def test_logger_then_dmesg(instance):
    r = instance.run("logger", "hello-world-123")
    assert r.returncode == 0, r.stderr
    found = lines_with(dmesg(instance), "hello-world-123")
    assert len(found) == 1, found
    m = ENTRY_RE.match(found[0])
    assert m, found[0]
    assert m["app"] == "logger"
    assert m["sev"] == "notice"
    assert m["rank"] == "0"
    assert m["msg"] == "hello-world-123"


def test_logger_joins_words(instance):
    assert instance.run("logger", "several", "words-here", "xyz").returncode == 0
    found = lines_with(dmesg(instance), "words-here")
    assert len(found) == 1
    assert found[0].endswith(": several words-here xyz")


def test_logger_severity(instance):
    r = instance.run("logger", "--severity=err", "an-error-456")
    assert r.returncode == 0, r.stderr
    found = lines_with(dmesg(instance), "an-error-456")
    assert len(found) == 1
    m = ENTRY_RE.match(found[0])
    assert m and m["sev"] == "err", found[0]


def test_logger_appname(instance):
    r = instance.run("logger", "--appname=mytool", "from-mytool-789")
    assert r.returncode == 0, r.stderr
    found = lines_with(dmesg(instance), "from-mytool-789")
    assert len(found) == 1
    assert ENTRY_RE.match(found[0])["app"] == "mytool"


def test_logger_bad_severity(instance):
    r = instance.run("logger", "--severity=bogus", "never-logged-000")
    assert r.returncode != 0
    assert "never-logged-000" not in dmesg(instance)


def test_logger_from_stdin(instance):
    r = instance.run("logger", input="from-stdin-321\n")
    assert r.returncode == 0, r.stderr
    assert lines_with(dmesg(instance), "from-stdin-321")


def test_dmesg_order(instance):
    for i in range(5):
        assert instance.run("logger", f"ordered-{i}").returncode == 0
    found = [line.rsplit(" ", 1)[-1] for line in lines_with(dmesg(instance), "ordered-")]
    assert found == [f"ordered-{i}" for i in range(5)]


def test_dmesg_clear(instance):
    assert instance.run("logger", "to-be-cleared-1").returncode == 0
    assert "to-be-cleared-1" in dmesg(instance)
    out = dmesg(instance, "-C")
    assert out == "", "dmesg -C should print nothing"
    assert "to-be-cleared-1" not in dmesg(instance)
    # The log still works after clearing.
    assert instance.run("logger", "after-clear-2").returncode == 0
    assert "after-clear-2" in dmesg(instance)


def test_dmesg_read_clear(instance):
    assert instance.run("logger", "read-then-clear-1").returncode == 0
    assert "read-then-clear-1" in dmesg(instance, "-c")
    assert "read-then-clear-1" not in dmesg(instance)
