"""flux bulksubmit: inputs from stdin and ::: lists, replacement fields in
the command and the options, --dry-run text as flux-core's, and real jobs
submitted to a real instance."""

import pytest

from conftest import wait_until_running

SIM = "--setattr=system.exec.test.run_duration=0.01s"


@pytest.fixture
def inst(instance):
    wait_until_running(instance)
    return instance


def bulk(inst, *args, input=None, rc=0):
    r = inst.run("bulksubmit", *args, input=input)
    assert r.returncode == rc, f"flux bulksubmit {args}: rc={r.returncode} {r.stderr}"
    return r


def lines(r):
    return r.stdout.splitlines()


def test_dry_run_default_command_and_stdin(inst):
    assert lines(bulk(inst, "--dry-run", ":::", "foo", "bar")) == [
        "bulksubmit: submit foo",
        "bulksubmit: submit bar",
    ]
    r = bulk(inst, "--dry-run", "echo", "{}", input="1\n2\n\n3\n")
    assert lines(r) == [f"bulksubmit: submit echo {i}" for i in (1, 2, 3)]


def test_replacement_fields(inst):
    r = bulk(inst, "--sep=None", "--dry-run", "{seq}", "{seq1}", "{}", "{.%}", "{./}",
             "{.//}", "{./%}", input="/a/b/c/d.txt /a/b/c/d c.txt\n")
    assert lines(r) == [
        "bulksubmit: submit 0 1 /a/b/c/d.txt /a/b/c/d d.txt /a/b/c d",
        "bulksubmit: submit 1 2 /a/b/c/d /a/b/c/d d /a/b/c d",
        "bulksubmit: submit 2 3 c.txt c c.txt  c",
    ]


def test_options_are_templates_too(inst):
    r = bulk(inst, "--dry-run", "-n", "{}", "-N", "{}", "--cc=1-2", "hostname", ":::", "1", "2")
    assert lines(r) == [
        "bulksubmit: submit -n1 -N1 --cc=1-2 hostname",
        "bulksubmit: submit -n2 -N2 --cc=1-2 hostname",
    ]


def test_combined_and_linked_lists(inst, tmp_path):
    r = bulk(inst, "--dry-run", "sleep", "{0}.{1}", ":::", "0", "1", ":::", "0", "5")
    assert lines(r) == [f"bulksubmit: submit sleep {a}.{b}" for a in "01" for b in "05"]
    r = bulk(inst, "--dry-run", "{0}:{1}", ":::", "0", "1", "2", ":::+", "a", "b")
    assert lines(r) == ["bulksubmit: submit 0:a", "bulksubmit: submit 1:b",
                        "bulksubmit: submit 2:a"]
    f = tmp_path / "inputs"
    f.write_text("x\ny\n")
    r = bulk(inst, "--dry-run", "echo", "{}", "::::", str(f))
    assert lines(r) == ["bulksubmit: submit echo x", "bulksubmit: submit echo y"]


def test_errors(inst):
    r = bulk(inst, "--dry-run", "echo", "{1}", ":::", "a", rc=1)
    assert "Invalid replacement string in command: '{1}'" in r.stderr
    r = bulk(inst, "--dry-run", "--job-name={f}", "echo", ":::", "a", rc=1)
    assert "Replacement key 'f' not found in '--job-name={f}'" in r.stderr
    r = bulk(inst, "--dry-run", "--bogus", "echo", ":::", "a", rc=2)
    assert "unrecognized arguments: --bogus" in r.stderr


def test_submits_real_jobs(inst):
    r = bulk(inst, SIM, "--wait", "-n", "{}", "true", ":::", "1", "2")
    ids = lines(r)
    assert len(ids) == 2
    for jobid, n in zip(ids, (1, 2)):
        out = inst.run("jobs", "-no", "{ntasks} {result}", jobid).stdout.split()
        assert out == [str(n), "COMPLETED"]
    r = bulk(inst, "--watch", "echo", "{}", ":::", "foo", "bar")
    assert sorted(lines(r)[2:]) == ["bar", "foo"]  # ids, then each job's output


def test_list_options_shuffle_and_error_names(inst):
    r = bulk(inst, "--dry-run", "--env=-*", "--env=SEQ={seq}", "{}", ":::", "a", "b")
    assert lines(r) == ["bulksubmit: submit --env=['-*', 'SEQ=0'] a",
                        "bulksubmit: submit --env=['-*', 'SEQ=1'] b"]
    r = bulk(inst, "--dry-run", "--shuffle", "{seq}:{}", ":::", *map(str, range(1, 9)))
    got = lines(r)
    assert sorted(got) == [f"bulksubmit: submit {i}:{i + 1}" for i in range(8)]  # seq kept
    r = bulk(inst, "-n", "{1}", "{}", ":::", "0", "1", rc=1)
    assert "Invalid replacement index in -n{1}'" in r.stderr
    r = bulk(inst, "-n", "{f}", "true", ":::", "0", rc=1)
    assert "Replacement key 'f' not found in '-n{f}'" in r.stderr


def test_python_commands_say_error(inst):
    r = inst.run("submit", "--setattr", "^user.foo=/nonexistent.json", "true")
    assert r.returncode == 1 and r.stderr.startswith("flux-submit: ERROR: ")
    r = inst.run("run", "-v", SIM, "true")
    assert r.returncode == 0 and r.stderr.startswith("jobid: ")
