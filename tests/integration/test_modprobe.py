"""flux modprobe (flux-modprobe(1)): module descriptions from modprobe.toml
and drop-ins, rc files whose tasks and modules run in dependency order on
the ranks they belong on, load/remove/show/list-dependencies, and errors
reported as one line with exit code 1.

Most tests share one broker; the rc1/rc3 test starts two."""

import json
import shutil
import textwrap

import pytest

from conftest import BUILD, ECHO_MODULE, Instance, flux, loaded_modules, short_dir

CONFDIR = BUILD / "etc" / "flux" / "modprobe"

# etc/rc1's modules, in its order: rank 0, then the other ranks.
RC1_RANK0 = ["content", "content-sqlite", "kvs", "kvs-watch", "heartbeat", "resource",
             "job-manager", "job-info", "job-list", "job-ingest", "job-exec", "sched-graph"]
RC1_OTHERS = ["content", "kvs", "kvs-watch", "resource"]


@pytest.fixture(scope="module")
def mp(tmp_path_factory):
    base, cleanup = short_dir(tmp_path_factory.mktemp("modprobe"))
    inst = Instance(base)
    inst.start()
    try:
        yield inst
        rc = inst.stop()
        if rc != 0:
            pytest.fail(f"broker exited with {rc}:\n" + inst.broker_log())
    finally:
        inst.kill()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def modprobe(inst, *args, path=None, **env):
    """flux modprobe ARGS in INST, with FLUX_MODPROBE_PATH=PATH if given."""
    if path is not None:
        env["FLUX_MODPROBE_PATH"] = path
    return inst.run("modprobe", *args, env=inst.env(**env))


def drop_in(tmp_path, toml):
    """A search path directory whose modprobe.d holds TOML."""
    write(tmp_path / "modprobe.d" / "test.toml", toml)
    return str(tmp_path)


ECHO_TOML = f"""
    [[modules]]
    name = "echo"
    module = "{ECHO_MODULE}"
    args = ["a", "b"]
    requires = ["kvs"]
    after = ["kvs"]

    [[modules]]
    name = "broken"
    module = "/nonexistent/broken.so"

    [[modules]]
    name = "other-sched"
    ranks = "0"
    provides = ["sched", "feasibility"]
    requires = ["job-manager"]
"""


def test_tasks_run_in_dependency_order(mp, tmp_path):
    rc = write(tmp_path / "order.py", """
        from flux.modprobe import task

        def setup(context):
            print("setup")
            context.set("shared", "value")

        @task("last", after=["*"])
        def last(context):
            print("last")

        @task("b", after=["a"])
        def b(context):
            print("b", context.get("shared"))

        @task("a")
        def a(context):
            print("a")

        @task("first", before=["*"])
        def first(context):
            print("first")

        @task("no-needs", needs=["nosuch"])
        def no_needs(context):
            print("no-needs")

        @task("no-attr", needs_attrs=["!size"])
        def no_attr(context):
            print("no-attr")

        @task("attr", needs_attrs=["rank"], after=["b"])
        def attr(context):
            print("attr", context.attr_get("size"), context.attr_get("nosuch", "-"))

        @task("env", needs_env=["MP_TEST"], after=["attr"])
        def env(context):
            print("env", context.getenv("MP_TEST"))

        @task("config", needs_config=["!nosuch.key"], after=["env"])
        def config(context):
            print("config", context.conf_get("nosuch.key", "unset"))

        @task("rank1", ranks=">0")
        def rank1(context):
            print("rank1")
    """)
    r = modprobe(mp, "run", rc, MP_TEST="yes")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["setup", "first", "a", "b value", "attr 1 -", "env yes",
                                     "config unset", "last"]
    r = modprobe(mp, "run", "--dry-run", rc)
    assert r.stdout.splitlines() == ["setup", "run first", "run a", "run b", "run attr",
                                     "run config", "run last"]
    deps = json.loads(modprobe(mp, "run", "--show-deps", rc).stdout.splitlines()[-1])
    assert deps["b"] == ["a", "first"] and deps["first"] == []


@pytest.mark.parametrize("body, message", [
    ('@task("x", after=["y"])\ndef x(c): pass\n@task("y", after=["z"])\ndef y(c): pass\n'
     '@task("z", after=["x"])\ndef z(c): pass\n',
     "nodes are in a cycle: x -> z -> y -> x"),
    ('@task("t", branks="0")\ndef t(c): pass\n', "t: unknown task argument branks"),
    ('@task\ndef t(c): pass\n', 'task missing required name argument: @task("name")'),
    ('@task("t", ranks="=0")\ndef t(c): pass\n', "ranks: invalid idset: =0"),
    ('@task("t", before=["*"], after=["u"])\ndef t(c): pass\n',
     "t: cannot specify 'before=[\"*\"]' when 'after' is also set (after=['u'])"),
    ('@task("t", after=["nosuch"])\ndef t(c): pass\n', "no such task or module nosuch"),
    ('def setup(context):\n    context.load_modules(["nosuch"])\n',
     "no such task or module nosuch"),
])
def test_rc_file_errors_are_one_line(mp, tmp_path, body, message):
    rc = write(tmp_path / "bad.py", "from flux.modprobe import task\n" + body)
    r = modprobe(mp, "run", rc)
    assert (r.returncode, r.stderr) == (1, f"flux-modprobe: {message}\n")


def test_a_failing_task_skips_what_comes_after_it(mp, tmp_path):
    rc = write(tmp_path / "fail.py", """
        from flux.modprobe import task

        @task("boom")
        def boom(context):
            raise RuntimeError("test exception")

        @task("other")
        def other(context):
            print("other")

        @task("after-boom", after=["boom"])
        def after_boom(context):
            print("after-boom")
    """)
    r = modprobe(mp, "run", rc)
    assert (r.returncode, r.stdout, r.stderr) == (1, "other\n", "boom: test exception\n")
    r = modprobe(mp, "run", tmp_path / "nosuch.py")
    assert (r.returncode, r.stderr) == (1, f"flux-modprobe: {tmp_path}/nosuch.py: "
                                           "No such file or directory\n")


def test_load_and_remove(mp, tmp_path):
    path = drop_in(tmp_path, ECHO_TOML)
    r = modprobe(mp, "load", "--dry-run", "echo", path=path)
    assert (r.returncode, r.stdout) == (0, "load echo a b\n")
    assert modprobe(mp, "load", "echo", path=path).returncode == 0
    assert "echo" in loaded_modules(mp)
    r = modprobe(mp, "load", "echo", path=path)
    assert (r.returncode, r.stderr) == (
        0, "flux-modprobe: All modules and dependencies are already loaded\n")
    r = modprobe(mp, "remove", "kvs", path=path)
    assert (r.returncode, r.stderr) == (1, "flux-modprobe: kvs still in use by echo, job-info, "
                                           "job-ingest, job-manager, kvs-watch, resource\n")
    r = modprobe(mp, "remove", "--dry-run", "echo", path=path)
    assert (r.returncode, r.stdout) == (0, "remove echo\n")
    assert modprobe(mp, "remove", "echo", path=path).returncode == 0
    assert "echo" not in loaded_modules(mp)
    r = modprobe(mp, "remove", "echo", path=path)
    assert (r.returncode, r.stderr) == (1, "flux-modprobe: module echo is not loaded\n")
    r = modprobe(mp, "load", "broken", path=path)
    assert (r.returncode, r.stderr) == (1, "broken: /nonexistent/broken.so: "
                                           "No such file or directory\n")
    r = modprobe(mp, "load", "nosuch", path=path)
    assert (r.returncode, r.stderr) == (1, "flux-modprobe: no such task or module nosuch\n")


def test_remove_takes_what_only_it_required(tmp_path):
    """In a bare instance: load resource brings the KVS; removing it removes
    them all again, newest first."""
    script = ("flux modprobe load resource && flux module list | tail -n +2 | cut -d' ' -f1"
              " && flux modprobe remove --dry-run resource && flux modprobe remove resource"
              " && flux module list | tail -n +2 | wc -l")
    r = flux("start", "-Sbroker.rc1_path=", "-Sbroker.rc3_path=", "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [
        "content", "content-sqlite", "kvs", "resource",
        "remove", "resource", "remove", "kvs", "remove", "content-sqlite", "remove", "content",
        "0"]


def show(inst, *args, path=None):
    r = modprobe(inst, "show", *args, path=path)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_show_alternatives_and_updates(mp, tmp_path):
    assert show(mp, "kvs") == {
        "name": "kvs", "module": "kvs", "args": [], "ranks": "all", "provides": [],
        "requires": ["content"], "needs": [], "before": [], "after": ["content", "content-backing"],
        "needs-attrs": [], "needs-config": [], "needs-env": [], "priority": 100,
        "disabled": False, "exec": False}
    assert show(mp, "sched")["name"] == "sched-graph"  # priority 60 > sched-simple's 50
    path = drop_in(tmp_path, ECHO_TOML)
    assert show(mp, "sched", path=path)["name"] == "other-sched"  # priority 100 > 60
    assert show(mp, "-S", "sched=sched-simple", "feasibility", path=path)["name"] == "sched-simple"
    assert show(mp, "-D", "other-sched", "sched", path=path)["name"] == "sched-graph"
    write(tmp_path / "modprobe.d" / "zz.toml", """
        sched-simple.ranks = "0-1"
        sched-simple.args = ["queue-depth=8"]
        alternatives.sched = "sched-simple"
    """)
    got = show(mp, "feasibility", path=path)
    assert [got["name"], got["ranks"], got["args"]] == ["sched-simple", "0-1", ["queue-depth=8"]]
    # The broker config's [modules] table has the last word.
    r = mp.run("config", "load", input='[modules]\nalternatives.sched = "other-sched"\n'
                                        'other-sched.args = ["x"]\n')
    assert r.returncode == 0, r.stderr
    try:
        assert show(mp, "sched", path=path)["args"] == ["x"]
    finally:
        assert mp.run("config", "load", input="").returncode == 0
    for args, message in [
        (["-S", "sched", "sched"], "--set-alternative: invalid value 'sched'"),
        (["-S", "sched=foo", "sched"], "no module foo provides sched"),
        (["-D", "foo", "sched"], "no such module or task 'foo'"),
        (["nosuch"], "no such task or module nosuch"),
    ]:
        r = modprobe(mp, "show", *args)
        assert (r.returncode, r.stderr) == (1, f"flux-modprobe: {message}\n")


def test_list_dependencies(mp):
    r = modprobe(mp, "list-dependencies", "sched")
    assert r.stdout.splitlines() == [
        "sched (sched-graph)",
        "├── job-manager",
        "│   └── kvs",
        "│       └── content",
        "│           └── content-backing (content-sqlite)",
        "└── resource",
    ]
    r = modprobe(mp, "list-dependencies", "--full", "job-exec")
    assert r.stdout.splitlines() == [
        "job-exec",
        "├── job-manager",
        "│   └── kvs",
        "│       └── content",
        "│           └── content-backing (content-sqlite)",
        "└── resource",
        "    └── kvs",
        "        └── content",
        "            └── content-backing (content-sqlite)",
    ]
    r = modprobe(mp, "list-dependencies", "nosuch")
    assert (r.returncode, r.stderr) == (1, "flux-modprobe: no such task or module nosuch\n")


@pytest.mark.parametrize("toml, message", [
    ('[[modules]]\nname = "a"\nbadkey = 1\n', "invalid modules entry: a: invalid config key badkey"),
    ('[[modules]]\nranks = "0"\n', "invalid modules entry: Missing required config key 'name'"),
    ('nosuch.ranks = "0"\n', "no such task or module nosuch"),
    ('[[modules]]\nname = "a"\nranks = ">x"\n', "invalid modules entry: ranks: invalid rank "
                                                "condition: >x"),
])
def test_bad_toml_is_reported(mp, tmp_path, toml, message):
    path = drop_in(tmp_path, toml)
    r = modprobe(mp, "show", "kvs", path=path)
    assert (r.returncode, r.stderr) == (
        1, f"flux-modprobe: {tmp_path}/modprobe.d/test.toml: {message}\n")


def test_rc1_search_path_and_drop_ins(mp, tmp_path):
    """FLUX_MODPROBE_PATH replaces CONFDIR/modprobe as the drop-in search
    path, FLUX_MODPROBE_PATH_APPEND extends it; modprobe.toml and rc1.py
    are always read."""
    path = drop_in(tmp_path / "d1", ECHO_TOML)
    write(tmp_path / "d2" / "rc1.d" / "echo.py", """
        def setup(context):
            context.setopt("echo", "c")
            context.load_modules(["echo"])
    """)
    r = modprobe(mp, "rc1", "--dry-run", "-v", path=f"{path}::{path}",
                 FLUX_MODPROBE_PATH_APPEND=str(tmp_path / "d2"))
    assert r.returncode == 0, r.stderr
    assert [x for x in r.stderr.splitlines() if x.startswith("checking")] == [
        f"checking {CONFDIR}/modprobe.toml",
        f"checking {path}/modprobe.d/*.toml",
        f"checking {tmp_path}/d2/modprobe.d/*.toml",
        f"checking {CONFDIR}/rc1.py",
        f"checking {path}/rc1.d/*.py",
        f"checking {tmp_path}/d2/rc1.d/*.py",
    ]
    # rc1.py's modules and tasks in etc/rc1's order; other-sched (priority
    # 100) is now the sched; echo's arguments: its own then setopt's.
    assert r.stdout.splitlines() == [
        "load content", "load content-sqlite", "load kvs", "run post-start-event",
        "run check-clean-shutdown", "load kvs-watch", "load heartbeat", "load resource",
        "load job-manager", "load job-info", "load job-list", "load job-ingest", "load job-exec",
        "load other-sched", "load echo a b c"]


def test_rc1_and_rc3_on_two_ranks(tmp_path):
    """`flux modprobe rc1`/`rc3` as the rc scripts: each rank gets etc/rc1's
    modules in its order, jobs run, and rc3 removes them newest first (each
    rank's rc3 ends before its parent's starts). Tasks run on their ranks."""
    rc = write(tmp_path / "ranks.py", """
        from flux.modprobe import task

        @task("everywhere")
        def everywhere(context):
            print("everywhere", context.rank)

        @task("rank0", ranks="0", after=["everywhere"])
        def rank0(context):
            print("rank0")

        @task("not0", ranks=">0", after=["everywhere"])
        def not0(context):
            print("not0")

        @task("below1", ranks="<1", after=["not0", "rank0"])
        def below1(context):
            print("below1")
    """)
    script = (f"flux module list | tail -n +2 | cut -d' ' -f1 && echo -- && "
              f"flux exec -r 1 flux module list | tail -n +2 | cut -d' ' -f1 && echo -- && "
              f"flux run true && flux modprobe run {rc} && flux exec -r 1 flux modprobe run {rc}")
    r = flux("start", "--test-size=2", "-Sbroker.rc1_path=flux modprobe rc1",
             "-Sbroker.rc3_path=flux modprobe rc3 -v", "sh", "-c", script, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == (RC1_RANK0 + ["--"] + RC1_OTHERS + ["--"]
                                + ["everywhere", "0", "rank0", "below1", "everywhere", "1",
                                   "not0"])
    removed = [x.split()[1] for x in r.stderr.splitlines() if x.startswith("removed ")]
    assert removed == RC1_OTHERS[::-1] + RC1_RANK0[::-1]
    ran = [x.split()[1] for x in r.stderr.splitlines() if x.startswith("start ")]
    assert ran == ["post-finish-event", "content-flush"]
