"""The flux front end: help, version, env, and flux-NAME extensions."""

import os
import stat

from conftest import BUILD, clean_env, flux


def test_help_lists_commands():
    r = flux("--help")
    assert r.returncode == 0
    for name in ("start", "getattr", "ping", "module", "event", "dmesg"):
        assert f"  {name}" in r.stdout


def test_no_command_is_usage_error():
    r = flux()
    assert r.returncode == 1
    assert "Usage: flux" in r.stderr


def test_help_shows_manual_page():
    r = flux("help", "ping")
    assert r.returncode == 0
    assert "flux-ping" in r.stdout
    assert "SYNOPSIS" in r.stdout


def test_help_is_a_formatted_man_page():
    """The Markdown is built into a real page (go-md2man) that man shows:
    no Markdown markup is left, and `man` finds it through flux's MANPATH."""
    page = os.path.join(BUILD, "share", "man", "man1", "flux-run.1")
    assert os.path.exists(page), "go-md2man did not build the manual pages"
    r = flux("help", "run")
    assert r.returncode == 0, r.stderr
    assert "## SYNOPSIS" not in r.stdout and "SYNOPSIS" in r.stdout
    r = flux("env", "man", "-w", "flux-run")
    assert r.returncode == 0 and r.stdout.strip() == page, r.stdout + r.stderr


def test_every_builtin_has_a_manual_page():
    names = [line.split()[0] for line in flux("help").stdout.splitlines() if line.startswith("  ")]
    assert len(names) >= 10
    for name in names:
        r = flux("help", name)
        assert r.returncode == 0, f"no page for {name}: {r.stderr}"


def test_help_unknown_command_fails():
    # As flux-core: man's own exit status and message.
    r = flux("help", "nosuch")
    assert r.returncode != 0
    assert "flux-nosuch" in r.stderr


def test_unknown_command_fails():
    r = flux("nosuchcommand")
    assert r.returncode == 1
    assert "not a flux command" in r.stderr


def test_version_outside_instance():
    r = flux("version")
    assert r.returncode == 0
    assert r.stdout.startswith("commands:")
    assert "broker:" not in r.stdout


def test_version_inside_instance():
    r = flux("start", "flux", "version")
    assert r.returncode == 0
    assert "broker:" in r.stdout
    assert "FLUX_URI:" in r.stdout


def test_env_prints_exports_and_runs_commands():
    r = flux("env")
    assert r.returncode == 0
    assert 'export FLUX_EXEC_PATH="' in r.stdout
    r = flux("env", "sh", "-c", "echo $FLUX_MODULE_PATH")
    assert r.returncode == 0
    assert str(BUILD / "lib" / "flux" / "modules") in r.stdout


def test_external_command_on_exec_path(tmp_path):
    prog = tmp_path / "flux-hello"
    prog.write_text('#!/bin/sh\necho "hello $1 uri=${FLUX_URI:-none}"\n')
    prog.chmod(prog.stat().st_mode | stat.S_IXUSR)
    r = flux("hello", "world", env=clean_env(FLUX_EXEC_PATH=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "hello world uri=none"
    # Inside an instance the extension sees FLUX_URI like any subcommand.
    r = flux("start", "flux", "hello", "x", env=clean_env(FLUX_EXEC_PATH=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert "uri=local://" in r.stdout


def test_command_outside_instance_says_so():
    for args in (["getattr", "size"], ["ping", "broker"], ["dmesg"], ["module", "list"]):
        r = flux(*args)
        assert r.returncode == 1
        assert r.stderr.startswith(f"flux-{args[0]}: FLUX_URI is not set")


def test_sequence_runs_commands_in_one_process(instance):
    # Lines run in order; "-" lets one fail; the first other failure stops.
    r = instance.run("sequence", input="# a comment\n\ngetattr rank\n- frob\ngetattr size\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0\n1\n"
    assert "'frob' is not a built-in flux command" in r.stderr
    r = instance.run("sequence", input="getattr nosuchattr\ngetattr rank\n")
    assert r.returncode == 1 and r.stdout == ""
    assert "nosuchattr" in r.stderr
    r = instance.run("sequence", "--keep-going", input="getattr nosuchattr\ngetattr rank\n")
    assert r.returncode == 1 and r.stdout == "0\n"
    r = instance.run("sequence", input="getattr 'rank\n")
    assert r.returncode == 1 and "line 1: No closing quotation" in r.stderr
