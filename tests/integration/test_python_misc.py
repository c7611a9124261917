"""flux.eventlog's EventLogFormatter, flux.compat36, flux.queue (QueueList
over config.get, job-manager.queue-status and the resource list) and
flux.uri (JobURI and FluxURIResolver with its local:, ssh:, pid:, jobid:
and slurm: resolvers), through the real `flux python`.

Snippets print JSON, compared here exactly. Pure-Python checks run outside
any instance; the rest in a real broker (the `instance` fixture, or one with
configured resources for the queue tests)."""

import json
import platform
import shutil
import textwrap

import pytest

from conftest import FLUX, Instance, clean_env, short_dir, wait_until_running
from pysnippet import ERR_BY_TEXT, run_json

PRELUDE = """
import json, math, os, sys
import flux
""" + ERR_BY_TEXT

HOST = platform.uname()[1]


def py(*code, inst=None, env=None):
    """Run the CODE blocks (after PRELUDE) with `flux python`, in INST if
    given; its stdout parsed as JSON."""
    return run_json(PRELUDE, *code, inst=inst, env=env)


def ok(inst, *args):
    r = inst.run(*args)
    assert r.returncode == 0, f"flux {' '.join(map(str, args))}: {r.stderr}"
    return r.stdout.strip()


# -- flux.eventlog --------------------------------------------------------------

EVENTS = """
T0 = 1738774194.078433
events = [
    {"timestamp": T0, "name": "submit",
     "context": {"userid": 1001, "urgency": 16, "flags": 0, "version": 1}},
    {"timestamp": T0 + 0.5, "name": "validate"},
    {"timestamp": T0 + 30.25, "name": "memo", "context": {"s": "ƒ Ω", "f": 1.5, "b": True}},
    {"timestamp": T0 + 61.0, "name": "exception",
     "context": {"type": "cancel", "severity": 0, "l": [1, "x"]}},
    {"timestamp": T0 + 70.5, "name": "clean", "context": {}},
]
from flux.eventlog import EventLogFormatter, EventLogEvent, decode

def lines(**kw):
    fmt = EventLogFormatter(**kw)
    return [fmt.format(e) for e in events]
"""


def test_eventlog_formatter_raw_offset_iso_json():
    out = py(EVENTS, """
        print(json.dumps({
            "raw": lines(),
            "offset": lines(timestamp_format="offset"),
            "iso": lines(timestamp_format="iso"),
            "json": lines(format="json"),
            "json_iso": lines(format="json", timestamp_format="iso"),
        }))
    """, env=clean_env(TZ="UTC"))
    assert out["raw"] == [
        "1738774194.078433 submit userid=1001 urgency=16 flags=0 version=1",
        "1738774194.578433 validate",
        "1738774224.328433 memo s=\"ƒ Ω\" f=1.5 b=true",
        "1738774255.078433 exception type=\"cancel\" severity=0 l=[1,\"x\"]",
        "1738774264.578433 clean",
    ]
    assert out["offset"] == [
        "       0.000000 submit userid=1001 urgency=16 flags=0 version=1",
        "       0.500000 validate",
        "      30.250000 memo s=\"ƒ Ω\" f=1.5 b=true",
        "      61.000000 exception type=\"cancel\" severity=0 l=[1,\"x\"]",
        "      70.500000 clean",
    ]
    # UTC is "Z"
    assert [line.split(" ")[0] for line in out["iso"]] == [
        "2025-02-05T16:49:54.078433Z",
        "2025-02-05T16:49:54.578433Z",
        "2025-02-05T16:50:24.328433Z",
        "2025-02-05T16:50:55.078433Z",
        "2025-02-05T16:51:04.578433Z",
    ]
    # JSON: the entry itself, compact, non-ASCII kept, empty context dropped
    assert out["json"] == [
        '{"timestamp":1738774194.078433,"name":"submit",'
        '"context":{"userid":1001,"urgency":16,"flags":0,"version":1}}',
        '{"timestamp":1738774194.578433,"name":"validate"}',
        '{"timestamp":1738774224.328433,"name":"memo","context":{"s":"ƒ Ω","f":1.5,"b":true}}',
        '{"timestamp":1738774255.078433,"name":"exception",'
        '"context":{"type":"cancel","severity":0,"l":[1,"x"]}}',
        '{"timestamp":1738774264.578433,"name":"clean"}',
    ]
    assert out["json_iso"] == out["json"]


def test_eventlog_formatter_human_color_zone_and_errors():
    out = py(EVENTS, """
        G, BG, Y, B, M, N, R, X = ("\\033[32m", "\\033[1m\\033[32m", "\\033[33m", "\\033[34m",
                                   "\\033[35m", "\\033[37m", "\\033[1m\\033[31m", "\\033[0m")
        color = lines(timestamp_format="human", color="always")
        expect_color = [
            BG + "[Feb05 11:49]" + X + " " + Y + "submit" + X + " " + B + "userid" + X + "="
            + N + "1001" + X + " " + B + "urgency" + X + "=" + N + "16" + X + " " + B + "flags"
            + X + "=" + N + "0" + X + " " + B + "version" + X + "=" + N + "1" + X,
            G + "[  +0.500000]" + X + " " + Y + "validate" + X,
            G + "[ +30.250000]" + X + " " + Y + "memo" + X + " " + B + "s" + X + "=" + M
            + '"ƒ Ω"' + X + " " + B + "f" + X + "=" + N + "1.5" + X + " " + B + "b" + X + "="
            + M + "true" + X,
            BG + "[Feb05 11:50]" + X + " " + R + "exception" + X + " " + B + "type" + X + "="
            + M + '"cancel"' + X + " " + B + "severity" + X + "=" + N + "0" + X + " " + B + "l"
            + X + "=" + M + '[1,"x"]' + X,
            G + "[  +9.500000]" + X + " " + Y + "clean" + X,
        ]
        print(json.dumps({
            "human": lines(timestamp_format="human"),
            "reltime": lines(timestamp_format="reltime", color="never"),
            "auto": lines(timestamp_format="human", color="auto"),  # stdout is a pipe
            "color_ok": color == expect_color,
            "iso": [l.split(" ")[0] for l in lines(timestamp_format="iso")][:2],
            "errors": [err(lambda: EventLogFormatter(format="yaml")),
                       err(lambda: EventLogFormatter(timestamp_format="epoch")),
                       err(lambda: EventLogFormatter(color="sometimes"))],
            "from_line": EventLogFormatter().format('{"timestamp":1.5,"name":"x"}'),
            # raw rounds to microseconds, ISO 8601 truncates
            "usec": [EventLogFormatter(timestamp_format=f).format(
                         {"timestamp": 1738774194.0947378, "name": "x"}) for f in ("raw", "iso")],
            "event": [str(EventLogEvent(events[0])),
                      EventLogEvent(events[2]).context_string,
                      EventLogEvent(events[1]).context_string],
            "decode": [e.name for e in decode('{"timestamp":1,"name":"a"}\\n\\n'
                                              '{"timestamp":2,"name":"b","context":{"k":1}}\\n')],
        }))
    """, env=clean_env(TZ="EST+5"))
    assert out["human"] == [
        "[Feb05 11:49] submit userid=1001 urgency=16 flags=0 version=1",
        "[  +0.500000] validate",
        "[ +30.250000] memo s=\"ƒ Ω\" f=1.5 b=true",
        "[Feb05 11:50] exception type=\"cancel\" severity=0 l=[1,\"x\"]",  # a minute later
        "[  +9.500000] clean",  # relative to the last [date] line
    ]
    assert out["reltime"] == out["human"]
    assert out["auto"] == out["human"]
    assert out["color_ok"] is True
    assert out["iso"] == ["2025-02-05T11:49:54.078433-0500", "2025-02-05T11:49:54.578433-0500"]
    assert out["errors"] == [
        ["ValueError", "Invalid entry_fmt: yaml"],
        ["ValueError", "Invalid timestamp_fmt: epoch"],
        ["ValueError", "Invalid color: sometimes"],
    ]
    assert out["from_line"] == "   1.500000 x"
    assert out["usec"] == ["1738774194.094738 x", "2025-02-05T11:49:54.094737-0500 x"]
    assert out["event"] == [
        "1738774194.07843: submit {'userid': 1001, 'urgency': 16, 'flags': 0, 'version': 1}",
        '{"b":true,"f":1.5,"s":"ƒ Ω"}',
        "",
    ]
    assert out["decode"] == ["a", "b"]


def test_eventlog_formatter_on_a_job_eventlog(instance):
    jobid = ok(instance, "submit", "true")
    ok(instance, "job", "wait-event", "-t", "30", jobid, "clean")
    out = py(f"""
        from flux.eventlog import EventLogFormatter, decode
        from flux.job import JobID
        h = flux.Flux()
        text = h.rpc("job-info.lookup", {{"id": JobID("{jobid}"), "keys": ["eventlog"],
                                          "flags": 0}}).get()["eventlog"]
        entries = decode(text)
        jfmt, tfmt = EventLogFormatter(format="json"), EventLogFormatter(timestamp_format="offset")
        print(json.dumps({{
            "raw_lines": [l for l in text.splitlines() if l],
            "json": [jfmt.format(e) for e in entries],
            "text": [tfmt.format(e) for e in entries],
        }}))
    """, inst=instance)
    assert len(out["json"]) == len(out["raw_lines"])
    for line, raw in zip(out["json"], out["raw_lines"]):
        entry = json.loads(raw)
        if not entry.get("context", True):
            del entry["context"]
        assert json.loads(line) == entry
        assert line == json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False)
    names = [line.split()[1] for line in out["text"]]
    assert names[0] == "submit" and names[-1] == "clean" and "finish" in names
    assert out["text"][0].startswith("       0.000000 submit ")
    assert "finish status=0" in " ".join(out["text"])


# -- flux.compat36 ------------------------------------------------------------


def test_compat36_strsignal():
    out = py("""
        import signal
        from flux.compat36 import strsignal
        print(json.dumps({
            "names": [strsignal(s) for s in (signal.SIGHUP, signal.SIGINT, signal.SIGKILL,
                                             signal.SIGSEGV, signal.SIGTERM, signal.SIGABRT,
                                             signal.SIGIOT, signal.SIGCHLD, signal.SIGSYS)],
            "all": all(isinstance(strsignal(s), str) for s in range(1, 32)),
            "bad": [err(lambda: strsignal(0)), err(lambda: strsignal(64))],
        }))
    """)
    assert out["names"] == ["Hangup", "Interrupt", "Killed", "Segmentation Fault", "Terminated",
                            "Aborted", "Aborted", "Child exited", "Bad system call"]
    assert out["all"] is True
    assert out["bad"] == [["ValueError", "unknown signal 0"], ["ValueError", "unknown signal 64"]]


# -- flux.queue ----------------------------------------------------------------

QUEUE_DUMP = """
from flux.queue import QueueList, QueueInfo
def dump(q):
    r = q.resources
    inf = lambda v: "inf" if v == math.inf else v
    return {"name": q.name, "default": q.is_default, "enabled": q.enabled,
            "started": q.started, "parent": q.parent, "blocked": q.blocked,
            "defaults": inf(q.defaults.duration), "timelimit": inf(q.defaults.timelimit),
            "duration": inf(q.limits.duration), "limit_timelimit": inf(q.limits.timelimit),
            "min": [inf(q.limits.min.nnodes), inf(q.limits.min.ncores), inf(q.limits.min.ngpus)],
            "max": [inf(q.limits.max.nnodes), inf(q.limits.max.ncores), inf(q.limits.max.ngpus)],
            "nodes": {s: getattr(r, s).nnodes for s in ("all", "up", "down", "allocated", "free")},
            "cores": {s: getattr(r, s).ncores for s in ("all", "allocated", "free")}}
h = flux.Flux()
"""


def test_queuelist_anonymous_queue(instance):
    jobid = ok(instance, "submit", "sleep", "300")
    ok(instance, "job", "wait-event", "-t", "30", jobid, "start")
    out = py(QUEUE_DUMP, """
        ql = QueueList(h)
        before = dump(ql[""])
        same = ql[None] is ql[""] and list(ql) == [ql[""]] and len(ql) == 1
        h.rpc("job-manager.queue-start", {"start": False, "reason": "r1"}).get()
        h.rpc("job-manager.queue-enable", {"enable": False, "reason": "r2"}).get()
        after = dump(QueueList(h)[""])
        h.rpc("job-manager.queue-start", {"start": True}).get()
        h.rpc("job-manager.queue-enable", {"enable": True}).get()
        print(json.dumps({"before": before, "after": after, "same": same,
                          "errors": [err(lambda: QueueList(h, ["batch"])),
                                     err(lambda: QueueList(h).batch)]}))
    """, inst=instance)
    ok(instance, "cancel", jobid)
    before = out["before"]
    ncores = before["cores"]["all"]
    assert ncores >= 1
    assert before == {
        "name": "", "default": True, "enabled": True, "started": True, "parent": "",
        "blocked": None, "defaults": "inf", "timelimit": "inf", "duration": "inf",
        "limit_timelimit": "inf", "min": [0, 0, 0], "max": ["inf", "inf", "inf"],
        "nodes": {"all": 1, "up": 1, "down": 0, "allocated": 1, "free": 1 if ncores > 1 else 0},
        "cores": {"all": ncores, "allocated": 1, "free": ncores - 1},
    }
    assert out["after"]["enabled"] is False and out["after"]["started"] is False
    assert out["same"] is True
    assert out["errors"] == [["ValueError", "No such queue: batch"],
                             ["AttributeError", "no queue named 'batch'"]]


# Two ranks of four cores, only rank 0 served (rank 1 is down); "batch" on rank 0.
R2 = {
    "version": 1,
    "execution": {
        "R_lite": [{"rank": "0-1", "children": {"core": "0-3"}}],
        "nodelist": ["node[0-1]"],
        "properties": {"batch": "0"},
    },
}

QUEUES = """
[queues.batch]
requires = ["batch"]
policy.limits.job-size.max.nnodes = -1
[queues.debug]
policy.limits.duration = "1h"
policy.limits.job-size.max.nnodes = 1
policy.limits.job-size.max.ncores = 2
policy.limits.job-size.min.ncores = 2
[queues.exp]
parent = "batch"
policy.jobspec.defaults.system.duration = "10m"
[policy]
limits.duration = "24h"
limits.job-size.max.ngpus = 4
jobspec.defaults.system.queue = "batch"
jobspec.defaults.system.duration = "8h"
"""


@pytest.fixture
def queue_instance(tmp_path):
    base, cleanup = short_dir(tmp_path)
    (base / "R.json").write_text(json.dumps(R2))
    conf = base / "conf.toml"
    conf.write_text(f'[resource]\npath = "{base / "R.json"}"\nnoverify = true\n{QUEUES}')
    inst = Instance(base / "i", broker_args=[f"-o,--config-path={conf}"])
    inst.start()
    try:
        wait_until_running(inst)
        yield inst
        assert inst.stop() == 0, inst.broker_log()
    finally:
        inst.kill()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def test_queuelist_named_and_virtual_queues(queue_instance):
    inst = queue_instance
    stopped = py(QUEUE_DUMP, """
        ql = QueueList(h)
        print(json.dumps({
            "names": [q.name for q in ql],
            "queues": {q.name: dump(q) for q in ql},
            "subset": [[q.name for q in QueueList(h, sel)] for sel in ([], set(), ["debug"],
                                                                         ("exp", "batch"))],
            "attr": [ql.batch is ql["batch"], ql[None]],
            "unknown": err(lambda: QueueList(h, ["debug", "nosuch"])),
        }))
    """, inst=inst)
    assert stopped["names"] == ["batch", "debug", "exp"]
    assert stopped["subset"] == [["batch", "debug", "exp"], ["batch", "debug", "exp"],
                                 ["debug"], ["exp", "batch"]]
    assert stopped["attr"] == [True, None]
    assert stopped["unknown"] == ["ValueError", "No such queue: nosuch"]
    q = stopped["queues"]
    common = {"enabled": True, "started": False, "blocked": None, "limit_timelimit": 86400.0}
    assert q["batch"] == dict(
        common, name="batch", default=True, parent="", defaults=28800.0, timelimit=28800.0,
        duration=86400.0, min=[0, 0, 0], max=["inf", "inf", 4],
        nodes={"all": 1, "up": 1, "down": 0, "allocated": 0, "free": 1},
        cores={"all": 4, "allocated": 0, "free": 4})
    assert q["debug"] == dict(
        common, name="debug", default=False, parent="", defaults=28800.0, timelimit=28800.0,
        duration=3600.0, limit_timelimit=3600.0, min=[0, 2, 0], max=[1, 2, 4],
        nodes={"all": 2, "up": 1, "down": 1, "allocated": 0, "free": 1},
        cores={"all": 8, "allocated": 0, "free": 4})
    # a virtual queue: its own default duration, the rest (and the
    # resources) from its parent, then the top level
    assert q["exp"] == dict(
        common, name="exp", default=False, parent="batch", defaults=600.0, timelimit=600.0,
        duration=86400.0, min=[0, 0, 0], max=["inf", "inf", 4],
        nodes={"all": 1, "up": 1, "down": 0, "allocated": 0, "free": 1},
        cores={"all": 4, "allocated": 0, "free": 4})

    ok(inst, "queue", "start", "--all", "--quiet")
    jobid = ok(inst, "submit", "-n2", "sleep", "300")  # the default queue: batch
    ok(inst, "job", "wait-event", "-t", "30", jobid, "start")
    running = py(QUEUE_DUMP, """
        ql = QueueList(h)
        print(json.dumps({q.name: [q.started, q.blocked, q.resources.allocated.ncores,
                                   q.resources.free.ncores] for q in ql}))
    """, inst=inst)
    assert running == {"batch": [True, None, 2, 2], "debug": [True, None, 2, 2],
                       "exp": [True, None, 2, 2]}
    ok(inst, "queue", "stop", "--quiet", "batch")
    blocked = py(QUEUE_DUMP, """
        print(json.dumps({q.name: [q.started, q.blocked] for q in QueueList(h)}))
    """, inst=inst)
    # exp's own started bit is set, but its parent is stopped
    assert blocked == {"batch": [False, None], "debug": [True, None], "exp": [False, "parent"]}
    ok(inst, "cancel", jobid)


def test_queueinfo_parent_missing_from_config(instance):
    out = py(QUEUE_DUMP, """
        from flux.resource import resource_list
        rl = resource_list(h).get()
        config = {"queues": {"batch": {"requires": ["batch"]}}}
        gone = err(lambda: QueueInfo("exp", config, rl, True, True, False, parent="gone"))
        qi = QueueInfo("exp", config, rl, True, True, False, parent="batch")
        qi.config = {"queues": {}}
        anon = QueueInfo(None, {}, rl, True, False, True)
        print(json.dumps({"gone": gone, "raced": err(lambda: list(qi._config_entries())),
                          "anon": [anon.name, anon.started, anon.resources.all.nnodes]}))
    """, inst=instance)
    assert out == {
        "gone": ["ValueError", "queue 'exp': parent queue 'gone' is not configured"],
        "raced": ["ValueError", "queue 'exp': parent queue 'batch' is not configured"],
        "anon": ["", False, 1],
    }


# -- flux.uri: parsing ---------------------------------------------------------


def test_job_uri_parsing():
    out = py(f"""
        from flux.uri import URI, JobURI, URIResolverURI
        def parts(u):
            return [u.scheme, u.netloc, u.path, u.params, u.query, u.fragment, u.query_dict]
        ssh = JobURI("ssh://foo.com/tmp/foo?tag=bar&x=y")
        loc = JobURI("local:////tmp//foo")
        other = JobURI("local:///tmp/foo", remote_hostname="fakehost")
        print(json.dumps({{
            "ssh": parts(ssh) + [ssh.uri, ssh.remote, ssh.local, str(ssh)],
            "local": parts(loc) + [loc.remote, loc.local, str(loc)],
            "fakehost": other.remote,
            "errors": [err(lambda: JobURI("foo:///tmp/bar").remote),
                       err(lambda: JobURI("foo:///tmp/bar").local),
                       err(lambda: JobURI("")), err(lambda: JobURI("/tmp/x"))],
            "resolver_uri": [parts(URIResolverURI(u)) for u in
                             ("pid:1234?remote", "jobid:f1/f2?wait&local", "1234", "JobID:/")],
            "uri": parts(URI("http://h:1/p;q?a=1&a=2&b#frag")),
        }}))
    """)
    assert out["ssh"] == ["ssh", "foo.com", "/tmp/foo", "", "tag=bar&x=y", "",
                          {"tag": ["bar"], "x": ["y"]}, "ssh://foo.com/tmp/foo?tag=bar&x=y",
                          "ssh://foo.com/tmp/foo?tag=bar&x=y", "local:///tmp/foo",
                          "ssh://foo.com/tmp/foo?tag=bar&x=y"]
    assert out["local"] == ["local", "", "/tmp/foo", "", "", "", {},
                            f"ssh://{HOST}/tmp/foo", "local:////tmp//foo", "local:////tmp//foo"]
    assert out["fakehost"] == "ssh://fakehost/tmp/foo"
    assert out["errors"] == [
        ["ValueError", "Cannot convert JobURI with scheme foo to remote"],
        ["ValueError", "Cannot convert JobURI with scheme foo to local"],
        ["ValueError", "JobURI '' does not have a valid scheme"],
        ["ValueError", "JobURI '/tmp/x' does not have a valid scheme"],
    ]
    assert out["resolver_uri"] == [
        ["pid", "", "1234", "", "remote", "", {"remote": [""]}],
        ["jobid", "", "f1/f2", "", "wait&local", "", {"wait": [""], "local": [""]}],
        ["", "", "1234", "", "", "", {}],
        ["jobid", "", "/", "", "", "", {}],
    ]
    assert out["uri"] == ["http", "h:1", "/p", "q", "a=1&a=2&b", "frag",
                          {"a": ["1", "2"], "b": [""]}]


def test_job_uri_force_local_from_the_environment():
    out = py("""
        from flux.uri import JobURI
        print(json.dumps([str(JobURI("ssh://host/tmp/s")), str(JobURI("local:///tmp/s"))]))
    """, env=clean_env(FLUX_URI_RESOLVE_LOCAL="1"))
    assert out == ["local:///tmp/s", "local:///tmp/s"]


def test_resolver_plugins_passthrough_and_pluginpath(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "echo.py").write_text(textwrap.dedent("""
        from flux.uri import URIResolverPlugin
        class URIResolver(URIResolverPlugin):
            def describe(self):
                return "echo the path"
            def resolve(self, uri):
                return "local://" + uri.path
    """))
    (plugins / "pid.py").write_text(textwrap.dedent("""
        from flux.uri import URIResolverPlugin
        class URIResolver(URIResolverPlugin):
            def describe(self):
                return "not the real pid"
            def resolve(self, uri):
                return "ssh://h/pid/" + uri.path
    """))
    out = py(f"""
        from flux.uri import FluxURIResolver
        r = FluxURIResolver()
        mine = FluxURIResolver(pluginpath=[{str(plugins)!r}])
        def res(resolver, u):
            try:
                return str(resolver.resolve(u))
            except Exception as e:
                return [type(e).__name__, str(e)]
        os.environ["PATH"] = "/nonexistent"  # no Slurm commands
        print(json.dumps({{
            "plugins": r.plugins(),
            "mine": mine.plugins(),
            "passthrough": [res(r, "local:///tmp/x"), res(r, "ssh://h/tmp/x")],
            "mine_resolved": [res(mine, "echo:/tmp/e"), res(mine, "echo:/tmp/e?remote"),
                              res(mine, "pid:42"), res(mine, "pid:42?local")],
            "errors": [res(r, "nosuch:1"), res(r, "pid:1?local&remote"),
                       res(r, "pid:notapid"), res(r, "slurm:1234"), res(r, "slurm:")],
        }}))
    """)
    assert out["plugins"] == {
        "jobid": "Get URI for a given Flux JOBID",
        "pid": "Get FLUX_URI for a given local PID",
        "slurm": "Get URI for a Flux instance launched under Slurm",
    }
    assert out["mine"] == dict(out["plugins"], echo="echo the path", pid="not the real pid")
    assert out["passthrough"] == ["local:///tmp/x", "ssh://h/tmp/x"]
    assert out["mine_resolved"] == ["local:///tmp/e", f"ssh://{HOST}/tmp/e", "ssh://h/pid/42",
                                    "local:///pid/42"]
    assert out["errors"] == [
        ["NotImplementedError", "No plugin for URI scheme nosuch"],
        ["ValueError", "Only one of 'local' or 'remote' is allowed"],
        ["ValueError", "pid:notapid: not a process id"],
        ["ValueError", "scontrol not found: is Slurm installed?"],
        ["ValueError", "slurm: needs a Slurm job id"],
    ]


# -- flux.uri: pid: and jobid: in a real instance ----------------------------------


def test_pid_resolver(instance):
    jobid = ok(instance, "submit", "sleep", "300")
    ok(instance, "job", "wait-event", "-t", "30", jobid, "start")
    broker = instance.proc.pid  # flux start execs the broker
    with open(f"/proc/{broker}/status") as f:
        assert f.readline().split() == ["Name:", "flux-broker"]
    out = py(f"""
        import subprocess
        from flux.uri import FluxURIResolver
        r = FluxURIResolver()
        def res(u):
            try:
                return str(r.resolve(u))
            except Exception as e:
                return [type(e).__name__, str(e)]
        env = dict(os.environ)
        del env["FLUX_URI"]
        lone = subprocess.Popen(["sleep", "300"], env=env)
        try:
            print(json.dumps({{
                "self": [res("pid:%d" % os.getpid()), res("pid:%d?remote" % os.getpid())],
                "broker": res("pid:{broker}"),  # its job shell's FLUX_URI
                "lone": res("pid:%d" % lone.pid) == ["ValueError", "PID %d doesn't seem to "
                                                     "have a FLUX_URI" % lone.pid],
            }}))
        finally:
            lone.kill()
            lone.wait()
    """, inst=instance)
    ok(instance, "cancel", jobid)
    sock = str(instance.sock)
    assert out == {"self": [instance.uri, f"ssh://{HOST}{sock}"], "broker": instance.uri,
                   "lone": True}


# A job starting a nested instance, which runs a job of its own, memos that
# job's uri, then memos its own (ssh:// form, as flux-core's broker does) to
# the enclosing job: what flux-core's brokers post themselves.
NESTED_JOB = """#!/bin/sh
P=$FLUX_URI J=$FLUX_JOB_ID exec {flux} start -o,-Srundir={rundir} sh -c '
  id=$(flux submit sleep 300) &&
  flux job memo $id uri=local:///inner/uri &&
  FLUX_URI=$P flux job memo $J ready=$(flux job id --to=dec $id) &&
  exec sleep 300'
"""
# The nested broker posts its own uri memo at start (as flux-core's); the
# script says when its inner job exists too (memo ready=INNER_JOB_ID).


def test_jobid_resolver(instance):
    rundir = instance.base / "nested"
    script = instance.base / "nested.sh"
    script.write_text(NESTED_JOB.format(flux=FLUX, rundir=rundir, host=HOST))
    script.chmod(0o755)
    done = ok(instance, "submit", "true")
    ok(instance, "job", "wait-event", "-t", "30", done, "clean")
    plain = ok(instance, "submit", "sleep", "300")
    ok(instance, "job", "wait-event", "-t", "30", plain, "start")
    nested = ok(instance, "submit", str(script))
    inner = f"local://{rundir}/local-0"
    out = py(f"""
        from flux.uri import FluxURIResolver
        import flux.job
        for event in flux.job.event_watch(flux.Flux(), flux.job.JobID("{nested}")):
            if event.name == "memo" and "ready" in event.context:
                innerjob = int(event.context["ready"])
                break
        r = FluxURIResolver()
        def res(u):
            try:
                return str(r.resolve(u))
            except Exception as e:
                return [type(e).__name__, str(e)]
        out = {{"wait": res("jobid:{nested}?wait")}}  # blocks until the memo is posted
        out["forms"] = [res(u) for u in ("jobid:{nested}", "{nested}", "{nested}?local",
                                         "jobid:{nested}?remote", "jobid:{nested}/",
                                         "jobid:{nested}/..", "jobid:{nested}/..?local",
                                         "jobid:/", "jobid:..", "jobid:")]
        out["deeper"] = [res("jobid:{nested}/%d" % innerjob),
                         res("jobid:{nested}/%d?local" % innerjob),
                         res("jobid:{nested}/../{nested}/..?local")]
        out["errors"] = [res("jobid:{done}"), res("jobid:{plain}"), res("jobid:12345"),
                         res("jobid:-1")]
        # from inside the nested instance: its parent and the root
        os.environ["FLUX_URI"] = {inner!r}
        out["inside"] = [res("jobid:.."), res("jobid:/"), res("jobid:"),
                         res("jobid:%d" % innerjob)]
        print(json.dumps(out))
    """, inst=instance)
    ok(instance, "cancel", nested, plain)
    ok(instance, "job", "wait-event", "-t", "30", nested, "clean")
    top = instance.uri
    remote = f"ssh://{HOST}{rundir}/local-0"
    assert out["wait"] == remote
    assert out["forms"] == [remote, remote, inner, remote, remote,
                            f"ssh://{HOST}{instance.sock}", top, top, top, top]
    assert out["deeper"] == ["local:///inner/uri", "local:///inner/uri", top]
    assert out["errors"] == [
        ["ValueError", f"jobid {done} is not running"],
        ["ValueError", f"URI not found for job {plain}"],
        ["ValueError", "jobid 12345 not found"],
        ["ValueError", "-1 is not a valid jobid"],
    ]
    assert out["inside"] == [top, top, inner, "local:///inner/uri"]
