"""flux.job.Jobspec (Jobspec, JobspecV1, validate_jobspec) and flux.util's
Flux Standard Duration helpers, run through `flux python` so the installed
package is what is tested. No broker is needed: each test runs a snippet
that prints JSON, and the assertions here compare it with the jobspecs
flux-core's Python builds."""


from pysnippet import ERR_BY_ARG, run_json

# Shared by the snippets: err(f) is [exception type, message] or "ok".
PRELUDE = """
import datetime, io, json, os, pathlib, sys, tempfile, yaml
from flux.job.Jobspec import Jobspec, JobspecV1, validate_jobspec
from flux.util import fsd, parse_fsd
""" + ERR_BY_ARG


def py(code):
    return run_json(PRELUDE, code)


def core(count):
    return {"type": "core", "count": count}


def slot(count, *children):
    return {"type": "slot", "count": count, "with": list(children), "label": "task"}


def test_from_command_resource_layouts():
    out = py("""
        env = {"A": "1"}
        cases = [
            {},
            {"num_tasks": 4, "cores_per_task": 2, "gpus_per_task": 1},
            {"num_tasks": 2, "gpus_per_task": 0},
            {"num_tasks": 4, "num_nodes": 2},
            {"num_tasks": 3, "num_nodes": 2, "exclusive": True},
            {"num_tasks": 2, "num_nodes": 1, "cores_per_task": 3},
        ]
        out = [JobspecV1.from_command(["app", "x"], environment=env, **kw).jobspec
               for kw in cases]
        print(json.dumps(out))
    """)
    tasks = [{"command": ["app", "x"], "slot": "task", "count": {"per_slot": 1}}]
    attrs = {"system": {"duration": 0, "environment": {"A": "1"}}}
    assert out[0] == {"resources": [slot(1, core(1))], "tasks": tasks,
                      "attributes": attrs, "version": 1}
    assert out[1]["resources"] == [slot(4, core(2), {"type": "gpu", "count": 1})]
    assert out[2]["resources"] == [slot(2, core(1))]  # no gpu vertex for 0 gpus
    # with num_nodes, the slot count is per node
    assert out[3]["resources"] == [{"type": "node", "count": 2, "with": [slot(2, core(1))]}]
    assert out[3]["tasks"] == tasks
    # uneven: ceil(3/2) slots per node, and a total task count so one slot stays empty
    assert out[4]["resources"] == [
        {"type": "node", "count": 2, "exclusive": True, "with": [slot(2, core(1))]}
    ]
    assert out[4]["tasks"][0]["count"] == {"total": 3}
    assert out[5]["resources"] == [{"type": "node", "count": 1, "with": [slot(2, core(3))]}]
    for js in out:
        assert js["attributes"] == attrs  # no cwd, no name unless asked


def test_from_command_defaults_and_options():
    out = py("""
        js = JobspecV1.from_command(["true"])
        full = JobspecV1.from_command(
            ["true"], duration="1.5m", environment={"B": "2"}, env_expand={"D": "{{tmpdir}}"},
            cwd=pathlib.Path("/tmp"), rlimits={"nofile": 100}, name="nm", input="in.txt",
            output="out.txt", error="err.txt", label_io=True, unbuffered=True, queue="batch",
            bank="b1")
        kvs = JobspecV1.from_command(["true"], output="kvs", error="none", label_io=True)
        print(json.dumps({
            "env_is_ours": js.environment == dict(os.environ),
            "env_copied": js.environment is not os.environ,
            "cwd": js.cwd, "duration": js.duration, "queue": js.queue,
            "full": full.attributes["system"],
            "kvs_shell": kvs.attributes["system"].get("shell"),
        }))
    """)
    assert out["env_is_ours"] and out["env_copied"]
    assert out["cwd"] is None and out["duration"] == 0 and out["queue"] is None
    full = out["full"]
    assert full["duration"] == 90.0
    assert full["environment"] == {"B": "2"}
    assert full["cwd"] == "/tmp"
    assert full["job"] == {"name": "nm"}
    assert full["queue"] == "batch" and full["bank"] == "b1"
    assert full["shell"]["options"] == {
        "env-expand": {"D": "{{tmpdir}}"},
        "rlimit": {"nofile": 100},
        "input": {"stdin": {"type": "file", "path": "in.txt"}, "batch-timeout": 0.0},
        "output": {
            "stdout": {"type": "file", "path": "out.txt", "label": True,
                       "buffer": {"type": "none"}},
            "stderr": {"type": "file", "path": "err.txt", "label": True,
                       "buffer": {"type": "none"}},
            "batch-timeout": 0.05,
        },
    }
    # "kvs" and "none" mean the default destination: no file, no label
    assert out["kvs_shell"] is None


def test_from_command_errors():
    out = py("""
        cases = [
            {"num_tasks": 0}, {"num_tasks": 2.0}, {"cores_per_task": 0},
            {"gpus_per_task": -1}, {"num_nodes": 0}, {"num_tasks": 2, "num_nodes": 3},
            {"exclusive": True}, {"duration": -5}, {"duration": "inf"}, {"duration": []},
            {"duration": "10h5m"}, {"env_expand": ["X"]}, {"rlimits": 5}, {"cwd": 5},
            {"output": 7},
        ]
        print(json.dumps([err(lambda: JobspecV1.from_command(["a"], **kw)) for kw in cases]))
    """)
    assert out == [
        ["ValueError", "task count must be a integer >= 1"],
        ["ValueError", "task count must be a integer >= 1"],
        ["ValueError", "cores per task must be an integer >= 1"],
        ["ValueError", "gpus per task must be an integer >= 0"],
        ["ValueError", "node count must be an integer >= 1 (if set)"],
        ["ValueError", "node count must not be greater than task count"],
        ["ValueError", "exclusive can only be set with a node count"],
        ["ValueError", "duration must not be negative"],
        ["ValueError", "duration must be a normal, finite value"],
        ["TypeError", "duration must be an int, float, string, or timedelta"],
        ["ValueError", "invalid Flux standard duration"],
        ["ValueError", "env_expand must be a mapping"],
        ["ValueError", "rlimits must be a mapping"],
        ["ValueError", "cwd must be a string"],
        ["TypeError", "The path must be a string or pathlib object, got int"],
    ]


def test_per_resource():
    out = py("""
        env = {}
        print(json.dumps([
            JobspecV1.per_resource(["a"], ncores=4, nnodes=2, per_resource_type="node",
                                   per_resource_count=3, environment=env).jobspec,
            JobspecV1.per_resource(["a"], ncores=3, environment=env).resources,
            JobspecV1.per_resource(["a"], nnodes=2, exclusive=True, gpus_per_node=1,
                                   environment=env).resources,
            err(lambda: JobspecV1.per_resource(["a"], nnodes=2)),
            err(lambda: JobspecV1.per_resource(["a"], ncores=3, nnodes=2)),
            err(lambda: JobspecV1.per_resource(["a"], ncores=2, per_resource_type="gpu",
                                               per_resource_count=1)),
            err(lambda: JobspecV1.per_resource(["a"])),
        ]))
    """)
    first = out[0]
    assert first["resources"] == [{"type": "node", "count": 2, "with": [slot(1, core(2))]}]
    assert first["attributes"]["system"]["shell"] == {
        "options": {"per-resource": {"type": "node", "count": 3}}
    }
    assert out[1] == [slot(3, core(1))]
    assert out[2] == [{"type": "node", "count": 2, "exclusive": True,
                       "with": [slot(1, core(1), {"type": "gpu", "count": 1})]}]
    assert out[3:] == [
        ["ValueError", "Specifying nnodes also requires ncores or exclusive"],
        ["ValueError", "number of cores must be evenly divisible by node count"],
        ["ValueError", "Invalid per_resource_type='gpu' specified"],
        ["ValueError", "must specify node or core count with per_resource"],
    ]


def test_batch_and_nest_commands():
    out = py("""
        b = JobspecV1.from_batch_command("#!/bin/sh\\nflux run hostname\\n", "myjob",
                                         args=["x"], num_slots=4, num_nodes=2,
                                         exclusive=True, conf={"k": {"v": 1}},
                                         broker_opts=["-Sa=b"], environment={})
        n = JobspecV1.from_nest_command(["sleep", "1"], environment={})
        print(json.dumps([
            b.jobspec, n.tasks[0]["command"], n.attributes["system"]["shell"],
            err(lambda: JobspecV1.from_batch_command("hostname\\n", "nobang")),
        ]))
    """)
    batch = out[0]
    assert batch["tasks"][0]["command"] == [
        "flux", "broker", "-Sa=b", "-c{{tmpdir}}/conf.json", "{{tmpdir}}/script", "x"
    ]
    assert batch["resources"] == [
        {"type": "node", "count": 2, "exclusive": True, "with": [slot(2, core(1))]}
    ]
    system = batch["attributes"]["system"]
    assert system["job"] == {"name": "myjob"}
    assert system["files"] == {
        "script": {"mode": 0o100700, "data": "#!/bin/sh\nflux run hostname\n",
                   "encoding": "utf-8"},
        "conf.json": {"mode": 0o100600, "data": {"k": {"v": 1}}},
    }
    assert out[1] == ["flux", "broker", "sleep", "1"]
    assert out[2] == {"options": {"per-resource": {"type": "node"}, "mpi": "none",
                                  "exit-timeout": "none"}}
    assert out[3] == ["ValueError", "nobang does not appear to start with '#!'"]


def test_attributes_and_paths():
    out = py("""
        js = JobspecV1.from_command(["a"], environment={})
        js.setattr("foo", 1)                 # no prefix: system.
        js.setattr("user.x.y", [2])
        js.setattr("attributes.system.z", "z")
        js.setattr_shell_option("cpu-affinity", "off")
        js.stdout = pathlib.Path("o.txt")
        js.stderr = "e.txt"
        js.stdin = "i.txt"
        js.duration = datetime.timedelta(minutes=2)
        js.queue = "debug"
        js.cwd = "/w"
        res = {
            "attrs": js.attributes,
            "get": [js.getattr("foo"), js.getattr("system.foo"), js.getattr("user.x.y"),
                    js.getattr("attributes.system.z"),
                    js.getattr("shell.options.cpu-affinity")],
            "io": [js.output, js.error, js.input, js.stdout],
            "missing": err(lambda: js.getattr("nope.deeper")),
            "through_scalar": err(lambda: js.setattr("foo.bar", 1)),
            "bad_queue": err(lambda: setattr(js, "queue", 5)),
        }
        js.unbuffered = True
        res["unbuffered"] = js.unbuffered
        js.unbuffered = False
        res["buffered_shell"] = js.getattr("shell.options")
        print(json.dumps(res))
    """)
    system = out["attrs"]["system"]
    assert system["foo"] == 1 and system["z"] == "z"
    assert system["duration"] == 120.0 and system["queue"] == "debug" and system["cwd"] == "/w"
    assert out["attrs"]["user"] == {"x": {"y": [2]}}
    assert out["get"] == [1, 1, [2], "z", "off"]
    assert out["io"] == ["o.txt", "e.txt", "i.txt", "o.txt"]
    assert out["missing"][0] == "KeyError"
    assert out["through_scalar"][0] == "TypeError"
    assert out["through_scalar"][1].startswith("failed to set attributes.system.foo.bar to 1")
    assert out["bad_queue"] == ["TypeError", "queue must be a string"]
    assert out["unbuffered"] is True
    # turning buffering back on removes exactly what unbuffered added
    assert out["buffered_shell"] == {
        "cpu-affinity": "off",
        "output": {"stdout": {"type": "file", "path": "o.txt"},
                   "stderr": {"type": "file", "path": "e.txt"}},
        "input": {"stdin": {"type": "file", "path": "i.txt"}},
    }


def test_add_file():
    out = py("""
        js = JobspecV1.from_command(["a"], environment={})
        with tempfile.NamedTemporaryFile("wb", delete=False) as f:
            f.write(b"\\xff\\x00")
        os.chmod(f.name, 0o640)
        js.add_file("text", "a\\nb\\n")
        js.add_file("enc", "aGk=", perms=0o755, encoding="base64")
        js.add_file("bin", f.name)
        os.unlink(f.name)
        print(json.dumps([js.getattr("files"), err(lambda: js.add_file("x", 5)),
                          err(lambda: js.add_file("x", "y", encoding="rot13"))]))
    """)
    assert out[0] == {
        "text": {"mode": 0o100600, "data": "a\nb\n", "encoding": "utf-8"},
        "enc": {"mode": 0o100755, "data": "aGk=", "encoding": "base64"},
        "bin": {"mode": 0o100640, "size": 2, "data": "/wA=", "encoding": "base64"},
    }
    assert out[1] == ["TypeError", "data must be a Mapping or string"]
    assert out[2] == ["ValueError", "invalid encoding: rot13"]


YAML = """\
version: 999
resources:
  - type: node
    count: 2
    with:
      - type: slot
        label: read-db
        count: 10
        with:
          - {type: core, count: 1}
          - {type: memory, count: 4, unit: GB}
      - type: slot
        label: db
        count: "1-3"
        with:
          - {type: core, count: 6}
tasks:
  - command: [read-db]
    slot: read-db
    count: {per_slot: 1}
  - command: [db]
    slot: db
    count: {total: 1}
attributes:
  system: {duration: 3600., cwd: /home/flux}
  user: {note: hi}
"""


def test_yaml_iteration_and_counts(tmp_path):
    path = tmp_path / "js.yaml"
    path.write_text(YAML)
    out = py(f"""
        js = Jobspec.from_yaml_file({str(path)!r})
        again = Jobspec.from_yaml_stream(yaml.safe_dump(js.jobspec))
        text = io.StringIO(js.dumps())
        fixed = json.loads(js.dumps())
        fixed["resources"][0]["with"][1]["count"] = 2
        counts = Jobspec(**fixed).resource_counts()
        print(json.dumps({{
            "version": js.version, "duration": js.duration, "cwd": js.cwd,
            "same": again.jobspec == js.jobspec,
            "from_json": Jobspec.from_yaml_stream(text).jobspec == js.jobspec,
            "order": [r["type"] for r in js],
            "walk": [[p and p["type"], r["type"], c] for p, r, c in js.resource_walk()],
            "counts": counts,
            "range_counts": err(js.resource_counts),
            "v1": err(lambda: JobspecV1.from_yaml_file({str(path)!r})),
        }}))
    """)
    assert out["version"] == 999 and out["duration"] == 3600.0 and out["cwd"] == "/home/flux"
    assert out["same"] and out["from_json"]
    assert out["order"] == ["node", "slot", "core", "memory", "slot", "core"]
    assert out["walk"][:4] == [[None, "node", 2], ["node", "slot", 20], ["slot", "core", 20],
                               ["slot", "memory", 80]]
    assert out["walk"][4:] == [["node", "slot", None], ["slot", "core", None]]
    assert out["counts"] == {"node": 2, "slot": 24, "core": 44, "memory": 80}
    assert out["range_counts"] == ["ValueError", "slot count has no total: 1-3"]
    assert out["v1"] == ["ValueError", "version must be 1"]


def test_validate_jobspec():
    out = py("""
        base = JobspecV1.from_command(["a"], environment={}).jobspec

        def variant(path=None, value=None, drop=None, top=None):
            js = json.loads(json.dumps(base))
            if top:
                js.update(top)
            if path:
                *parents, last = path
                node = js
                for p in parents:
                    node = node[p]
                if drop:
                    del node[last]
                else:
                    node[last] = value
            return json.dumps(js)

        def check(text, **kw):
            try:
                ok, obj = validate_jobspec(text, **kw)
            except Exception as e:
                return [type(e).__name__, str(e.args[0]) if e.args else ""]
            return [ok, type(obj).__name__, obj.jobspec == json.loads(text)]

        cases = [
            json.dumps(base),
            json.dumps(base).encode(),
            variant(top={"version": 2}),
            variant(["tasks"], drop=True),
            variant(top={"extra": 1}),
            variant(["attributes", "system", "duration"], drop=True),
            variant(["attributes", "system", "duration"], "1h"),
            variant(["resources", 0, "count"], "1-4"),
            variant(["resources", 0, "label"], drop=True),
            variant(["resources", 0, "count"], 0),
            variant(["resources", 0, "with", 0, "count"], {"min": 2, "max": 1}),
            variant(["tasks", 0, "count"], {"per_resource": 1}),
            variant(["tasks", 0, "count"], {"per_slot": 1, "total": 2}),
            variant(["tasks", 0, "command"], "hostname"),
            variant(["attributes", "other"], {}),
            variant(["version"], 0),
            variant(["attributes", "system", "constraints"], {"ranks": ["0-3"]}),
            variant(["attributes", "system", "constraints"], {"bogus": ["x"]}),
            variant(["attributes", "system", "dependencies"], [{"scheme": "afterok"}]),
            "{not json",
        ]
        res = [check(c) for c in cases]
        res.append(check(json.dumps({**base, "version": 2}), require_version=1))
        res.append(err(lambda: validate_jobspec(None)))
        res.append(err(lambda: validate_jobspec(5)))
        res.append(validate_jobspec(JobspecV1.from_command(["a"], environment={}))[0])
        print(json.dumps(res))
    """)
    assert out[0] == [True, "JobspecV1", True]
    assert out[1] == [True, "JobspecV1", True]
    assert out[2] == [True, "Jobspec", True]  # other versions: RFC 14 checks only
    assert out[3] == ["ValueError", "Missing key (tasks)"]
    assert out[4] == ["ValueError", "Extraneous key (extra)"]
    assert out[5] == ["ValueError", "attributes.system.duration is a required key"]
    assert out[6] == ["ValueError", "attributes.system.duration must be a number"]
    assert out[7] == ["ValueError",
                      "resource count must be an integer for type 'slot' (got 'str')"]
    assert out[8] == ["ValueError", "slots must have labels"]
    assert out[9] == ["ValueError", "node, slot, or core count must be > 0"]
    assert out[10] == ["ValueError", "max must be >= min"]
    assert out[11] == ["ValueError", "count per_slot or total must be set"]
    assert out[12] == ["ValueError", "count must have exactly one key set"]
    assert out[13] == ["TypeError", "command must be a list of strings"]
    assert out[14] == ["ValueError", "Extraneous key (other)"]
    assert out[15] == ["ValueError", "version must be >= 1"]
    assert out[16] == [True, "JobspecV1", True]
    assert out[17] == ["TypeError", "unknown constraint operator 'bogus'"]
    assert out[18] == ["ValueError", "Missing key (value)"]
    assert out[19][0] == "JSONDecodeError"  # a ValueError
    assert out[20] == ["ValueError", "version must be 1"]
    assert out[21] == ["OSError", "22"]  # EINVAL, as flux-core raises it
    assert out[22] == ["TypeError",
                       "jobspec must be a Jobspec or string (either binary or unicode)"]
    assert out[23] is True


def test_fsd_and_parse_fsd():
    out = py("""
        good = ["0", "1.5", "2s", "500ms", "0.5m", "1.5h", "2d", "1e3", "inf", "infinity"]
        bad = ["-1", "-1s", "nan", "infs", "5x", "", "m", "10h5m", "1e400"]
        secs = [0, 0.0004, 0.5, 1, 9.9996, 10, 59.9, 60, 90, 3599, 3600, 5400, 86400, 1e6,
                float("inf")]
        print(json.dumps({
            "good": [parse_fsd(s) if s[0] != "i" else str(parse_fsd(s)) for s in good],
            "bad": [err(lambda: parse_fsd(s)) for s in bad],
            "fsd": [fsd(s) for s in secs],
        }))
    """)
    assert out["good"] == [0.0, 1.5, 2.0, 0.5, 30.0, 5400.0, 172800.0, 1000.0, "inf", "inf"]
    assert out["bad"] == [["ValueError", "invalid Flux standard duration"]] * 9
    assert out["fsd"] == ["0s", "0s", "0.500s", "1.000s", "10.000s", "10s", "59.9s", "1m",
                          "1.5m", "59.98m", "1h", "1.5h", "1d", "11.57d", "inf"]
