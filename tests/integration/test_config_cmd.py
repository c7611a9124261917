"""flux config: get with types and defaults, set/unset/load/reload through
the leader, the change reaching every broker, builtin paths, and guests
limited to reading."""

import json
import os

from conftest import FLUX, Instance, clean_env, flux, short_dir

CONFIG = """
[foo]
a = 42
b = "meep"
c = "50s"
d = 3.14
e = false
f = ["x", "y"]
[foo.bar]
a = true
"""


def test_config_get_set_load_reload(tmp_path):
    base, _ = short_dir(tmp_path)
    confdir = base / "conf"
    confdir.mkdir()
    (confdir / "c.toml").write_text(CONFIG)
    inst = Instance(base / "i", broker_args=[f"--config-path={confdir}"])
    inst.start()
    try:
        def get(*args):
            r = inst.run("config", "get", *args)
            return r.returncode, r.stdout.strip(), r.stderr.strip()

        assert get("foo.a") == (0, "42", "")
        assert get("foo.b")[1] == "meep"  # strings bare
        assert get("--type=fsd-integer", "foo.c")[1] == "50"
        assert get("--type=fsd", "foo.c")[1] == "50s"
        assert get("--type=array", "foo.f")[1] == '["x","y"]'
        assert json.loads(get("foo")[1])["bar"] == {"a": True}
        rc, _, err = get("--type=string", "foo.a")
        assert rc == 1 and "does not have the requested type" in err
        rc, _, err = get("--type=oops", "foo.a")
        assert rc == 1 and "Unknown type: oops" in err
        rc, _, err = get("nokey")
        assert rc == 1 and "nokey is not set" in err
        assert get("--default=7", "nokey") == (0, "7", "")

        # set keeps the old type, needs one for a new key, checks values.
        assert inst.run("config", "set", "foo.a", "43").returncode == 0
        assert get("--type=integer", "foo.a")[1] == "43"
        assert inst.run("config", "set", "new.key", "1").returncode != 0
        assert inst.run("config", "set", "--type=integer", "foo.a", "x").returncode != 0
        assert inst.run("config", "set", "--type=fsd", "x.t", "45m").returncode == 0
        assert get("--type=fsd-integer", "x.t")[1] == "2700"
        assert inst.run("config", "unset", "x.t").returncode == 0
        assert get("x.t")[0] == 1
        assert inst.run("config", "unset", "not.there").returncode == 0

        # A bad [access] value is refused and leaves the configuration be.
        r = inst.run("config", "set", "--type=string", "access.allow-guest-user", "maybe")
        assert r.returncode == 1 and "allow-guest-user" in r.stderr
        assert get("access")[0] == 1

        # load: TOML or JSON on stdin, empty is empty; a directory of TOML.
        r = inst.run("config", "load", input="test.y.z = 42\n")
        assert r.returncode == 0, r.stderr
        assert json.loads(get()[1]) == {"test": {"y": {"z": 42}}}
        assert inst.run("config", "load", input="").returncode == 0
        assert get()[1] == "{}"
        assert inst.run("config", "load", input="[whoops").returncode == 1
        # reload reads the files again.
        assert inst.run("config", "reload").returncode == 0
        assert get("foo.a")[1] == "42"

        # Guests (the owner's requests relabelled) may read only.
        guest = inst.env(FLUX_HANDLE_USERID=str(os.getuid() + 1), FLUX_HANDLE_ROLEMASK="0x2")
        assert inst.run("config", "get", "foo.a", env=guest).returncode == 0
        r = inst.run("config", "load", input="{}", env=guest)
        assert r.returncode == 1 and "owner" in r.stderr, r.stderr
        assert inst.run("config", "reload", env=guest).returncode == 1
    finally:
        inst.stop()
        inst.kill()


def test_config_set_reaches_every_broker():
    script = ("flux config set --type=string foo bar && "
              "flux exec -r 1 flux config get foo && "
              "flux exec -r 1 flux config reload --follower-noop && "
              "! flux exec -r 1 flux config load </dev/null")
    r = flux("start", "--test-size=2", "-Sbroker.rc1_path=", "-Sbroker.rc3_path=", script,
             timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "bar"


def test_config_builtin_and_files(tmp_path):
    r = flux("config", "builtin", "confdir")
    assert r.returncode == 0 and r.stdout.strip().endswith("/etc/flux")
    intree = flux("config", "builtin", "--intree", "rc1_path").stdout
    installed = flux("config", "builtin", "--installed", "rc1_path").stdout
    assert intree.strip() == os.path.join(os.path.dirname(os.path.dirname(FLUX)), "etc/flux/rc1")
    assert intree != installed
    r = flux("config", "builtin", "unknown")
    assert r.returncode == 1 and "unknown is invalid" in r.stderr
    (tmp_path / "a.toml").write_text("flag = 99\n")
    r = flux("config", "get", f"--config-path={tmp_path}", "flag", env=clean_env())
    assert r.returncode == 0 and r.stdout.strip() == "99"
    r = flux("config", "get", "--config-path=/not/a/file")
    assert r.returncode == 1
    r = flux("config")
    assert r.returncode == 1 and "missing subcommand" in r.stderr
