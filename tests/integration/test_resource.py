"""resource and sched-simple modules, flux resource: a fake 16-node x
32-core machine described by an R file in the broker's TOML config, all
ranks forced up (monitor-force-up), on one real broker."""

import json
import shutil
import pytest

from conftest import Instance, flux, short_dir, wait_until_running

DEADLINE = 15.0

R16 = {
    "version": 1,
    "execution": {
        "R_lite": [
            {"rank": "0-1", "children": {"core": "0-31", "gpu": "0-1"}},
            {"rank": "2-15", "children": {"core": "0-31"}},
        ],
        "nodelist": ["node[0-15]"],
        "starttime": 0,
        "expiration": 0,
    },
}


def ok(inst, *args):
    r = inst.run(*args)
    assert r.returncode == 0, f"flux {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout


def write_config(base, extra=""):
    (base / "R.json").write_text(json.dumps(R16))
    conf = base / "conf.toml"
    # These tests are sched-simple's (alloc-mode, its debug bit): choose it.
    conf.write_text(f'[modules]\nalternatives.sched = "sched-simple"\n'
                    f'[resource]\npath = "{base / "R.json"}"\nnoverify = true\n{extra}')
    return conf


def force_up(inst):
    """Reload resource with monitor-force-up (and sched-simple after it)."""
    ok(inst, "module", "remove", "sched-simple")
    ok(inst, "module", "remove", "resource")
    ok(inst, "module", "load", "resource", "monitor-force-up")
    ok(inst, "module", "load", "sched-simple")


@pytest.fixture
def base(tmp_path):
    b, cleanup = short_dir(tmp_path)
    yield b
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)


def start(base, extra="", statedir=None, up=True):
    conf = write_config(base, extra)
    inst = Instance(base / "i", statedir=statedir, broker_args=[f"-o,--config-path={conf}"])
    inst.start()
    if up:
        force_up(inst)
    return inst


@pytest.fixture
def fake(base):
    inst = start(base)
    try:
        yield inst
    finally:
        inst.stop()
        inst.kill()


def test_list_info_status(fake):
    out = ok(fake, "resource", "list")
    assert out.splitlines() == [
        "     STATE NNODES NCORES NGPUS NODELIST",
        "      free     16    512     4 node[0-15]",
        " allocated      0      0     0 ",  # flux-core keeps the empty column's space
        "      down      0      0     0 ",
    ]
    assert ok(fake, "resource", "info") == "16 Nodes, 512 Cores, 4 GPUs\n"
    assert ok(fake, "resource", "status").splitlines() == [
        "     STATE UP NNODES NODELIST",
        "     avail  \u2714     16 node[0-15]",
    ]
    r = json.loads(ok(fake, "resource", "R", "-i", "node[2-3]"))
    assert r["execution"]["R_lite"] == [{"rank": "2-3", "children": {"core": "0-31"}}]
    assert r["execution"]["nodelist"] == ["node[2-3]"]
    assert ok(fake, "resource", "list", "-no", "{nnodes} {ranks}", "-s", "all") == "16 0-15\n"


def test_offline_without_force_up(base):
    inst = start(base, up=False)
    try:
        out = ok(inst, "resource", "status", "-s", "avail")
        assert "     avail  \u2714      1 node0" in out
        assert "    avail*  \u2717     15 node[1-15]" in out
        assert ok(inst, "resource", "info", "-s", "up") == "1 Nodes, 32 Cores, 2 GPUs\n"
    finally:
        inst.stop()
        inst.kill()


def test_drain_undrain(fake):
    ok(fake, "resource", "drain", "3-4", "bad", "disk")
    ok(fake, "resource", "drain", "node7")
    lines = ok(fake, "resource", "drain").splitlines()
    assert lines[0] == "TIME         STATE    REASON                         NODELIST"
    assert lines[1][13:] == "drained  bad disk                       node[3-4]"
    assert lines[2][13:].rstrip() == "drained                                 node7"
    out = ok(fake, "resource", "list")
    assert "      down      3     96     0 node[3-4,7]" in out
    # Draining again fails unless forced or updated.
    r = fake.run("resource", "drain", "3", "again")
    assert r.returncode == 1
    assert "already drained" in r.stderr and "--force" in r.stderr
    ok(fake, "resource", "drain", "-f", "3", "again")
    ok(fake, "resource", "drain", "-u", "3-5", "new")
    drain = ok(fake, "resource", "drain", "-no", "{ranks}:{reason}").splitlines()
    assert set(drain) == {"3:again", "4:bad disk", "5:new", "7:"}
    ok(fake, "resource", "undrain", "3-4,7")
    r = fake.run("resource", "undrain", "4")
    assert r.returncode == 1 and "not drained" in r.stderr
    ok(fake, "resource", "undrain", "-f", "4-5")
    assert ok(fake, "resource", "drain", "-n") == ""


def test_drain_errors(fake):
    for args, why in [
        (["17"], "invalid ranks"),
        (["nosuchhost"], "not in R"),
        (["[1-"], "neither an idset nor a hostlist"),
    ]:
        r = fake.run("resource", "drain", *args)
        assert r.returncode == 1, args
        assert why in r.stderr, r.stderr
    r = fake.run("resource", "list", "-s", "bogus")
    assert r.returncode == 1 and "Invalid resource state bogus" in r.stderr
    r = fake.run("resource", "list", "-o", "{nope}")
    assert r.returncode == 1 and "nope" in r.stderr


def test_exclude(base):
    inst = start(base, extra='exclude = "15"\n')
    try:
        assert ok(inst, "resource", "info") == "15 Nodes, 480 Cores, 4 GPUs\n"
        out = ok(inst, "resource", "status")
        assert "   exclude  \u2714      1 node15" in out
        r = inst.run("resource", "drain", "15")
        assert r.returncode == 1 and "excluded" in r.stderr
    finally:
        inst.stop()
        inst.kill()


def test_bad_config_r(base):
    (base / "R.json").write_text('{"version":1,"execution":{"R_lite":[{"rank":"x"}]}}')
    conf = base / "conf.toml"
    conf.write_text(f'[resource]\npath = "{base / "R.json"}"\n')
    inst = Instance(base / "i", broker_args=[f"-o,--config-path={conf}"])
    # The resource module refuses to load, so rc1 fails and the broker exits.
    with pytest.raises(BaseException):
        inst.start()
    inst.kill()
    assert "R: execution.R_lite[0]: missing key 'children'" in inst.broker_log()


def test_bad_toml(base):
    conf = base / "bad.toml"
    conf.write_text("[resource\n")
    inst = Instance(base / "i", broker_args=[f"-o,--config-path={conf}"])
    with pytest.raises(BaseException):
        inst.start()
    inst.kill()
    assert "bad.toml:1" in inst.broker_log()


def test_drain_survives_restart(base):
    statedir = base / "state"
    statedir.mkdir()
    inst = start(base, statedir=statedir)
    try:
        ok(inst, "resource", "drain", "2", "broken fan")
        before = ok(inst, "resource", "drain")
    finally:
        inst.stop()
        inst.kill()
    inst = start(base, statedir=statedir)
    try:
        assert ok(inst, "resource", "drain") == before
        assert "broken fan" in before
        log = ok(inst, "kvs", "eventlog", "get", "resource.eventlog")
        # One resource-define per start that follows other events (the drain);
        # reloads that change nothing add none.
        assert log.count("resource-define") == 2
    finally:
        inst.stop()
        inst.kill()


# ---- scheduling, once the job pipeline exists ------------------------------


def has_submit(inst):
    return inst.run("submit", "--help").returncode == 0


def submit(inst, *args):
    out = ok(inst, "submit", "--setattr=system.exec.test.run_duration=0.01s", *args, "true")
    return out.strip()


def wait_event(inst, jobid, name):
    ok_ = inst.run("job", "wait-event", "-t", str(DEADLINE), jobid, name, timeout=DEADLINE + 5)
    assert ok_.returncode == 0, f"{jobid} {name}: {ok_.stderr}"
    return ok_.stdout


def job_r(inst, jobid):
    return json.loads(ok(inst, "job", "info", jobid, "R"))


def test_sched_allocates(fake):
    if not has_submit(fake):
        pytest.skip("flux submit does not exist yet")
    cases = [
        (["-n4"], 1, 4),
        (["-N2", "-n4"], 2, 4),
        (["-N2", "--exclusive", "-n2"], 2, 64),
        (["-n2", "-c8"], 1, 16),
        (["-n2", "-g1"], None, 2),
    ]
    for args, nnodes, ncores in cases:
        jobid = submit(fake, *args)
        wait_event(fake, jobid, "clean")
        r = job_r(fake, jobid)
        ranks = set()
        cores = 0
        for e in r["execution"]["R_lite"]:
            n = 0
            for part in e["rank"].split(","):
                lo, _, hi = part.partition("-")
                ranks.update(range(int(lo), int(hi or lo) + 1))
                n += int(hi or lo) - int(lo) + 1
            for part in e["children"]["core"].split(","):
                lo, _, hi = part.partition("-")
                cores += n * (int(hi or lo) - int(lo) + 1)
        if nnodes is not None:
            assert len(ranks) == nnodes, (args, r)
        assert cores == ncores, (args, r)
        if "-g1" in args:
            assert ranks <= {0, 1}
    # Everything is free again.
    assert "      free     16    512     4 node[0-15]" in ok(fake, "resource", "list")


def test_sched_unsatisfiable(fake):
    if not has_submit(fake):
        pytest.skip("flux submit does not exist yet")
    for args in (["-n513"], ["-N17", "-n17"], ["-n1", "-g3"]):
        jobid = submit(fake, *args)
        out = wait_event(fake, jobid, "exception")
        assert "unsatisfiable request" in out, out


def test_drained_rank_gets_no_jobs(fake):
    if not has_submit(fake):
        pytest.skip("flux submit does not exist yet")
    ok(fake, "resource", "drain", "0-14", "maintenance")
    jobid = submit(fake, "-N1", "-n1")
    wait_event(fake, jobid, "clean")
    r = job_r(fake, jobid)
    assert r["execution"]["R_lite"][0]["rank"] == "15"
    assert r["execution"]["nodelist"] == ["node15"]
    # With every rank drained, a job waits; undrain lets it run.
    ok(fake, "resource", "drain", "15")
    jobid = submit(fake, "-n1")
    wait_event(fake, jobid, "priority")  # sent to the scheduler, which cannot place it
    st = ok(fake, "job", "eventlog", jobid)
    assert "alloc" not in st.split()
    ok(fake, "resource", "undrain", "3")
    wait_event(fake, jobid, "clean")
    assert job_r(fake, jobid)["execution"]["R_lite"][0]["rank"] == "3"


# A sched-status payload as `flux resource list --from-stdin` reads it:
# five nodes, three with the property "8g", rank 3 allocated... none down.
SCHED_STATUS = {
    "all": {
        "version": 1,
        "execution": {
            "R_lite": [{"rank": "0-4", "children": {"core": "0-3"}}],
            "nodelist": ["pi[3,0-2,4]"],
            "properties": {"8g": "0-2", "batch": "0-3"},
            "starttime": 0,
            "expiration": 0,
        },
    },
    "allocated": {
        "version": 1,
        "execution": {"R_lite": [{"rank": "3", "children": {"core": "0-3"}}]},
    },
    "down": None,
}
FMT = "{state:>10} {properties:<10} {nnodes:>6} {ncores:>8} {ngpus:>8}"


def resource(*args, input=None, rc=0):
    r = flux("resource", *args, input=input)
    assert r.returncode == rc, f"flux resource {args}: {r.stderr}"
    return r.stdout


def test_list_from_stdin():
    data = json.dumps(SCHED_STATUS)
    out = resource("list", "-o", FMT, "--from-stdin", input=data)
    assert out.splitlines() == [
        "     STATE PROPERTIES NNODES   NCORES    NGPUS",
        "      free 8g,batch        3       12        0",
        "      free                 1        4        0",
        " allocated                 1        4        0",  # as the scheduler said
        "      down                 0        0        0",
    ]
    out = resource("list", "-o", FMT, "--skip-empty", "--from-stdin", input=data)
    assert "down" not in out
    assert resource("info", "--from-stdin", input=data) == "5 Nodes, 20 Cores, 0 GPUs\n"
    assert resource("info", "--from-stdin", "-s", "free", input=data) == (
        "4 Nodes, 16 Cores, 0 GPUs\n"
    )
    # --include takes ranks or hosts; the nodelist keeps rank order.
    out = resource("list", "-s", "all", "-no", "{nnodes} {nodelist}", "-i", "pi[0,3]",
                   "--from-stdin", input=data)
    assert out == "2 pi[3,0]\n"
    out = resource("list", "-s", "all", "-no", "{nnodes}", "-i", "pi7", "--no-skip-empty",
                   "--from-stdin", input=data)
    assert out == "0\n"
    # R as flux-core's json.dumps writes it.
    out = resource("R", "--from-stdin", "-s", "free", input=data)
    assert out == (
        '{"version": 1, "execution": {"R_lite": [{"rank": "0-2,4", "children": '
        '{"core": "0-3"}}], "starttime": 0.0, "expiration": 0.0, "nodelist": '
        '["pi[3,0-1,4]"], "properties": {"8g": "0-2", "batch": "0-2"}}}\n'
    )


def test_list_queues_from_config_file(tmp_path):
    data = json.dumps(SCHED_STATUS)
    conf = tmp_path / "queues.json"
    conf.write_text(json.dumps({"queues": {"big": {"requires": ["8g"]}, "all": {}}}))
    out = resource("list", "-no", "{state} {queue} {nnodes}", "--from-stdin",
                   f"--config-file={conf}", input=data)
    assert out.splitlines() == ["free all,big 3", "free all 1", "allocated all 1",
                                "down all 0", "down big 0"]
    out = resource("info", "-q", "big", "--from-stdin", f"--config-file={conf}", input=data)
    assert out == "3 Nodes, 12 Cores, 0 GPUs\n"
    r = flux("resource", "list", "-q", "foo", "--from-stdin", f"--config-file={conf}",
             input=data)
    assert r.returncode == 1 and "--queue: foo: no such queue" in r.stderr
    r = flux("resource", "list", "-s", "bogus", "--from-stdin", input=data)
    assert r.returncode == 1 and "Invalid resource state bogus specified" in r.stderr


def test_sched_status_relay_and_fallback(fake):
    default = ok(fake, "resource", "list")
    r = fake.run("resource", "list", env=fake.env(FLUX_HANDLE_TRACE="1"))
    assert r.stdout == default and "--> request resource.sched-status" in r.stderr
    # An RPC nobody serves: the scheduler's own answers.
    env = fake.env(FLUX_HANDLE_TRACE="1", FLUX_RESOURCE_LIST_RPC="foo.status")
    r = fake.run("resource", "list", env=env)
    assert r.stdout == default and "--> request sched.resource-status" in r.stderr
    r = fake.run("resource", "list", env=fake.env(FLUX_RESOURCE_LIST_FORMAT_DEFAULT="{nodelist}"))
    assert r.stdout.splitlines()[:2] == ["NODELIST", "node[0-15]"]
    assert ok(fake, "resource", "acquire-mute") == ""


def test_status_states_and_dash_spec(fake):
    r = fake.run("resource", "status", "--states=help")
    assert r.returncode == 0 and "valid states: all,online,avail" in r.stderr
    r = fake.run("resource", "status", "--states=foo")
    assert r.returncode == 1 and "Invalid resource state foo specified" in r.stderr
    assert "valid states:" in r.stderr
    out = ok(fake, "resource", "status", "-s", "all", "-no", "{state}")
    assert out.split() == ["avail", "exclude", "torpid", "allocated", "draining", "drained",
                           "housekeeping"]
    r = fake.run("resource", "list", "-s", "down", "-no", "{state} {properties:h}")
    assert r.stdout == "down -\n"  # h: an empty value shows as -


def test_resource_r_from_the_kvs_is_kept(instance):
    # Without [resource] path, an R put in the KVS (properties added) is
    # what a reloaded module uses.
    fake = instance
    wait_until_running(fake)
    r = json.loads(ok(fake, "resource", "R"))
    r["execution"]["properties"] = {"big": "0"}
    ok_put = fake.run("kvs", "put", "-r", "resource.R=-", input=json.dumps(r))
    assert ok_put.returncode == 0, ok_put.stderr
    ok(fake, "module", "remove", "sched-graph")  # the default scheduler here
    ok(fake, "module", "reload", "resource")
    ok(fake, "module", "load", "sched-graph")
    out = ok(fake, "resource", "list", "-s", "free", "-no", "{properties} {nnodes}")
    assert "big 1" in out.split("\n")


def test_reload_from_a_file(fake, base):
    r = fake.run("resource", "reload", base / "R.json")
    assert r.returncode != 0 and "resources are busy (unload scheduler?)" in r.stderr
    ok(fake, "module", "remove", "sched-simple")
    small = base / "small.json"
    r16 = json.loads((base / "R.json").read_text())
    r16["execution"]["R_lite"] = [{"rank": "0-1", "children": {"core": "0-31"}}]
    r16["execution"]["nodelist"] = ["node[0-1]"]
    r16["execution"].pop("properties", None)
    small.write_text(json.dumps(r16))
    # The instance has one broker: more ranks need -f (its R is a fake).
    r = fake.run("resource", "reload", small)
    assert r.returncode != 0 and "contains ranks execeeding size=1" in r.stderr
    ok(fake, "resource", "reload", "-f", small)
    ok(fake, "module", "load", "sched-simple")
    assert ok(fake, "resource", "info").startswith("2 Nodes,")
    big = base / "big.json"
    r16["execution"]["R_lite"][0]["rank"] = "0-99"
    r16["execution"]["nodelist"] = ["node[0-99]"]
    big.write_text(json.dumps(r16))
    ok(fake, "module", "remove", "sched-simple")
    ok(fake, "resource", "reload", "--force", big)
    ok(fake, "module", "load", "sched-simple")
    assert ok(fake, "resource", "info").startswith("100 Nodes,")


def test_long_option_prefixes_and_set_property(fake):
    assert ok(fake, "resource", "list", "--state=free") == ok(fake, "resource", "list",
                                                               "--states=free")
    r = fake.run("resource", "list", "--s=free")  # --states or --skip-empty: ambiguous
    assert r.returncode != 0
    r = flux("R", "encode", "-r", "0-3", "-c", "0-1")
    out = flux("R", "set-property", "xx:0-1", "+batch", input=r.stdout)
    assert out.returncode == 0, out.stderr
    props = json.loads(out.stdout)["execution"]["properties"]
    assert props == {"xx": "0-1", "+batch": "0-3"}


def test_sched_debug_fail_alloc(fake):
    assert ok(fake, "module", "debug", "--setbit", "0x1", "sched-simple") == "0x1\n"
    jobid = ok(fake, "submit", "-n1", "true").strip()
    out = ok(fake, "job", "wait-event", "-t", "10", jobid, "exception")
    assert "DEBUG_FAIL_ALLOC" in out and "type=\"alloc\"" in out
    assert ok(fake, "module", "debug", "--clearbit", "0x1", "sched-simple") == "0x0\n"
