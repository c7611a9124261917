"""More of flux.job as flux-core's Python has it: the module names
flux.job.Jobspec and flux.job.JobID, flux.job._utils (signals, durations,
dependency URIs, --requires constraints, --env/--rlimit rules,
BatchConfig), Jobspec.apply_options and the from_submit/from_alloc/
from_batch builders, JobInfoFormat and job_fields_to_attrs, JobStats over
job-list.job-stats, and the FluxExecutor's internals (_SubmitPackage,
_AttachPackage, _FluxExecutorThread). Snippets run under `flux python`;
each prints JSON (or lines) that the test compares exactly."""

import json
import textwrap

from conftest import wait_until_running
from pysnippet import ERR_BY_ARG, run_json

PRELUDE = """
import json, os, signal, sys, tempfile
from types import SimpleNamespace
""" + ERR_BY_ARG


def py(code):
    """Run CODE outside any instance; its stdout as JSON."""
    return run_json(PRELUDE, code)


def py_in(inst, code, timeout=60):
    """Run CODE in instance INST; its stdout as JSON."""
    r = inst.run("python", "-c", PRELUDE + textwrap.dedent(code), timeout=timeout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_module_names_are_flux_cores():
    out = py("""
        import importlib
        import flux.job
        from flux.job.Jobspec import Jobspec, JobspecV1
        from flux.job.JobID import JobID
        spec = importlib.import_module("flux.job.Jobspec")
        jid = importlib.import_module("flux.job.JobID")
        print(json.dumps([
            flux.job.Jobspec is Jobspec, flux.job.JobspecV1 is spec.JobspecV1,
            flux.job.JobID is JobID is jid.JobID, spec.validate_jobspec is flux.job.validate_jobspec,
            err(lambda: importlib.import_module("flux.job.jobspec")),
            err(lambda: importlib.import_module("flux.job.jobid")),
            flux.job.BatchConfig.__module__, flux.job.JobInfoFormat.__module__,
        ]))
    """)
    assert out == [
        True, True, True, True,
        ["ModuleNotFoundError", "No module named 'flux.job.jobspec'"],
        ["ModuleNotFoundError", "No module named 'flux.job.jobid'"],
        "flux.job._utils", "flux.job.info",
    ]


def test_utils_signals_durations_uris_and_keyvals():
    out = py("""
        from flux.job._utils import (URIArg, decode_duration, decode_signal,
            dependency_array_create, parse_jobspec_keyval, parse_signal_option)
        fd, path = tempfile.mkstemp(suffix=".json")
        os.write(fd, b'{"a": [1, 2]}')
        os.close(fd)
        print(json.dumps({
            "signal": [decode_signal(10), decode_signal("15"), decode_signal("SIGUSR1"),
                       decode_signal("USR2"), err(lambda: decode_signal("NOTASIG"))],
            "duration": [decode_duration(5), decode_duration("2.5"), decode_duration("1m"),
                         err(lambda: decode_duration("1x"))],
            "signal_opt": [parse_signal_option(None), parse_signal_option("TERM@2m"),
                           parse_signal_option("@30"), parse_signal_option("9"),
                           err(lambda: parse_signal_option("0")),
                           err(lambda: parse_signal_option("USR1@x"))],
            "deps": dependency_array_create(["afterok:123", "AfterAny:f1?x=1&x=2.5&y=z",
                                             "singleton"]),
            "taskmap": URIArg("cyclic:2", "taskmap").entry,
            "bad_uri": [err(lambda: URIArg("123", "dependency")),
                        err(lambda: URIArg(":x", "taskmap"))],
            "keyval": [parse_jobspec_keyval("--setopt", "a"),
                       parse_jobspec_keyval("--setopt", "b=true"),
                       parse_jobspec_keyval("--setopt", "c=x y"),
                       parse_jobspec_keyval("--setopt", "d={\\"k\\": 1}"),
                       parse_jobspec_keyval("--setattr", "^e=" + path)],
        }))
        os.unlink(path)
    """)
    assert out == {
        "signal": [10, 15, 10, 12, ["ValueError", "signal 'NOTASIG' is invalid"]],
        "duration": [5, 2.5, 60.0, ["ValueError", "invalid Flux standard duration"]],
        "signal_opt": [
            {"signum": 10, "timeleft": 60},
            {"signum": 15, "timeleft": 120.0},
            {"signum": 10, "timeleft": 30.0},
            {"signum": 9, "timeleft": 60},
            ["ValueError", "--signal=0: signal must be > 0"],
            ["ValueError", "--signal=USR1@x: invalid Flux standard duration"],
        ],
        "deps": [
            {"scheme": "afterok", "value": "123"},
            {"scheme": "afterany", "value": "f1", "x": [1, 2.5], "y": "z"},
            {"scheme": "singleton", "value": ""},
        ],
        "taskmap": {"scheme": "cyclic", "value": "2"},
        "bad_uri": [["ValueError", 'Invalid dependency URI "123:"'],
                    ["ValueError", 'Invalid taskmap URI ":x"']],
        "keyval": [["a", 1], ["b", True], ["c", "x y"], ["d", {"k": 1}], ["e", {"a": [1, 2]}]],
    }


def test_utils_requires_constraints():
    out = py("""
        from flux.job._utils import MiniConstraintParser
        p = MiniConstraintParser()
        queries = ["gpu", "gpu ib", "gpu,ib", "host:node[1-2]", "rank:0-3 gpu",
                   "-gpu", "not (a|b) c", "a | b c", "a && b || c", "hosts:'x y'"]
        bad = ["", "(gpu", "gpu)", "-(a)", "host:", "or gpu", "b$d:x", "'gpu"]
        print(json.dumps([p.parse(q) for q in queries] + [err(lambda: p.parse(q)) for q in bad]))
    """)
    props = lambda *names: {"properties": list(names)}  # noqa: E731
    assert out[:10] == [
        props("gpu"),
        props("gpu", "ib"),
        props("gpu", "ib"),
        {"hostlist": ["node[1-2]"]},
        {"and": [{"ranks": ["0-3"]}, props("gpu")]},
        {"not": [props("gpu")]},
        {"and": [{"not": [{"or": [props("a"), props("b")]}]}, props("c")]},
        {"or": [props("a"), props("b", "c")]},
        {"or": [props("a", "b"), props("c")]},
        {"hostlist": ["x y"]},
    ]
    assert [e[0] for e in out[10:]] == ["ConstraintSyntaxError"] * 8
    assert [e[1] for e in out[10:]] == [
        "Unexpected end of input in ''",
        "Unexpected end of input in '(gpu'",
        "Invalid token ')' in 'gpu)'",
        "Invalid token '(' after '-'",
        "Missing argument to token 'host:'",
        "Invalid token 'or' in 'or gpu'",
        "invalid character '$' in operator 'b$d:'",
        "Unclosed quote ''' in ''gpu'",
    ]


def test_utils_environment_and_rlimit_rules():
    out = py("""
        import resource
        from flux.job._utils import (filter_dict, get_filtered_environment,
            get_filtered_rlimits, get_rlimits, list_split)
        env = {"A": "1", "AB": "2", "B": "3", "PATH": "/bin"}
        os.environ.update({"XTEST_ONE": "1", "XTEST_TWO": "2"})
        fd, path = tempfile.mkstemp()
        os.write(fd, b"-B\\nFROMFILE=yes\\n")
        os.close(fd)
        env_out, expand = get_filtered_environment(
            ["-A*", "C=$PATH:/usr/bin", "XTEST_*", "ID={{id}}", "^" + path], dict(env))
        os.unlink(path)
        all_limits = get_rlimits()
        print(json.dumps({
            "filter": [filter_dict(env, "A*"), filter_dict(env, "/^A/", reverseMatch=False)],
            "split": [list_split("a,b"), list_split(["a", "b,c"]), list_split(None)],
            "env": [env_out, expand],
            "env_errors": [err(lambda: get_filtered_environment(["X=$NOPE_NOT_SET"], {})),
                           err(lambda: get_filtered_environment(["^/no/such/file"], {}))],
            "default": sorted(get_filtered_rlimits()) == sorted(
                set(all_limits) - {"memlock", "ofile", "msgqueue", "nice", "rtprio",
                                   "rttime", "sigpending"}),
            "rules": [get_filtered_rlimits(["-*"]),
                      get_filtered_rlimits(["-*", "core=5,nofile=unlimited"]),
                      get_filtered_rlimits("-*,stack")
                      == {"stack": resource.getrlimit(resource.RLIMIT_STACK)[0]}],
            "rlimit_errors": [err(lambda: get_filtered_rlimits(["nosuch=1"])),
                              err(lambda: get_filtered_rlimits(["core=big"])),
                              err(lambda: get_rlimits("nosuch"))],
        }))
    """)
    assert out["filter"] == [{"B": "3", "PATH": "/bin"}, {"A": "1", "AB": "2"}]
    assert out["split"] == [["a", "b"], ["a", "b", "c"], []]
    assert out["env"][0] == {"PATH": "/bin", "C": "/bin:/usr/bin", "XTEST_ONE": "1",
                             "XTEST_TWO": "2", "FROMFILE": "yes"}
    assert out["env"][1] == {"ID": "{{id}}"}
    assert out["env_errors"] == [
        ["ValueError", "--env: Variable 'NOPE_NOT_SET' not found in X=$NOPE_NOT_SET"],
        ["ValueError", "--env: [Errno 2] No such file or directory: '/no/such/file'"],
    ]
    assert out["default"] is True
    assert out["rules"] == [{}, {"core": 5, "nofile": -1}, True]
    assert out["rlimit_errors"] == [
        ["ValueError", 'Invalid rlimit "nosuch"'],
        ["ValueError", "Invalid value in core=big"],
        ["ValueError", 'No corresponding rlimit matching "nosuch"'],
    ]


def test_batchconfig_and_normalize_conf():
    out = py("""
        from flux.job import BatchConfig
        from flux.job._utils import normalize_conf
        d = tempfile.mkdtemp()
        with open(d + "/a.toml", "w") as f:
            f.write("[resource]\\nnoverify = true\\n")
        with open(d + "/b.json", "w") as f:
            f.write('{"resource": {"path": "/x"}, "n": 1}')
        with open(d + "/bad.toml", "w") as f:
            f.write("[[[")
        os.makedirs(d + "/xdg/flux/config")
        with open(d + "/xdg/flux/config/named.json", "w") as f:
            f.write('{"named": true}')
        os.environ["XDG_CONFIG_HOME"] = d + "/xdg"
        bc = BatchConfig()
        first = bc.config
        bc.update("a.b=1").update("a.c=word").update(d + "/a.toml").update(d + "/b.json")
        bc.update("[tbl]\\nk = 'v'\\n").update('{"j": [1]}\\n').update("named")
        print(json.dumps({
            "first": first, "config": bc.config,
            "get": [bc.get("resource.noverify"), bc.get("no.such"), bc.get("no", default=3)],
            "errors": [err(lambda: BatchConfig().update("not json or toml\\n\\n")),
                       err(lambda: BatchConfig().update(d + "/missing.toml")),
                       err(lambda: BatchConfig().update(d + "/bad.toml")),
                       err(lambda: BatchConfig().update("nosuchname")),
                       err(lambda: BatchConfig().update_file("x.yaml", ".yaml")),
                       err(lambda: BatchConfig().update("a=1").update("a.b=2"))],
            "normalize": [normalize_conf(None), normalize_conf({"x": 1}),
                          normalize_conf(BatchConfig().update("y=2")),
                          normalize_conf("z.w=true")],
        }))
    """)
    assert out["first"] is None
    assert out["config"] == {
        "a": {"b": 1, "c": "word"}, "resource": {"noverify": True, "path": "/x"}, "n": 1,
        "tbl": {"k": "v"}, "j": [1], "named": True,
    }
    assert out["get"] == [True, None, 3]
    assert [e[0] for e in out["errors"]] == ["ValueError"] * 5 + ["TypeError"]
    assert out["errors"][0][1] == "--conf: failed to parse multiline as TOML or JSON"
    assert out["errors"][1][1].startswith("--conf: [Errno 2] No such file or directory")
    assert out["errors"][2][1].startswith("--conf: parse error: ")
    assert out["errors"][3][1] == "--conf: named config 'nosuchname' not found"
    assert out["errors"][4][1] == "--conf: x.yaml must end in .toml or .json"
    assert out["errors"][5][1].startswith("failed to set a.b to 2: ")
    assert out["normalize"] == [None, {"x": 1}, {"y": 2}, {"z": {"w": True}}]


def test_apply_options():
    out = py("""
        import resource
        from flux.job import JobspecV1
        def js():
            return JobspecV1.from_command(["hostname"], environment={"KEEP": "1"})
        def opts(j):
            return j.jobspec["attributes"]["system"].get("shell", {}).get("options", {})
        os.environ["APPLY_TEST"] = "yes"
        a = js().apply_options(SimpleNamespace(
            env=["-*", "APPLY_TEST", "X={{id}}"], rlimit=["-*", "core=0"], signal="USR2@1m",
            taskmap="cyclic", dependency="afterok:42", requires=["gpu", "host:n1"],
            setopt=["verbose", "mpi=none"], setattr=["k=1", ".user.note=hi", "user.u=2"],
            time_limit="1h", add_file=["f1=line\\\\nline"]), shell_options={"mpi": "pmi"},
            attributes={"system.k": 2})
        sysattr = a.jobspec["attributes"]["system"]
        b = js().apply_options(time_limit=30, env="-*")
        c = js()
        same = c.apply_options() is c
        print(json.dumps({
            "env": a.environment, "opts": opts(a),
            "deps": sysattr["dependencies"], "constraints": sysattr["constraints"],
            "k": sysattr["k"], "user": a.jobspec["attributes"]["user"],
            "duration": [a.duration, b.duration, c.duration],
            "file": sorted(sysattr["files"]["f1"]),
            "b": [b.environment, opts(b)], "c": [same, c.environment, opts(c)],
            "errors": [err(lambda: js().apply_options(typo=1)),
                       err(lambda: js().apply_options(requires="(gpu")),
                       err(lambda: js().apply_options(add_file=["a\\nb"])),
                       err(lambda: js().apply_options(prog="submit", plugin_opt=1)),
                       err(lambda: js().apply_options(signal="NOPE"))],
        }))
    """)
    assert out["env"] == {"APPLY_TEST": "yes"}
    assert out["opts"] == {
        "env-expand": {"X": "{{id}}"},
        "rlimit": {"core": 0},
        "signal": {"signum": 12, "timeleft": 60.0},
        "taskmap": {"scheme": "cyclic", "value": ""},
        "verbose": 1,
        "mpi": "pmi",
    }
    assert out["deps"] == [{"scheme": "afterok", "value": "42"}]
    assert out["constraints"] == {"and": [{"properties": ["gpu"]}, {"hostlist": ["n1"]}]}
    assert out["k"] == 2
    assert out["user"] == {"note": "hi", "u": 2}
    assert out["duration"] == [3600.0, 30, 0]
    assert out["file"] == ["data", "encoding", "mode"]
    assert out["b"] == [{}, {}]
    assert out["c"] == [True, {"KEEP": "1"}, {}]
    assert out["errors"] == [
        ["TypeError", "apply_options() got unexpected keyword argument(s): 'typo'"],
        ["ValueError", "--requires='(gpu': Unexpected end of input in '(gpu'"],
        ["ValueError", "--add-file: file name missing"],
        ["TypeError", "apply_options() got unexpected keyword argument(s): 'plugin_opt'"],
        ["ValueError", "--signal=NOPE: signal 'NOPE' is invalid"],
    ]


def test_from_submit_alloc_batch():
    out = py("""
        from flux.job import JobspecV1, BatchConfig
        os.chdir(tempfile.mkdtemp())
        with open("job.sh", "w") as f:
            f.write("#!/bin/sh\\necho hi\\n")
        s = JobspecV1.from_submit(["app", "x"], ntasks=4, nodes=2, name="n",
                                  env=["-*", "Z=1"], time_limit="2m", requires="gpu")
        a = JobspecV1.from_alloc(nodes=2, broker_opts=["-Sx=1"], conf="resource.noverify=true",
                                 bg=True, rlimit=["-*"])
        b = JobspecV1.from_batch("job.sh", nslots=3, conf=BatchConfig().update("a=1"))
        c = JobspecV1.from_batch(content="echo hi\\n", wrap=True, cwd="/tmp", output="o")
        def sysattr(j):
            return j.jobspec["attributes"]["system"]
        print(json.dumps({
            "submit": [s.resources, s.tasks, s.environment, s.duration,
                       sysattr(s)["job"], sysattr(s)["constraints"], "rlimit" in
                       sysattr(s)["shell"]["options"], type(s).__name__],
            "alloc": [a.resources, a.tasks[0]["command"], sysattr(a)["cwd"] == os.getcwd(),
                      sysattr(a)["shell"]["options"], sorted(sysattr(a)["files"]),
                      sysattr(a)["files"]["conf.json"]["data"]],
            "batch": [b.resources, b.tasks[0]["command"], sysattr(b)["job"],
                      sysattr(b)["files"]["script"]["data"], sysattr(b)["files"]["conf.json"]["data"],
                      b.output, b.cwd == os.getcwd()],
            "content": [sysattr(c)["job"], sysattr(c)["files"]["script"]["data"], c.output,
                        c.cwd, c.resources[0]["count"]],
            "errors": [err(lambda: JobspecV1.from_alloc()),
                       err(lambda: JobspecV1.from_batch()),
                       err(lambda: JobspecV1.from_batch("job.sh", content="#!/bin/sh\\n")),
                       err(lambda: JobspecV1.from_batch(content="echo\\n")),
                       err(lambda: JobspecV1.from_submit(["a"], bogus=1))],
        }))
    """)
    core = {"type": "core", "count": 1}
    slot = lambda n: {"type": "slot", "count": n, "with": [core], "label": "task"}  # noqa: E731
    assert out["submit"] == [
        [{"type": "node", "count": 2, "with": [slot(2)]}],
        [{"command": ["app", "x"], "slot": "task", "count": {"per_slot": 1}}],
        {"Z": "1"}, 120.0, {"name": "n"}, {"properties": ["gpu"]}, True, "JobspecV1",
    ]
    assert out["alloc"] == [
        [{"type": "node", "count": 2, "exclusive": True, "with": [slot(1)]}],
        ["flux", "broker", "-Sx=1", "-Sbroker.rc2_none=1", "-c{{tmpdir}}/conf.json"],
        True,
        {"per-resource": {"type": "node"}, "mpi": "none", "exit-timeout": "none",
         "pty": {"capture": 1}},
        ["conf.json"],
        {"resource": {"noverify": True}},
    ]
    assert out["batch"] == [
        [slot(3)], ["flux", "broker", "-c{{tmpdir}}/conf.json", "{{tmpdir}}/script"],
        {"name": "job.sh"}, "#!/bin/sh\necho hi\n", {"a": 1}, "flux-{{id}}.out", True,
    ]
    assert out["content"] == [{"name": "batch"}, "#!/bin/sh\necho hi\n", "o", "/tmp", 1]
    assert out["errors"] == [
        ["ValueError", "from_alloc() requires nslots or nodes"],
        ["TypeError", "from_batch() takes either 'script' (a file path) or 'content' "
                      "(the script itself)"],
        ["TypeError", "from_batch() takes either 'script' (a file path) or 'content' "
                      "(the script itself)"],
        ["ValueError", "batch does not appear to start with '#!'"],
        ["TypeError", "apply_options() got unexpected keyword argument(s): 'bogus'"],
    ]


def test_jobinfo_format_and_fields_to_attrs():
    out = py("""
        from flux.job import JobInfo, JobInfoFormat, job_fields_to_attrs
        fmt = JobInfoFormat("{id.f58:>12} {state:<8} {annotations.sched.foo} "
                            "{instance.resources.odd.ncores} {user.x} {t_run}")
        info = JobInfo({"id": 1234, "result": 1, "t_run": 2.0, "t_cleanup": 5.0,
                        "waitstatus": 0, "exception_occurred": False})
        d = info.to_dict()
        print(json.dumps({
            "attrs": [sorted(job_fields_to_attrs(["id", "status", "runtime", "sched.reason",
                                                  "instance.utilization"])),
                      sorted(job_fields_to_attrs(["contextual_time"]))],
            "unknown": err(lambda: job_fields_to_attrs(["nosuch"])),
            "bad_fmt": err(lambda: JobInfoFormat("{nosuch}")),
            "header": fmt.header(),
            "info": [info.state, info.status, info.t_remaining, info.returncode, info.runtime],
            "dict": [d["id"], d["jobid"], d["result"], d["returncode"], d["duration"],
                     d["exception"], "state" in d, "t_depend" in d, d["runtime"]],
        }))
    """)
    assert out["attrs"] == [
        ["annotations", "result", "state", "t_cleanup", "t_run"],
        ["duration", "state", "t_cleanup", "t_run"],
    ]
    assert out["unknown"] == ["KeyError", "nosuch"]
    assert out["bad_fmt"][0] == "ValueError"
    assert out["header"] == "       JOBID STATE    SCHED.FOO ODD.NCORES USER.X T_RUN"
    assert out["info"] == ["", "", 0.0, 0, 3.0]
    assert out["dict"] == [1234, "ƒNH", "COMPLETED", 0, 0.0, {"occurred": False}, False,
                           False, 3.0]


def test_job_stats(instance):
    wait_until_running(instance)
    r = instance.run("config", "load", input="[queues.a]\n[queues.b]\n")
    assert r.returncode == 0, r.stderr
    out = py_in(instance, """
        import flux, flux.job
        from flux.job import JobspecV1
        from flux.job.stats import JobStats
        from flux.constants import FLUX_JOB_STATE_SCHED, FLUX_JOB_STATE_INACTIVE
        h = flux.Flux()
        def seen(jobid, state):  # job-list has the job in STATE (so in its stats)
            h.rpc("job-list.list-id", {"id": jobid, "attrs": ["state"], "state": state}).get()
        def counts(s):
            return {k: getattr(s, k) for k in JobStats.states + JobStats.stats
                    + JobStats.derived_stats if getattr(s, k)}
        ids = [flux.job.submit(h, JobspecV1.from_command(["true"], queue=q))
               for q in ("a", "a", "b")]  # the queues are stopped: the jobs stay in SCHED
        for jobid in ids:
            seen(jobid, FLUX_JOB_STATE_SCHED)
        fresh = JobStats(h)
        before = [fresh.active, fresh.inactive, fresh.failed]
        all_ = counts(fresh.update_sync())
        a = counts(JobStats(h, queue="a").update_sync())
        flux.job.cancel(h, ids[2])
        flux.job.event_wait(h, ids[2], "clean", raiseJobException=False)
        seen(ids[2], FLUX_JOB_STATE_INACTIVE)
        both = JobStats(h, queue=["a", "b"])
        got = []
        both.update(callback=lambda s, tag: (got.append(tag), h.reactor_stop()), tag="cb")
        h.reactor_run()
        unknown = err(lambda: JobStats(h, queue="c").update_sync())
        print(json.dumps({"before": before, "all": all_, "a": a, "both": counts(both),
                          "got": got, "unknown": unknown}))
    """)
    assert out == {
        "before": [-1, -1, -1],
        "all": {"sched": 3, "total": 3, "pending": 3, "active": 3},
        "a": {"sched": 2, "total": 2, "pending": 2, "active": 2},
        "both": {"sched": 2, "inactive": 1, "total": 3, "failed": 1, "canceled": 1,
                 "pending": 2, "active": 2},
        "got": ["cb"],
        "unknown": ["ValueError", "no stats available for queue c"],
    }


def test_executor(instance):
    wait_until_running(instance)
    out = py_in(instance, """
        import collections, threading
        import concurrent.futures as cf
        import flux, flux.job
        from flux.job import JobspecV1, JobException, EventLogEvent
        from flux.job.executor import (FluxExecutor, FluxExecutorFuture, _AttachPackage,
                                       _FluxExecutorThread, _SubmitPackage)
        def spec(*cmd):
            return JobspecV1.from_command(list(cmd))
        res = {}
        events = []
        with FluxExecutor(threads=2, thread_name_prefix="t") as ex:
            ok = ex.submit(spec("true"))
            bad = ex.submit(spec("sh", "-c", "exit 3"))
            for name in ("submit", "start", "finish", "clean"):
                bad.add_event_callback(name, lambda f, e: events.append(e.name))
            res["results"] = [ok.result(), bad.result()]
            again = ex.attach(bad.jobid())
            res["attach"] = [again.jobid() == bad.jobid(), again.result()]
            nojs = ex.submit(None)
            noid, negid, zero = ex.attach(None), ex.attach(-1), ex.attach(0)
            names = sorted(t.name for t in ex._executor_threads)
        res["events"] = sorted(set(events))
        res["names"] = names
        res["bad_args"] = [err(nojs.result), err(nojs.jobid), err(noid.result), noid.jobid(),
                           err(negid.result), negid.jobid(), err(zero.result)]
        res["after_shutdown"] = [err(lambda: ex.submit(spec("true"))), err(lambda: ex.attach(1))]
        ex2 = FluxExecutor()
        ex2._broken_event.set()
        res["broken"] = err(lambda: ex2.submit(spec("true")))
        ex2.shutdown()

        # the worker thread, run in this thread on packages queued beforehand
        deq, stop, broken = collections.deque(), threading.Event(), threading.Event()
        thread = _FluxExecutorThread(broken, stop, deq, 0.01, (), {})
        futs = [FluxExecutorFuture(threading.get_ident()) for _ in range(3)]
        deq.append(_SubmitPackage((spec("true"),), {}, futs[0]))
        deq.append(_SubmitPackage((spec("true"),), {"bogus": 1}, futs[1]))
        deq.append(_AttachPackage(ok.jobid(), futs[2]))
        cancelled = FluxExecutorFuture(threading.get_ident())
        deq.append(_SubmitPackage((spec("true"),), {}, cancelled))
        cancelled.cancel()
        stop.set()
        thread.run()
        res["thread"] = [futs[0].result(), err(futs[1].result), futs[2].result(),
                         futs[2].jobid() == ok.jobid(), cancelled.cancelled(), len(deq),
                         broken.is_set(), len(thread._FluxExecutorThread__running_user_futures)]

        # a future's events and job id, set directly
        f = FluxExecutorFuture(threading.get_ident())
        seen = []
        f.add_jobid_callback(lambda fut: seen.append(("id", fut.jobid())))
        f.add_event_callback("start", lambda fut, e: seen.append(("start", e.timestamp)))
        f._set_event(EventLogEvent({"name": "start", "timestamp": 1.5}))
        f._set_jobid(7)
        res["future"] = [seen, err(lambda: f._set_jobid(8)),
                         err(lambda: f._set_event(EventLogEvent({"name": "nope", "timestamp": 0}))),
                         err(lambda: f.add_event_callback("nope", None)),
                         err(lambda: FluxExecutorFuture(0).jobid(timeout=0))]
        t2 = _FluxExecutorThread(threading.Event(), threading.Event(), collections.deque(),
                                 0.01, (), {})
        g = FluxExecutorFuture(threading.get_ident())
        class Sham:
            def __init__(self, e): self.e = e
            def get_event(self): return self.e
        upd = t2._FluxExecutorThread__event_update
        upd(Sham(EventLogEvent({"name": "exception", "timestamp": 0,
                                "context": {"severity": 1, "type": "x", "note": ""}})), g)
        mid = g.done()
        upd(Sham(EventLogEvent({"name": "exception", "timestamp": 0,
                                "context": {"severity": 0, "type": "x", "note": "n"}})), g)
        res["exception"] = [mid, type(g.exception()).__name__, str(g.exception())]
        codes = []
        for status in (0, 3 << 8, 15, 9):  # exit 0, exit 3, SIGTERM, SIGKILL
            h = FluxExecutorFuture(threading.get_ident())
            upd(Sham(EventLogEvent({"name": "finish", "timestamp": 0,
                                    "context": {"status": status}})), h)
            codes.append(h.result())
        res["finish"] = codes
        print(json.dumps(res))
    """, timeout=120)
    assert out == {
        "results": [0, 3],
        "attach": [True, 3],
        "events": ["clean", "finish", "start", "submit"],
        "names": ["t-0", "t-1"],
        "bad_args": [
            ["OSError", "22"],
            ["RuntimeError", "job could not be submitted due to "
                             "OSError(22, 'jobspec must not be None/NULL')"],
            ["TypeError", "int() argument must be a string, a bytes-like object or a real "
                          "number, not 'NoneType'"],
            None,
            ["OverflowError", "job id -1 does not fit in 64 unsigned bits"],
            -1,
            ["ValueError", "job ID does not match any job"],
        ],
        "after_shutdown": [["RuntimeError", "cannot schedule new futures after shutdown"]] * 2,
        "broken": ["RuntimeError", "Executor is broken, new futures cannot be scheduled"],
        "thread": [0, ["TypeError", "submit_async() got an unexpected keyword argument 'bogus'"],
                   0, True, True, 0, False, 0],
        "future": [
            [["start", 1.5], ["id", 7]],
            ["RuntimeError", "invalid state: jobid already set"],
            ["ValueError", "invalid event 'nope'"],
            ["ValueError", "invalid event 'nope'"],
            ["TimeoutError", ""],
        ],
        "exception": [False, "JobException", "job.exception: type=x: n"],
        "finish": [0, 3, -15, -9],
    }


def test_submit_and_event_errors(instance):
    wait_until_running(instance)
    out = py_in(instance, """
        import errno, flux, flux.job
        h = flux.Flux()
        def eno(f):
            try:
                f()
            except OSError as e:
                return errno.errorcode[e.errno]
        print(json.dumps([eno(lambda: flux.job.submit(h, None)),
                          eno(lambda: flux.job.event_wait(None, 123, "start")),
                          eno(lambda: flux.job.event_wait(h, 123, "start")),
                          err(lambda: flux.job.event_watch_async(h, 1 << 64))]))
    """)
    assert out == ["EINVAL", "EINVAL", "ENOENT",
                   ["OverflowError", f"job id {1 << 64} does not fit in 64 unsigned bits"]]
