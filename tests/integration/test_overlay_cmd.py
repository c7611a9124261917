"""flux overlay, flux uptime, the heartbeat module and flux module -r on
multi-broker instances (flux start --test-size=N). Each test runs its checks
in one instance's initial program; nothing waits by sleeping: state changes
are awaited with `flux overlay status --wait` or by reading the log as it
grows, always under a timeout."""

import re
import textwrap

from conftest import flux

# 8 brokers as a binary tree: 0 -> 1,2; 1 -> 3,4; 2 -> 5,6; 3 -> 7.
KARY2 = ["--test-size=8", "-Stbon.topo=kary:2", "--test-hosts=fake[0-7]"]

FULL_TREE = """\
0 fake0: full
├─ 1 fake1: full
│  ├─ 3 fake3: full
│  │  └─ 7 fake7: full
│  └─ 4 fake4: full
└─ 2 fake2: full
   ├─ 5 fake5: full
   └─ 6 fake6: full
"""


# In the scripts: `st` is flux overlay status with a timeout long enough
# for a loaded machine (the default 0.5s would print a timeout instead of a
# state), and `wait_full` waits until every broker has joined and said so.
PRELUDE = (
    'st() { flux overlay status --timeout=10 "$@"; };'
    "wait_full() { st --summary --wait=full >/dev/null || exit 99; };"
)


def run_in(start_args, script, timeout=60):
    """flux start START_ARGS sh -c SCRIPT; the CompletedProcess."""
    return flux("start", *start_args, "sh", "-c", PRELUDE + script, timeout=timeout)


def sections(stdout):
    """The output split at lines of '---'."""
    return stdout.split("---\n")


def test_status_of_a_full_tree():
    r = run_in(
        KARY2,
        "wait_full; st; echo ---;"
        "st --no-pretty; echo ---;"
        "st --summary; echo ---;"
        "st -v; echo ---;"
        "st -vv --no-pretty; echo ---;"
        "st --rank=1; echo ---;"
        "st --down; echo ---;"
        "st -H 7 -Lnever; echo ---;"
        "st -H fake5 --color=always",
    )
    assert r.returncode == 0, r.stderr
    out = sections(r.stdout)
    assert out[0] == FULL_TREE
    assert out[1].splitlines() == [
        "0 fake0: full", "1 fake1: full", "3 fake3: full", "7 fake7: full",
        "4 fake4: full", "2 fake2: full", "5 fake5: full", "6 fake6: full",
    ]
    assert out[2] == "full\n"
    # -v: the time in the state, where the broker reports it (a parent
    # reports its children's).
    assert re.search(r"^   └─ 6 fake6: full for [0-9.]+(ms|s)$", out[3], re.M), out[3]
    # -vv: every broker is asked, with the round trip of each request.
    lines = out[4].splitlines()
    assert len(lines) == 8, out[4]
    assert all(re.fullmatch(r"\d fake\d: full( for \S+)? \([0-9.]+ ms\)", l) for l in lines), lines
    assert out[5] == ("1 fake1: full\n├─ 3 fake3: full\n│  └─ 7 fake7: full\n"
                      "└─ 4 fake4: full\n")
    assert out[6] == "", out[6]  # --down: a full root has nothing to show
    # --highlight marks the target and its ancestors.
    assert "<<0 fake0>>: full\n├─ <<1 fake1>>: full\n│  ├─ <<3 fake3>>: full\n" in out[7]
    assert "│  │  └─ <<7 fake7>>: full\n│  └─ 4 fake4: full\n" in out[7]
    assert "\x1b[01;34m0 fake0\x1b[0m: full" in out[8]
    assert "   ├─ \x1b[01;34m5 fake5\x1b[0m: full" in out[8]
    assert "\x1b[01;34m6" not in out[8]


def test_status_errors():
    r = run_in(
        ["--test-size=2"],
        "flux overlay status --rank=99 && exit 10;"
        "flux overlay status --wait=bogus && exit 11;"
        "flux overlay status --color=bogus && exit 12;"
        "flux overlay status --highlight=0-5 && exit 13;"
        "flux overlay status --summary --wait=degraded --timeout=0.1s && exit 14;"
        "flux overlay status --no-such-option && exit 15;"
        "flux overlay && exit 16;"
        "exit 0",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    err = r.stderr
    assert "flux-overlay: No route to host" in err
    assert "flux-overlay: invalid --wait state" in err
    assert "flux-overlay: Invalid argument to --color: 'bogus'" in err
    assert "flux-overlay: --highlight: ranks 2-5 not in set 0-1" in err
    assert "flux-overlay: Connection timed out" in err


def test_lookup_and_parentof():
    r = run_in(
        KARY2,
        "flux overlay lookup 0; flux overlay lookup 0-7; flux overlay lookup 'fake[2-3]';"
        "flux overlay lookup fake6; flux overlay parentof 7; flux overlay parentof 2;"
        "flux overlay lookup 9 && exit 10; flux overlay lookup foo && exit 11;"
        "flux overlay lookup 'fake2[' && exit 12; flux overlay parentof 0 && exit 13;"
        "flux overlay parentof 42 && exit 14; exit 0",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == ["fake0", "fake[0-7]", "2-3", "6", "3", "0"]
    assert "rank 9 is not in host map" in r.stderr
    assert "host foo not found in host map" in r.stderr
    assert "target must be a valid idset or hostlist" in r.stderr
    assert "flux-overlay: 0 has no parent" in r.stderr
    assert "42 is not a valid rank in this instance" in r.stderr


def test_disconnected_leaf_is_lost():
    r = run_in(
        KARY2 + ["--test-exit-mode=leader"],
        "wait_full; flux overlay disconnect fake7 || exit 10;"
        "st --summary --wait=degraded || exit 11; echo ---;"
        "st; echo ---;"
        "st --down; echo ---;"
        "st --no-pretty --color=always; echo ---;"
        "flux overlay errors --timeout=10; echo ---;"
        "flux overlay status -r 7 && exit 12;"
        "flux overlay disconnect 42 && exit 13;"
        "flux overlay disconnect 42xxx && exit 14;"
        "flux overlay disconnect --parent=2 3 && exit 15;"
        "exit 0",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "flux-overlay: asking fake3 (rank 3) to disconnect child fake7 (rank 7)" in r.stderr
    out = sections(r.stdout)
    assert out[0] == "degraded\n"
    assert out[1] == (
        "0 fake0: degraded\n"
        "├─ 1 fake1: degraded\n"
        "│  ├─ 3 fake3: degraded\n"
        "│  │  └─ 7 fake7: lost administrative disconnect\n"
        "│  └─ 4 fake4: full\n"
        "└─ 2 fake2: full\n"
        "   ├─ 5 fake5: full\n"
        "   └─ 6 fake6: full\n"
    )
    assert out[2] == (
        "0 fake0: degraded\n├─ 1 fake1: degraded\n│  ├─ 3 fake3: degraded\n"
        "│  │  └─ 7 fake7: lost administrative disconnect\n"
    )
    assert "7 fake7: \x1b[31mlost\x1b[39m administrative disconnect\n" in out[3]
    assert re.fullmatch(r"fake7: .+\n", out[4]), out[4]
    assert "flux-overlay: No route to host" in r.stderr
    assert "42 is not a valid rank in this instance" in r.stderr
    assert "TARGET must be a valid rank or hostname" in r.stderr
    assert "overlay.disconnect-subtree: " in r.stderr  # 3 is not 2's child


def test_disconnected_router_shows_its_subtree_as_ghosts():
    r = run_in(
        KARY2 + ["--test-exit-mode=leader"],
        "wait_full; flux overlay disconnect 1 || exit 10;"
        "st --summary --wait=degraded >/dev/null || exit 11;"
        "st; echo ---;"
        "st --no-ghost; echo ---;"
        "st --no-pretty -L; echo ---;"
        "flux overlay errors --timeout=10; echo ---;"
        "flux uptime",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = sections(r.stdout)
    assert out[0] == (
        "0 fake0: degraded\n"
        "├─ 1 fake1: lost administrative disconnect\n"
        "│  ├─ 3 fake3: lost\n"
        "│  │  └─ 7 fake7: lost\n"
        "│  └─ 4 fake4: lost\n"
        "└─ 2 fake2: full\n"
        "   ├─ 5 fake5: full\n"
        "   └─ 6 fake6: full\n"
    )
    assert out[1] == (
        "0 fake0: degraded\n├─ 1 fake1: lost administrative disconnect\n└─ 2 fake2: full\n"
        "   ├─ 5 fake5: full\n   └─ 6 fake6: full\n"
    )
    # The lost broker in red, the ranks presumed lost behind it in gray.
    assert "1 fake1: \x1b[31mlost\x1b[39m administrative disconnect\n" in out[2]
    assert "3 fake3: \x1b[90mlost\x1b[39m\n" in out[2]
    errors = out[3].splitlines()
    assert "fake[3-4,7]: lost parent" in errors, errors
    assert any(e.startswith("fake1: ") for e in errors), errors
    assert re.fullmatch(r" \d\d:\d\d:\d\d run \S+,  owner \S+,  depth 0,  size 8,  4 offline\n",
                        out[4]), out[4]


def test_uptime():
    r = run_in(
        ["--test-size=4"],
        "flux uptime; echo ---;"
        "flux resource drain 1-2 testing; flux queue disable --quiet -m testing; flux queue stop --quiet;"
        "flux uptime; echo ---; flux uptime --bogus && exit 10; exit 0",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = sections(r.stdout)
    line = r" \d\d:\d\d:\d\d run [0-9.]+(ms|s|m),  owner \S+,  depth 0,  size 4"
    assert re.fullmatch(line + "\n", out[0]), out[0]
    second = "\n  submit disabled,  scheduler stopped\n"
    assert re.fullmatch(line + ",  2 drained" + second, out[1]), out[1]


def test_uptime_before_run_state(tmp_path):
    rc1 = tmp_path / "rc1"
    rc1.write_text("#!/bin/sh\nflux uptime\n")
    rc1.chmod(0o755)
    r = flux("start", f"-Sbroker.rc1_path={rc1}", "-Sbroker.rc3_path=", "true")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r" \d\d:\d\d:\d\d init \S+,  owner \S+,  depth 0,  size 1\n", r.stdout)


# A follower's log, read as it grows until a line holds the pattern.
WAIT_LOG = textwrap.dedent(
    """\
    import signal, subprocess, sys
    signal.alarm(10)
    p = subprocess.Popen(["flux", "dmesg", "--follow"], stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        if sys.argv[1] in line:
            print(line.strip())
            p.kill()
            sys.exit(0)
    sys.exit(1)
    """
)


def test_heartbeat(tmp_path):
    script = tmp_path / "wait_log.py"
    script.write_text(WAIT_LOG)
    r = run_in(
        ["--test-size=4"],
        # rc1 may load it with the default period: replace it with a fast one.
        "flux module remove -f -r all heartbeat;"
        "flux module load -r all heartbeat period=0.1s || exit 10;"
        "timeout 10 flux event sub --count=2 heartbeat.pulse || exit 11; echo ---;"
        "flux module list -r all | grep heartbeat; echo ---;"
        # Rank 0 stops pulsing: rank 2 notices.
        "flux module remove -r 0 heartbeat || exit 12;"
        f"flux exec -r 2 python3 {script} 'heartbeat overdue' || exit 13; echo ---;"
        "flux module load heartbeat bogus=1 && exit 14;"
        "flux module load heartbeat period=x && exit 15;"
        "exit 0",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = sections(r.stdout)
    assert [l.split()[0] for l in out[0].splitlines()] == ["heartbeat.pulse"] * 2
    assert out[1].split()[0] == "heartbeat" and out[1].split()[-1] == "[0-3]", out[1]
    assert "heartbeat overdue" in out[2]
    assert "heartbeat: bogus=1: unknown option" in r.stderr
    assert "heartbeat: period: error parsing FSD" in r.stderr


def test_module_rank_options():
    r = run_in(
        ["--test-size=4"],
        "flux module list -r all; echo ---;"
        "flux module list -r 1-3 -x 2; echo ---;"
        "flux module remove -f -r all heartbeat;"
        "flux module load -r 1,3 heartbeat || exit 10;"
        "flux module list -r all | grep heartbeat; echo ---;"
        "flux module load -r 0-1 heartbeat && exit 11;"
        "flux module remove -r all heartbeat && exit 12;"
        "flux module remove -f -r all heartbeat || exit 13;"
        "flux module stats -r 3 resource | grep -c '\"request\"'; echo ---;"
        "flux module list -r 9 && exit 14;"
        "flux module list -r bogus && exit 15;"
        "exit 0",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = sections(r.stdout)
    rows = {l.split()[0]: l.split() for l in out[0].splitlines()[1:]}
    assert out[0].split()[:7] == ["Module", "Idle", "S", "Sendq", "Recvq", "Nodeset", "Service"]
    assert rows["content"][5] == "[0-3]" and rows["resource"][5] == "[0-3]"
    assert rows["kvs"][5] == "[0-3]"
    assert rows["sched-graph"][5:] == ["0", "sched"]
    rows = {l.split()[0]: l.split() for l in out[1].splitlines()[1:]}
    assert rows["resource"][5] == "[1,3]" and "job-manager" not in rows
    assert out[2].split()[-1] == "[1,3]", out[2]
    assert "flux-module: load heartbeat on rank 1: " in r.stderr
    assert "flux-module: load heartbeat on rank 0" not in r.stderr
    assert "flux-module: remove heartbeat on rank 2: " in r.stderr
    assert out[3].strip() == "2"  # rx and tx
    assert "flux-module: module.list on rank 9: No route to host" in r.stderr
    assert "could not parse --rank option" in r.stderr


def test_help_pages():
    for name in ("overlay", "uptime", "module"):
        r = flux("help", name)
        assert r.returncode == 0, r.stderr
        assert f"flux-{name}(1)" in r.stdout
