"""Brokers on three "hosts": three network namespaces joined by a bridge on a
private test subnet, each broker with its own hostname (a UTS namespace),
booted from one TOML [bootstrap] config as a system instance would be.

Skips, saying why, where network namespaces cannot be made (not root, no
iproute2, no CAP_NET_ADMIN)."""

import os
import time
import pathlib
import secrets
import shutil
import subprocess

import pytest

from conftest import BUILD, FLUX, clean_env

IP = shutil.which("ip") or "/usr/sbin/ip"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
PORT = 8050
TIMEOUT = 60


def sh(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=TIMEOUT)


class Net:
    """A hub namespace holding a bridge, and one namespace per host with a
    veth into the bridge; host i has 10.77.<net>.(i+1)/24."""

    def __init__(self, nhosts):
        self.tag = secrets.token_hex(3)
        self.net = int(self.tag[:2], 16) % 200 + 20
        self.hub = f"fxhub{self.tag}"
        self.hosts = [f"fxh{self.tag}{i}" for i in range(nhosts)]
        self.made = []

    def addr(self, i):
        return f"10.77.{self.net}.{i + 1}"

    def up(self):
        sh(IP, "netns", "add", self.hub)
        self.made.append(self.hub)
        sh(IP, "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh(IP, "-n", self.hub, "link", "set", "br0", "up")
        for i, ns in enumerate(self.hosts):
            sh(IP, "netns", "add", ns)
            self.made.append(ns)
            a, b = f"fxa{self.tag}{i}", f"fxb{self.tag}{i}"
            sh(IP, "link", "add", a, "type", "veth", "peer", "name", b)
            sh(IP, "link", "set", a, "netns", ns)
            sh(IP, "link", "set", b, "netns", self.hub)
            sh(IP, "-n", self.hub, "link", "set", b, "master", "br0")
            sh(IP, "-n", self.hub, "link", "set", b, "up")
            sh(IP, "-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", a)
            sh(IP, "-n", ns, "link", "set", a, "up")
            sh(IP, "-n", ns, "link", "set", "lo", "up")

    def down(self):
        for ns in reversed(self.made):
            sh(IP, "netns", "del", ns, check=False)

    def command(self, i, hostname, argv):
        """argv run in host i's network namespace with its own hostname."""
        script = 'hostname "$0" && exec "$@"'
        return [IP, "netns", "exec", self.hosts[i], UNSHARE, "--uts", "sh", "-c", script,
                hostname, *argv]


@pytest.fixture
def net():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CAP_NET_ADMIN)")
    n = Net(3)
    try:
        n.up()
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        n.down()
        msg = e.stderr.strip() if isinstance(e, subprocess.CalledProcessError) else str(e)
        pytest.skip(f"cannot make network namespaces here: {msg}")
    try:
        yield n
    finally:
        n.down()


def write_config(d, net, names):
    cert = d / "curve.cert"
    r = subprocess.run([FLUX, "keygen", str(cert)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    hosts = ",\n  ".join(
        f'{{ host = "{name}", connect = "tcp://{net.addr(i)}:{PORT}" }}'
        for i, name in enumerate(names))
    conf = d / "system.toml"
    conf.write_text(f"""[bootstrap]
curve_cert = "{cert}"
default_port = {PORT}
default_bind = "tcp://0.0.0.0:%p"
hosts = [
  {hosts}
]
""")
    return conf


def test_three_hosts_from_one_config(net, tmp_path):
    names = [f"node{i}" for i in range(3)]
    conf = write_config(tmp_path, net, names)
    broker = str(BUILD / "bin" / "flux-broker")
    env = clean_env()
    followers = []
    try:
        for i in (1, 2):
            log = open(tmp_path / f"rank{i}.log", "w")
            followers.append((subprocess.Popen(
                net.command(i, names[i], [broker, "-c", str(conf)]),
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log))
        prog = ("flux getattr size; flux getattr broker.boot-method; "
                "flux exec -r all hostname | sort; flux run -N3 hostname | sort")
        r = subprocess.run(net.command(0, names[0], [broker, "-c", str(conf), "sh", "-c", prog]),
                           env=env, capture_output=True, text=True, timeout=TIMEOUT)
        logs = "".join((tmp_path / f"rank{i}.log").read_text() for i in (1, 2))
        assert r.returncode == 0, r.stderr + logs
        assert r.stdout.split() == ["3", "config", *names, *names], r.stdout + r.stderr + logs
        # The instance's end takes the other hosts' brokers down too.
        for p, _ in followers:
            assert p.wait(timeout=TIMEOUT) == 0, logs
    finally:
        for p, log in followers:
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()


def test_wrong_certificate_cannot_join(net, tmp_path):
    names = [f"node{i}" for i in range(3)]
    conf = write_config(tmp_path, net, names)
    # Host 2 has a certificate of its own: same hosts, another key.
    other = tmp_path / "other"
    other.mkdir()
    bad = write_config(other, net, names)
    broker = str(BUILD / "bin" / "flux-broker")
    env = clean_env()
    procs = []
    try:
        logs = {}
        for i, c in ((1, conf), (2, bad)):
            logs[i] = tmp_path / f"rank{i}.log"
            f = open(logs[i], "w")
            procs.append((subprocess.Popen(net.command(i, names[i], [broker, "-c", str(c)]),
                                           env=env, stdout=f, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL), f))
        # Rank 0 runs with a quorum of 2; it waits (bounded) until rank 2 has
        # been refused, then checks who is online.
        prog = (f'i=0; until grep -q "handshake failed" {logs[2]}; do '
                f'i=$((i+1)); [ $i -gt 600 ] && exit 9; sleep 0.05; done; '
                "flux getattr broker.online; flux exec -r 2 true; echo exec=$?")
        r = subprocess.run(
            net.command(0, names[0], [broker, "-c", str(conf), "-Sbroker.quorum=2",
                                      "sh", "-c", prog]),
            env=env, capture_output=True, text=True, timeout=TIMEOUT)
        text = logs[2].read_text()
        assert r.returncode == 0, r.stderr + text
        out = r.stdout.split()
        assert out[0] == "0-1", r.stdout  # rank 2 never joined
        assert out[-1] != "exec=0", r.stdout
        assert "CURVE handshake failed" in text
    finally:
        for p, f in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            f.close()


def test_restarted_broker_rejoins(net, tmp_path):
    """A host's broker killed outright is lost; started again, it rejoins."""
    names = [f"node{i}" for i in range(3)]
    conf = write_config(tmp_path, net, names)
    broker = str(BUILD / "bin" / "flux-broker")
    env = clean_env()
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    pidfile = tmp_path / "rank2.pid"
    procs = []

    def start(i, log_name):
        f = open(tmp_path / log_name, "w")
        p = subprocess.Popen(net.command(i, names[i], [broker, "-c", str(conf),
                                                       "-Stbon.torpid_max=2s",
                                                       "-Stbon.torpid_min=0.2s"]),
                             env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        procs.append((p, f))
        return p

    try:
        start(1, "rank1.log")
        first = start(2, "rank2.log")
        # Rank 0 waits for the test's word (the fifo) between the steps.
        online = ('i=0; until [ "$(flux getattr broker.online)" = "$1" ]; do '
                  'i=$((i+1)); [ $i -gt 400 ] && exit 9; sleep 0.05; done')
        prog = (f"online() {{ {online}; }}; "
                "flux exec -r 2 flux getattr broker.pid > " + str(pidfile) + "; "
                f"read x < {fifo}; online 0-1 || exit 3; "
                "flux exec -r 2 true && exit 4; "
                f"touch {tmp_path}/seen-lost; "
                f"read x < {fifo}; online 0-2 || exit 5; "
                "flux exec -r 2 hostname")
        main = subprocess.Popen(
            net.command(0, names[0], [broker, "-c", str(conf), "-Stbon.torpid_max=2s",
                                      "-Stbon.torpid_min=0.2s", "sh", "-c", prog]),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = TIMEOUT
        t0 = time.monotonic()
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert main.poll() is None, main.communicate()
            assert time.monotonic() - t0 < deadline
            time.sleep(0.02)
        os.kill(int(pidfile.read_text()), 9)
        first.wait(timeout=TIMEOUT)
        with open(fifo, "w") as f:
            f.write("lost\n")
        while not (tmp_path / "seen-lost").exists():
            assert main.poll() is None, main.communicate()
            assert time.monotonic() - t0 < deadline
            time.sleep(0.02)
        start(2, "rank2-again.log")
        with open(fifo, "w") as f:
            f.write("again\n")
        out, err = main.communicate(timeout=TIMEOUT)
        assert main.returncode == 0, err
        assert out.split() == ["node2"], out + err
    finally:
        for p, f in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            f.close()
