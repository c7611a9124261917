"""flux submit's jobspec options as flux-core's: time limits in minutes,
--setattr forms, --env rules (patterns, files, substitution), --rlimit
lists, per-resource requests (and the shell placing their tasks), --bank,
--bcc, `--` before the command. Most need no instance (--dry-run)."""

import json

import pytest

from conftest import clean_env, flux, wait_until_running


def dry(*args, env=None):
    r = flux("submit", "--dry-run", *args, env=env)
    assert r.returncode == 0, f"flux submit {args}: {r.stderr}"
    return json.loads(r.stdout)


def refused(*args, env=None):
    r = flux("submit", "--dry-run", *args, env=env)
    assert r.returncode != 0, f"flux submit {args} was accepted"
    return r.stderr


def test_time_limit_minutes_and_fsd():
    assert dry("-t5", "true")["attributes"]["system"]["duration"] == 300
    assert dry("-t5s", "true")["attributes"]["system"]["duration"] == 5
    assert dry("--time-limit=1.5", "true")["attributes"]["system"]["duration"] == 90
    assert "invalid Flux standard duration" in refused("--time-limit=00:30", "true")
    assert "invalid Flux standard duration" in refused("-t", "4-00:30:00", "true")


def test_setattr_forms(tmp_path):
    attrs = dry("--setattr", "user.meep=false", "--setattr", "foo", "--setattr", ".test=a",
                "--setattr", "test2=b", "-S", "baz", "-Sbiz=4", "true")["attributes"]
    assert attrs["user"]["meep"] is False
    assert attrs["test"] == "a"
    sysattr = attrs["system"]
    assert (sysattr["foo"], sysattr["test2"], sysattr["baz"], sysattr["biz"]) == (1, "b", 1, 4)
    good = tmp_path / "a.json"
    good.write_text('[{"foo": "value", "bar": 42}]')
    attrs = dry("--setattr", f"^user.foo={good}", "true")["attributes"]
    assert attrs["user"]["foo"] == [{"foo": "value", "bar": 42}]
    bad = tmp_path / "bad.json"
    bad.write_text("[{ foo: 1 }]")
    assert f"--setattr: {bad}:" in refused("--setattr", f"^user.foo={bad}", "true")
    assert "nosuch.json" in refused("--setattr", f"^user.foo={tmp_path}/nosuch.json", "true")


def test_env_rules(tmp_path):
    env = clean_env(FOO_ONE="bar", FOO_TWO="baz", FOO="bar")

    def environment(*rules):
        return dry("--env=-*", *rules, "true", env=env)["attributes"]["system"]["environment"]

    assert environment("--env=FOO_*") == {"FOO_ONE": "bar", "FOO_TWO": "baz"}
    assert environment("--env=/^FOO_.*/") == {"FOO_ONE": "bar", "FOO_TWO": "baz"}
    assert environment("--env=FOO=$FOO:baz") == {"FOO": "bar:baz"}
    assert environment("--env=PATH=/bin", "--env=PATH=${PATH}:/x") == {"PATH": "/bin:/x"}
    envfile = tmp_path / "envfile"
    envfile.write_text("-*\nFOO=bar\nBAR=${FOO}/baz\n")
    for arg in (f"--env=^{envfile}", f"--env-file={envfile}"):
        got = dry(arg, "true", env=env)["attributes"]["system"]["environment"]
        assert got == {"FOO": "bar", "BAR": "bar/baz"}
    assert "Unable to substitute" in refused("--env=X=${VAL:-default}", "true", env=env)
    assert "Variable 'NOPE' not found" in refused("--env=X=$NOPE", "true", env=env)


def test_rlimit_lists_and_defaults():
    limits = dry("true")["attributes"]["system"]["shell"]["options"]["rlimit"]
    assert "memlock" not in limits and "nice" not in limits  # never inherited
    limits = dry("--rlimit=-*,core", "true")["attributes"]["system"]["shell"]["options"]["rlimit"]
    assert list(limits) == ["core"]


def test_bank_bcc_and_double_dash():
    js = dry("-B", "mybank", "--", "hostname", "--n=2")
    assert js["attributes"]["system"]["bank"] == "mybank"
    assert js["tasks"][0]["command"] == ["hostname", "--n=2"]
    assert "specify only one of --cc or --bcc" in refused("--cc=1", "--bcc=1", "true")


def test_per_resource_requests():
    js = dry("-N2", "--tasks-per-node=2", "true")
    opts = js["attributes"]["system"]["shell"]["options"]
    assert opts["per-resource"] == {"type": "node", "count": 2}
    node = js["resources"][0]
    assert (node["type"], node["count"], node["exclusive"]) == ("node", 2, True)
    js = dry("--cores=4", "--tasks-per-core=2", "true")
    slot = js["resources"][0]
    assert (slot["type"], slot["count"], slot["with"][0]["count"]) == ("slot", 4, 1)
    js = dry("-N2", "--cores=4", "--gpus-per-node=1", "true")
    assert js["resources"][0]["with"][0]["with"] == [{"type": "core", "count": 2},
                                                   {"type": "gpu", "count": 1}]
    for args, error in [
        (["--tasks-per-node=1", "--tasks-per-core=1"], "Do not specify both"),
        (["-N1", "--tasks-per-node=0"], "--tasks-per-node must be >= 1"),
        (["--cores=2", "--tasks-per-core=0"], "--tasks-per-core must be >= 1"),
        (["--gpus-per-node=1"], "--gpus-per-node requires --nodes"),
        (["-n2", "--cores=2"], "Per-resource options can't be used with per-task options"),
        (["-N2", "--cores=3"], "number of cores must be evenly divisible by node count"),
        (["-N4", "--cores=2"], "number of cores cannot be less than nnodes"),
        (["--tasks-per-node=2"], "must specify node or core count with per_resource"),
    ]:
        assert error in refused(*args, "true"), args


@pytest.fixture
def inst(instance):
    wait_until_running(instance)
    return instance


def test_per_resource_tasks_run_and_cc_env(inst):
    r = inst.run("run", "--cores=2", "--tasks-per-core=2", "printenv", "FLUX_TASK_RANK")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["0", "1", "2", "3"]
    r = inst.run("submit", "--cc=0-1", "--watch", "sh", "-c", "echo $FLUX_JOB_CC")
    assert sorted(r.stdout.split()[2:]) == ["0", "1"], r.stderr
    r = inst.run("submit", "--bcc=0-1", "--quiet", "--watch", "sh", "-c", "echo x$FLUX_JOB_CC")
    assert r.stdout.split() == ["x", "x"], r.stderr
    r = inst.run("submit", "--input=0", "true")
    assert r.returncode != 0 and "per-task input not supported for submit" in r.stderr
