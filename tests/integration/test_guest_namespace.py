"""A job's guest namespace, "job-<id>": its tasks' FLUX_KVS_NAMESPACE,
served by the kvs as the job's job.<id>.guest directory; a nested
instance's parent-kvs-namespace and `flux --parent`."""

import json
import subprocess
import time

from conftest import FLUX, wait_until_running


def kvs_dir(instance, jobid):
    return instance.run("job", "id", "--to=kvs", jobid).stdout.strip()


def test_tasks_write_their_guest_namespace(instance):
    wait_until_running(instance)
    r = instance.run("submit", "--wait", "sh", "-c",
                     'echo "$FLUX_KVS_NAMESPACE"; flux kvs put answer=42 && flux kvs get answer'
                     ' && flux kvs eventlog get output | head -1 | cut -d" " -f2')
    assert r.returncode == 0, r.stderr
    jobid = r.stdout.strip()
    out = instance.run("job", "attach", jobid)
    dec = instance.run("job", "id", "--to=dec", jobid).stdout.strip()
    # The job's own output eventlog, seen from inside as "output".
    assert out.stdout.split() == [f"job-{dec}", "42", "header"], out.stderr
    # ... and kept by the instance under the job's directory.
    r = instance.run("kvs", "get", f"{kvs_dir(instance, jobid)}.guest.answer")
    assert r.stdout.strip() == "42", r.stderr
    r = instance.run("kvs", "get", "-N", f"job-{dec}", "answer")
    assert r.stdout.strip() == "42", r.stderr


def test_guest_view_watch_link_and_errors(instance):
    wait_until_running(instance)
    r = instance.run("submit", "sleep", "30")
    jobid = r.stdout.strip()
    dec = instance.run("job", "id", "--to=dec", jobid).stdout.strip()
    ns = f"job-{dec}"
    key = kvs_dir(instance, jobid)
    # A watch through the view sees a write made under the job's directory.
    w = instance.popen("kvs", "get", "--watch", "--waitcreate", "--count=1", "-N", ns, "later")
    try:
        # wait until the watch is registered (kvs-watch counts it)
        deadline = time.monotonic() + 30
        while json.loads(instance.run("module", "stats", "kvs-watch").stdout)["watchers"] < 1:
            assert time.monotonic() < deadline, "the watch never registered"
        assert instance.run("kvs", "put", f"{key}.guest.later=yes").returncode == 0
        out, err = w.communicate(timeout=30)
    finally:
        w.kill()
    assert out.strip() == "yes", err
    # A link without a namespace stays inside the view.
    assert instance.run("kvs", "put", "-N", ns, "a.b=inside").returncode == 0
    assert instance.run("kvs", "link", "-N", ns, "a", "l").returncode == 0
    assert instance.run("kvs", "get", "-N", ns, "l.b").stdout.strip() == "inside"
    # Keys cannot climb out of it.
    assert instance.run("kvs", "put", "-N", ns, "..x=1").returncode == 0
    assert instance.run("kvs", "get", f"{key}.guest.x").stdout.strip() == "1"
    # Not a namespace one can create; no view of a job that does not exist.
    r = instance.run("kvs", "namespace", "create", ns)
    assert r.returncode != 0 and "guest namespace" in r.stderr
    r = instance.run("kvs", "get", "-N", "job-12345", "x")
    assert r.returncode != 0 and "does not exist" in r.stderr
    instance.run("cancel", jobid)


def test_nested_instance_knows_its_parent_namespace(instance):
    wait_until_running(instance)
    r = instance.run("run", "flux", "start", "sh", "-c",
                     "flux getattr parent-kvs-namespace; flux --parent kvs put mine=1;"
                     " flux --parent kvs get mine; flux --parent getattr instance-level;"
                     " flux --parent --parent getattr rank", timeout=120)
    assert r.returncode != 0  # the last: the top instance has no parent
    lines = r.stdout.split()
    assert lines[0].startswith("job-") and lines[1:] == ["1", "0"], r.stdout + r.stderr
    assert "this instance has no parent" in r.stderr
    dec = lines[0][4:]
    jobid = instance.run("job", "id", "--to=kvs", dec).stdout.strip()
    assert instance.run("kvs", "get", f"{jobid}.guest.mine").stdout.strip() == "1"
    # A top-level instance has none.
    r = subprocess.run([FLUX, "start", "flux", "getattr", "parent-kvs-namespace"],
                       env=instance.env(), capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
