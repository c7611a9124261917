"""Instances as jobs (flux batch, flux alloc, flux proxy): real nested
brokers started by real job shells on a share of a test instance's
(configured) resources, checked level by level."""

import json
import os
import pathlib
import signal
import time

from conftest import FLUX, clean_env, flux

# Two nodes of four cores each (not verified against this machine).
R = {
    "version": 1,
    "execution": {
        "R_lite": [{"rank": "0-1", "children": {"core": "0-3"}}],
        "nodelist": ["node[0-1]"],
        "starttime": 0,
        "expiration": 0,
    },
}


def config(d, cores="0-3", nnodes=2):
    r = json.loads(json.dumps(R))
    ranks = "0" if nnodes == 1 else f"0-{nnodes - 1}"
    r["execution"]["R_lite"][0] = {"rank": ranks, "children": {"core": cores}}
    r["execution"]["nodelist"] = ["node0" if nnodes == 1 else f"node[{ranks}]"]
    (d / "R.json").write_text(json.dumps(r))
    (d / "conf.toml").write_text(f'[resource]\npath = "{d / "R.json"}"\nnoverify = true\n')
    return f"--config-path={d / 'conf.toml'}"


def script(d, name, text):
    p = d / name
    p.write_text("#!/bin/sh\n" + text)
    p.chmod(0o755)
    return p


def start(d, driver, size=2, timeout=120):
    """flux start a test instance of SIZE brokers on R running DRIVER."""
    r = flux("start", f"--test-size={size}", config(d, nnodes=size), "sh", str(driver),
             timeout=timeout, cwd=d)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_three_levels_each_see_their_share_and_give_it_back(tmp_path):
    d = tmp_path
    listing = "flux resource list -s {} -no '{{nnodes}} {{ncores}}'"
    script(d, "level2.sh", f"""
{listing.format('all')} > {d}/level2
flux getattr instance-level > {d}/level2.level
flux run -n2 sh -c 'echo $FLUX_JOB_SIZE' > {d}/level3
""")
    script(d, "level1.sh", f"""
{listing.format('all')} > {d}/level1
flux getattr instance-level > {d}/level1.level
flux getattr jobid > {d}/level1.jobid
flux alloc -N1 -n2 sh {d}/level2.sh
{listing.format('free')} > {d}/level1.after
""")
    driver = script(d, "driver.sh", f"""
set -e
{listing.format('all')} > {d}/level0
id=$(flux batch -N2 -n4 {d}/level1.sh)
echo $id > {d}/level1.id
flux job wait-event -t 90 $id clean >/dev/null
{listing.format('free')} > {d}/level0.after
""")
    start(d, driver)
    read = lambda name: (d / name).read_text().strip()
    assert read("level0") == "2 8"
    assert read("level1") == "2 4"  # -N2 -n4: two cores on each node
    assert read("level1.level") == "1"
    assert read("level1.jobid") == read("level1.id")
    assert read("level2") == "1 2"
    assert read("level2.level") == "2"
    assert read("level3").split() == ["2", "2"]
    assert read("level1.after") == "2 4"  # the allocation came back
    assert read("level0.after") == "2 8"
    # The batch job's output went to flux-{{id}}.out in its cwd.
    assert (d / f"flux-{read('level1.id')}.out").exists()


def test_cancel_of_a_batch_job_kills_every_descendant(tmp_path):
    d = tmp_path
    script(d, "level2.sh", f"""
flux getattr broker.pid > {d}/pid.broker2
flux run sh -c 'echo $$ > {d}/pid.task2; exec sleep 300'
""")
    script(d, "level1.sh", f"""
flux getattr broker.pid > {d}/pid.broker1
flux submit sh -c 'echo $$ > {d}/pid.task1; exec sleep 300' >/dev/null
flux alloc -n1 sh {d}/level2.sh
""")
    names = ["pid.broker1", "pid.broker2", "pid.task1", "pid.task2"]
    wait_all = " && ".join(f"[ -s {d}/{n} ]" for n in names)
    driver = script(d, "driver.sh", f"""
id=$(flux batch -N1 -n4 {d}/level1.sh)
i=0
until {wait_all}; do
  i=$((i+1)); [ $i -gt 600 ] && {{ echo pids never appeared; exit 1; }}
  sleep 0.05
done
flux cancel $id
flux job wait-event -t 60 $id clean >/dev/null
""")
    start(d, driver)
    pids = [int((d / n).read_text()) for n in names]
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [p for p in pids if pid_alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert not alive, f"still running after cancel: {alive}"


def test_proxy_uri_and_ssh_connector(tmp_path):
    d = tmp_path
    fake_ssh = script(d, "fakessh", 'while [ "$1" = -p ]; do shift 2; done\nshift\nexec "$@"\n')
    driver = script(d, "driver.sh", f"""
set -e
id=$(flux alloc --bg -N1)
flux proxy $id flux getattr instance-level > {d}/level
flux proxy $id sh -c 'flux run -n1 echo hello; echo $FLUX_PROXY_REMOTE' > {d}/run
flux uri --remote $id > {d}/remote
FLUX_SSH={fake_ssh} flux proxy $(cat {d}/remote) flux getattr jobid > {d}/viassh
flux proxy $id flux shutdown 2>/dev/null || true
flux job wait-event -t 60 $id clean >/dev/null
flux proxy $id true 2> {d}/gone && exit 1
echo $id > {d}/id
""")
    start(d, driver)
    read = lambda name: (d / name).read_text().strip()
    assert read("level") == "1"
    out = read("run").splitlines()
    assert out[0] == "hello" and out[1].startswith("local://")
    assert read("remote").startswith("ssh://")
    assert read("viassh") == read("id")
    assert "is not running" in read("gone")


def test_jobs_recursive_and_pstree_through_levels(tmp_path):
    d = tmp_path
    driver = script(d, "driver.sh", f"""
set -e
id=$(flux alloc --bg -N1 --job-name=outer)
inner=$(flux proxy $id flux alloc --bg -n2 --job-name=inner)
flux proxy $id flux submit --job-name=mid sleep 300 >/dev/null
flux proxy $id/$inner flux submit --job-name=leaf sleep 300 >/dev/null
flux proxy $id/$inner flux submit --job-name=leaf sleep 300 >/dev/null
for j in $(flux proxy $id/$inner flux jobs -no '{{id}}'); do
  flux proxy $id/$inner flux job wait-event -t 30 $j start >/dev/null
done
for j in $(flux proxy $id flux jobs -no '{{id}}'); do
  flux proxy $id flux job wait-event -t 30 $j start >/dev/null
done
echo $id > {d}/id; echo $inner > {d}/inner
flux jobs -R -no '{{name}}' > {d}/jobsR
flux jobs -R -L1 -no '{{name}}' > {d}/jobsL1
flux pstree > {d}/pstree
flux pstree -L1 -p > {d}/pstreeL1
flux pstree -d stats > {d}/pstree_stats
flux pstree $id > {d}/pstree_id
flux jobs -R --stats -no '{{name}}' > {d}/jobs_stats
flux jobs -R --json > {d}/jobs_json
flux jobs --color=always -no '{{name}}' > {d}/jobs_color
flux proxy $id flux pstree > {d}/pstree_inside
flux pstree 123456789 2> {d}/pstree_unknown
COLUMNS=40 flux pstree -x --ascii > {d}/pstree_x
flux top --test-exit $id > {d}/top
flux jobs -R -no '{{name}} {{instance.stats}} {{instance.stats.total}} {{instance.utilization!P}} {{instance.resources.all.ncores}} {{instance.resources.free.ncores}}' > {d}/instance
flux cancel $id
flux job wait-event -t 60 $id clean >/dev/null
""")
    start(d, driver, size=1)
    read = lambda name: (d / name).read_text()
    outer, inner = read("id").strip(), read("inner").strip()
    assert read("jobsR").split("\n") == [
        "outer", "", f"{outer}:", "mid", "inner", "", f"{outer}/{inner}:", "leaf", "leaf", ""]
    assert read("jobsL1").split("\n") == ["outer", "", f"{outer}:", "mid", "inner", ""]
    assert read("pstree").splitlines() == [
        ".", "└── outer", "    ├── mid", "    └── inner", "        └── 2*[leaf]"]
    assert read("pstreeL1").splitlines() == [
        ". .", f"└── {outer} outer", "    ├── mid", f"    └── {inner} inner"]  # the root: id "." too
    # -R --stats: each instance's counts under its path; --json: an
    # instance job's own jobs in "jobs", its URI in "uri"; running
    # instances are blue.
    st = read("jobs_stats").splitlines()
    assert st[0].endswith("inactive purged") and st[3] == f"{outer}:"
    assert st[4] == "2 running, 0 completed, 0 failed, 0 pending"
    js = json.loads(read("jobs_json"))["jobs"][0]
    assert js["name"] == "outer" and js["uri"].startswith(("ssh://", "local://"))
    assert sorted(j["name"] for j in js["jobs"]) == ["inner", "mid"]
    assert read("jobs_color") == "\033[01;34mouter\033[0;0m\n"
    # One job (and what runs in it), without the root; inside a job the
    # root is that job; an unknown id is reported (and the exit code is 0).
    assert read("pstree_id").splitlines() == [
        "outer", "├── mid", "└── inner", "    └── 2*[leaf]"]
    assert read("pstree_inside") == read("pstree_id")
    assert read("pstree_unknown") == "flux-pstree: ERROR: JobID 123456789 unknown\n"
    # Details before the tree (flux-core's -d stats): the root left out.
    stats = read("pstree_stats").splitlines()
    assert stats[0].split() == ["JOBID", "STATS", "RUNTIME"]
    rows = [line.split() for line in stats[1:]]
    assert [r[0] for r in rows[:3]] == [outer, rows[1][0], inner]
    assert rows[0][1:5] == rows[2][1:5] == ["PD:0", "R:2", "CD:0", "F:0"]
    assert rows[0][-1] == "outer" and rows[1][-2:] == ["├──", "mid"]
    assert rows[2][-2:] == ["└──", "inner"] and [r[-1] for r in rows[3:]] == ["leaf", "leaf"]
    x = read("pstree_x").splitlines()
    assert x[0].split() == ["JOBID", "USER", "ST", "NTASKS", "NNODES", "RUNTIME"]
    assert all(len(line) <= 40 for line in x[1:]) and x[1].endswith("+")  # cut at COLUMNS
    top = read("top").splitlines()
    assert top[0].startswith(outer)
    assert any(line.strip().startswith("cores [") for line in top)
    assert any("2 running" in line and "depth: 1" in line for line in top)
    names = [line.split()[-1] for line in top[1:] if line.strip().startswith("ƒ")]
    assert sorted(names) == ["inner", "mid"]
    # Each instance job's own counts and use of its cores (instance.*);
    # plain jobs have none. outer: 4 cores, mid 1 + inner 2 in use.
    assert [line.split() for line in read("instance").splitlines() if line] == [
        ["outer", "PD:0", "R:2", "CD:0", "F:0", "2", "75%", "4", "1"],
        [f"{outer}:"], ["mid"],
        ["inner", "PD:0", "R:2", "CD:0", "F:0", "2", "100%", "2", "0"],
        [f"{outer}/{inner}:"], ["leaf"], ["leaf"]]


def test_batch_directives_wrap_stdin_and_conf(tmp_path):
    d = tmp_path
    (d / "dir.sh").write_text(
        "#!/bin/sh\n# flux: -N1\n# flux: --job-name=dirjob  # a comment\n"
        "# flux: --setattr=user.note='''it's \"x\"'''\n"
        f"flux config get resource.noverify > {d}/conf\n")
    driver = script(d, "driver.sh", f"""
set -e
a=$(flux batch --conf=resource.noverify=true {d}/dir.sh)
b=$(flux batch -n1 --wrap echo wrapped)
c=$(printf '#!/bin/sh\\necho from stdin\\n' | flux batch -n1 --output={d}/c.out)
for id in $a $b $c; do flux job wait-event -t 60 $id clean >/dev/null; done
flux jobs -no '{{name}}' $a $b $c > {d}/names
flux job info $a jobspec > {d}/jobspec
cat flux-$b.out > {d}/b.out
""")
    start(d, driver)
    read = lambda name: (d / name).read_text().strip()
    assert read("conf") == "true"
    assert read("names").split() == ["dirjob", "echo", "batch"]
    assert read("b.out") == "wrapped"
    assert read("c.out") == "from stdin"
    js = json.loads(read("jobspec"))
    assert js["attributes"]["user"]["note"] == "it's \"x\""
    cmd = js["tasks"][0]["command"]
    assert cmd[:2] == ["flux", "broker"] and cmd[-1] == "{{tmpdir}}/script"
    assert "-c{{tmpdir}}/conf.json" in cmd
    opts = js["attributes"]["system"]["shell"]["options"]
    assert opts["per-resource"] == {"type": "node"}
    assert js["attributes"]["system"]["files"]["script"]["mode"] == 0o100700


def test_batch_and_alloc_errors(tmp_path):
    d = tmp_path
    (d / "noshebang.sh").write_text("echo hi\n")
    (d / "orphan.sh").write_text("#!/bin/sh\n# flux: -N1\necho hi\n# flux: -n2\n")
    (d / "unknown.sh").write_text("#!/bin/sh\n# flux: frob\n")
    (d / "badarg.sh").write_text("#!/bin/sh\n# flux: -n1\n# flux: --bad-arg\n")
    (d / "bad.toml").write_text("[resource]\nnoverify = foo\n")
    env = clean_env(XDG_CONFIG_HOME=d / "xdg", XDG_CONFIG_DIRS=d / "none")
    cases = [
        (["batch", "--dry-run", d / "badarg.sh"], "argument parsing failed at "),
        (["batch", "-n1", "--dry-run", f"--conf={d / 'bad.toml'}", "--wrap", "true"],
         "--conf: parse error: "),
        (["batch", "-n1", "--dry-run", "--conf=noexist", "--wrap", "true"],
         "--conf: named config 'noexist' not found"),
        (["batch", "-n1", "--dry-run", "--conf=[a\nb=", "--wrap", "true"],
         "--conf: failed to parse multiline as TOML or JSON"),
        (["batch", "-n1", d / "noshebang.sh"], "does not appear to start with '#!'"),
        (["batch", "-n1", d / "orphan.sh"], "line 4: orphan 'flux:' detected"),
        (["batch", "-n1", d / "unknown.sh"], "line 2: Unknown directive:  frob"),
        (["alloc", "true"], "Number of slots to allocate must be specified"),
        (["batch", "--frobnicate", "x"], "--frobnicate"),
    ]
    for args, text in cases:
        r = flux(*args, env={**env, "FLUX_URI": "local:///nonexistent"})
        assert r.returncode != 0, args
        assert text in r.stderr, (args, r.stderr)


def test_batch_conf_by_name_and_output_to_kvs(tmp_path):
    d = tmp_path
    (d / "xdg" / "flux" / "config").mkdir(parents=True)
    (d / "xdg" / "flux" / "config" / "mine.toml").write_text("[resource]\nnoverify = true\n")
    env = clean_env(XDG_CONFIG_HOME=d / "xdg")
    r = flux("batch", "-n1", "--dry-run", "--conf=mine", "--conf={\"x\": 1}\n",
             "--output=kvs", "--wrap", "true", env=env)
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    sys = js["attributes"]["system"]
    assert sys["files"]["conf.json"]["data"] == {"resource": {"noverify": True}, "x": 1}
    assert "output" not in sys["shell"]["options"]  # kvs: no file


def test_add_file_reaches_the_job_tmpdir(tmp_path):
    d = tmp_path
    (d / "data.bin").write_bytes(b"\xff\x00\x01")
    script(d, "dir.sh", "# flux: -n1\n# flux: --add-file=x.sh:0755='''\n"
           "# flux: #!/bin/sh\n# flux: echo from x\n# flux: '''\n"
           # The script is {{tmpdir}}/script: the files are beside it.
           f"cd $(dirname $0) && cmp {d}/data.bin data.bin && ./x.sh > {d}/x.out\n")
    driver = script(d, "driver.sh", f"""
set -e
id=$(flux batch --add-file={d}/data.bin {d}/dir.sh)
flux job wait-event -t 60 $id clean >/dev/null
""")
    start(d, driver, size=1)
    assert (d / "x.out").read_text() == "from x\n"
    r = flux("run", "--dry-run", "--add-file=a\\nb", "true")
    assert r.returncode == 1 and "--add-file: file name missing" in r.stderr


def test_alloc_passes_stdin_and_exit_code(tmp_path):
    d = tmp_path
    driver = script(d, "driver.sh", f"""
echo typed | flux alloc -n1 sh -c 'read x; echo got $x' > {d}/out
flux alloc -n1 sh -c 'exit 3'
echo $? > {d}/rc
""")
    start(d, driver, size=1)
    assert (d / "out").read_text() == "got typed\n"
    assert (d / "rc").read_text() == "3\n"


def test_nested_jobs_end_before_the_instance_expires(tmp_path):
    d = tmp_path
    script(d, "inner.sh", f"""
id=$(flux submit -t 1h sleep 300)
flux job wait-event -t 30 $id start >/dev/null
flux job info $id R > {d}/inner.R
flux cancel $id
""")
    driver = script(d, "driver.sh", f"""
id=$(flux batch -n1 -t 10m {d}/inner.sh)
flux job wait-event -t 60 $id clean >/dev/null
flux job info $id R > {d}/outer.R
""")
    start(d, driver, size=1)
    inner = json.loads((d / "inner.R").read_text())["execution"]["expiration"]
    outer = json.loads((d / "outer.R").read_text())["execution"]["expiration"]
    assert 0 < inner <= outer


def test_hundred_tiny_batch_jobs_complete(tmp_path):
    d = tmp_path
    driver = script(d, "driver.sh", f"""
set -e
for i in $(seq 100); do flux batch -n1 --quiet --wrap true; done
flux queue drain --timeout=240
flux jobs -a -no '{{status}}' | sort | uniq -c > {d}/status
""")
    r = flux("start", "--test-size=1", config(d, cores="0-31", nnodes=1), "sh", str(driver),
             timeout=280, cwd=d)
    assert r.returncode == 0, r.stderr
    assert (d / "status").read_text().split() == ["100", "COMPLETED"]


def test_hydra_launches_one_instance_of_four_brokers(tmp_path):
    import shutil
    import pytest
    hydra = shutil.which("mpiexec.hydra")
    if not hydra:
        pytest.skip("mpiexec.hydra (Debian's mpich) is not installed")
    import subprocess
    r = subprocess.run([hydra, "-launcher", "fork", "-n", "4", FLUX, "start", "sh", "-c",
                        "flux getattr size; flux run -N4 hostname | wc -l;"
                        " flux resource list -s all -no '{nnodes}'"],
                       env=clean_env(), capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # One instance: rank 0 alone runs the initial program.
    assert r.stdout.split() == ["4", "4", "4"]


def test_several_tasks_without_pmi_is_a_clear_error(tmp_path):
    # As under `srun -n4` without --mpi=pmi2: not four singleton instances.
    for var in ("SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE"):
        env = clean_env(**{var: 4})
        env.pop("PMI_FD", None)
        r = flux("start", "true", env=env, cwd=tmp_path)
        assert r.returncode != 0
        assert f"started as one of 4 tasks ({var}) but no PMI was offered" in r.stderr


def test_alloc_after_dashdash_and_shutdown_of_a_job_instance(tmp_path):
    # "--" stays in the broker's command line (as flux-core's jobspec has
    # it); flux shutdown JOBID stops that instance, which gives its
    # resources back.
    d = tmp_path
    driver = script(d, "driver.sh", f"""
set -e
flux alloc -N1 -- sh -c 'flux getattr instance-level' > {d}/level
flux alloc -n1 --dry-run -- myapp --n=2 > {d}/dry
id=$(flux alloc --bg -N1)
flux shutdown -q $id
flux job wait-event -t 30 $id clean > /dev/null
flux job status $id; echo $? > {d}/status
""")
    start(d, driver, size=1)
    assert (d / "level").read_text() == "1\n"
    cmd = json.loads((d / "dry").read_text())["tasks"][0]["command"]
    assert cmd == ["flux", "broker", "--", "myapp", "--n=2"]
    assert (d / "status").read_text() == "0\n"


def test_alloc_bg_failures_and_interrupt(tmp_path):
    # As flux-core's: a broker that fails shows its error (the job's
    # output) and "unexpectedly exited"; Ctrl-C while waiting cancels.
    d = tmp_path
    driver = script(d, "driver.sh", f"""
flux alloc -n1 -v --broker-opts=--xx --bg > {d}/bad.out 2>&1; echo $? > {d}/bad.rc
flux queue stop
flux alloc --bg -n1 -v > {d}/int.log 2>&1 &
pid=$!
n=0
until grep -q waiting {d}/int.log; do n=$((n+1)); test $n -lt 600 || exit 9; sleep 0.05; done
kill -INT $pid
wait $pid; echo $? > {d}/int.rc
flux jobs -a -no '{{result}}' > {d}/int.result
""")
    start(d, driver, size=1)
    bad = (d / "bad.out").read_text()
    assert (d / "bad.rc").read_text() == "1\n"
    assert "unrecognized option '--xx'" in bad and "unexpectedly exited" in bad
    assert "Interrupt: canceling job" in (d / "int.log").read_text()
    assert (d / "int.rc").read_text() == "1\n"
    assert (d / "int.result").read_text().split()[0] == "CANCELED"
