"""flux getattr / setattr / lsattr against a running broker."""

import re
import socket

from conftest import clean_env, flux

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def getattr_ok(instance, name):
    r = instance.run("getattr", name)
    assert r.returncode == 0, f"getattr {name}: {r.stderr}"
    assert r.stdout.endswith("\n")
    return r.stdout[:-1]


def test_rank_and_size(instance):
    assert getattr_ok(instance, "rank") == "0"
    assert getattr_ok(instance, "size") == "1"


def test_version(instance):
    assert re.match(r"^\d+\.\d+\.\d+", getattr_ok(instance, "version"))


def test_rundir_and_local_uri(instance):
    assert getattr_ok(instance, "rundir") == str(instance.rundir)
    assert getattr_ok(instance, "local-uri") == instance.uri


def test_broker_pid(instance):
    # flux start execs the broker, so its pid is the one we started.
    assert getattr_ok(instance, "broker.pid") == str(instance.proc.pid)


def test_broker_uuid(instance):
    uuid = getattr_ok(instance, "broker.uuid")
    assert UUID_RE.match(uuid), uuid
    assert getattr_ok(instance, "broker.uuid") == uuid  # stable


def test_hostlist(instance):
    assert getattr_ok(instance, "hostlist") == socket.gethostname()


def test_instance_level(instance):
    assert getattr_ok(instance, "instance-level") == "0"


def test_unknown_attribute_fails(instance):
    r = instance.run("getattr", "nosuch.attribute")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.startswith("flux-getattr:"), r.stderr
    assert "nosuch.attribute" in r.stderr


def test_setattr_then_getattr(instance):
    r = instance.run("setattr", "test.foo", "bar")
    assert r.returncode == 0, r.stderr
    assert getattr_ok(instance, "test.foo") == "bar"
    r = instance.run("setattr", "test.foo", "baz with spaces")
    assert r.returncode == 0, r.stderr
    assert getattr_ok(instance, "test.foo") == "baz with spaces"


def test_setattr_readonly_fails(instance):
    r = instance.run("setattr", "rank", "5")
    assert r.returncode != 0
    assert r.stderr.startswith("flux-setattr:"), r.stderr
    assert getattr_ok(instance, "rank") == "0"


def test_setattr_unknown_name_fails(instance):
    r = instance.run("setattr", "nosuch-attr", "1")
    assert r.returncode != 0
    r = instance.run("getattr", "nosuch-attr")
    assert r.returncode == 1


def test_lsattr_lists_names(instance):
    r = instance.run("lsattr")
    assert r.returncode == 0, r.stderr
    names = r.stdout.split()
    for name in ("rank", "size", "version", "rundir", "local-uri", "broker.pid",
                 "broker.uuid", "hostlist", "instance-level"):
        assert name in names, f"{name} missing from lsattr: {names}"
    assert len(names) == len(set(names))


def test_lsattr_shows_new_attribute(instance):
    assert instance.run("setattr", "test.listed", "yes").returncode == 0
    r = instance.run("lsattr")
    assert "test.listed" in r.stdout.split()


def test_lsattr_values(instance):
    r = instance.run("lsattr", "-v")
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 1)
        rows[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    assert rows.get("rank") == "0", r.stdout
    assert rows.get("size") == "1", r.stdout
    assert rows.get("local-uri") == instance.uri, r.stdout
    assert rows.get("rundir") == str(instance.rundir), r.stdout


def test_getattr_outside_instance():
    r = flux("getattr", "size", env=clean_env())
    assert r.returncode == 1
    assert "FLUX_URI is not set" in r.stderr
    assert r.stderr.startswith("flux-getattr:"), r.stderr


def test_getattr_bad_uri(tmp_path):
    r = flux("getattr", "size", env=clean_env(FLUX_URI=f"local://{tmp_path}/nosuch"),
             timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("flux-getattr:"), r.stderr
