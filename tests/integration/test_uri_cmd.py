"""flux uri (flux-uri(1)): a job's instance by its id, local/remote forms,
URIs passed through, and errors, against a real nested instance."""

from conftest import wait_until_running


def test_flux_uri_resolves_a_running_instance_job(instance, tmp_path):
    wait_until_running(instance)
    go = tmp_path / "go"
    jobid = instance.run("submit", "flux", "start", "sh", "-c",
                         f"until [ -e {go} ]; do sleep 0.05; done").stdout.strip()
    try:
        remote = instance.run("uri", "--wait", jobid)
        assert remote.returncode == 0, remote.stderr
        assert remote.stdout.startswith("ssh://") and remote.stdout.strip().endswith("/local-0")
        local = instance.run("uri", "--local", f"jobid:{jobid}").stdout.strip()
        assert local == "local:///" + remote.stdout.strip().split("/", 3)[3]
        env = instance.env()
        env["FLUX_URI"] = local
        level = instance.run("getattr", "instance-level", env=env)
        assert level.stdout.strip() == "1"
        same = instance.run("uri", "--local", remote.stdout.strip()).stdout.strip()
        assert same == local
    finally:
        go.touch()
    assert instance.run("job", "wait-event", "-t", "30", jobid, "clean").returncode == 0
    gone = instance.run("uri", jobid)
    assert gone.returncode == 1 and "is not running" in gone.stderr


def test_flux_uri_passes_uris_through_and_refuses_bad_input(instance):
    r = instance.run("uri", "local:///tmp/some/sock")
    assert r.stdout == "local:///tmp/some/sock\n"
    r = instance.run("uri", "bogus:1")
    assert r.returncode == 1 and r.stderr.startswith("flux-uri: ERROR: ")
    r = instance.run("uri", "--frob", "x")
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr
    r = instance.run("uri", "--help")
    assert r.returncode == 0 and "jobid" in r.stdout
