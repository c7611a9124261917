"""Brokers on three "hosts": three network namespaces joined by a bridge on a
private test subnet, each broker with its own hostname (a UTS namespace),
booted from one TOML [bootstrap] config as a system instance would be.

Skips, saying why, where network namespaces cannot be made (not root, no
iproute2, no CAP_NET_ADMIN)."""

import os
import pathlib
import secrets
import shutil
import subprocess
import time

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


BROKER = str(BUILD / "bin" / "flux-broker")
NAMES = [f"node{i}" for i in range(3)]


class Followers:
    """Brokers of hosts 1.. started in the background, each logging to
    tmp_path/LOGNAME; killed at the end if still running."""

    def __init__(self, net, tmp_path):
        self.net, self.dir, self.procs = net, tmp_path, []

    def start(self, i, conf, logname, *opts):
        f = open(self.dir / logname, "w")
        p = subprocess.Popen(self.net.command(i, NAMES[i], [BROKER, "-c", str(conf), *opts]),
                             env=clean_env(), stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.procs.append((p, f))
        return p

    def logs(self):
        return "".join((self.dir / name).read_text() for name in sorted(
            p.name for p in self.dir.glob("*.log")))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p, f in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            f.close()


def rank0(net, conf, prog, *opts):
    """Host 0's broker with prog (a shell command) as its initial program."""
    return net.command(0, NAMES[0], [BROKER, "-c", str(conf), *opts, "sh", "-c", prog])


def test_three_hosts_from_one_config(net, tmp_path):
    conf = write_config(tmp_path, net, NAMES)
    with Followers(net, tmp_path) as f:
        for i in (1, 2):
            f.start(i, conf, f"rank{i}.log")
        prog = ("flux getattr size; flux getattr broker.boot-method; "
                "flux exec -r all hostname | sort; flux run -N3 hostname | sort")
        r = subprocess.run(rank0(net, conf, prog), env=clean_env(), capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr + f.logs()
        assert r.stdout.split() == ["3", "config", *NAMES, *NAMES], r.stdout + r.stderr + f.logs()
        # The instance's end takes the other hosts' brokers down too.
        for p, _ in f.procs:
            assert p.wait(timeout=TIMEOUT) == 0, f.logs()


def test_wrong_certificate_cannot_join(net, tmp_path):
    conf = write_config(tmp_path, net, NAMES)
    # Host 2 has a certificate of its own: same hosts, another key.
    other = tmp_path / "other"
    other.mkdir()
    bad = write_config(other, net, NAMES)
    with Followers(net, tmp_path) as f:
        f.start(1, conf, "rank1.log")
        f.start(2, bad, "rank2.log")
        log2 = tmp_path / "rank2.log"
        # Rank 0 runs with a quorum of 2; it waits (bounded) until rank 2 has
        # been refused, then checks who is online.
        prog = (f'i=0; until grep -q "handshake failed" {log2}; do '
                f'i=$((i+1)); [ $i -gt 600 ] && exit 9; sleep 0.05; done; '
                "flux getattr broker.online; flux exec -r 2 true; echo exec=$?")
        r = subprocess.run(rank0(net, conf, prog, "-Sbroker.quorum=2"), env=clean_env(),
                           capture_output=True, text=True, timeout=TIMEOUT)
        text = log2.read_text()
        assert r.returncode == 0, r.stderr + text
        out = r.stdout.split()
        assert out[0] == "0-1", r.stdout  # rank 2 never joined
        assert out[-1] != "exec=0", r.stdout
        assert "CURVE handshake failed" in text


def test_restarted_broker_rejoins(net, tmp_path):
    """A host's broker killed outright is lost; started again, it rejoins."""
    conf = write_config(tmp_path, net, NAMES)
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    pidfile = tmp_path / "rank2.pid"
    fast = ("-Stbon.torpid_max=2s", "-Stbon.torpid_min=0.2s")
    with Followers(net, tmp_path) as f:
        f.start(1, conf, "rank1.log", *fast)
        first = f.start(2, conf, "rank2.log", *fast)
        # Rank 0 waits for the test's word (the fifo) between the steps.
        online = ('i=0; until [ "$(flux getattr broker.online)" = "$1" ]; do '
                  'i=$((i+1)); [ $i -gt 400 ] && exit 9; sleep 0.05; done')
        prog = (f"online() {{ {online}; }}; "
                f"flux exec -r 2 flux getattr broker.pid > {pidfile}; "
                f"read x < {fifo}; online 0-1 || exit 3; "
                "flux exec -r 2 true && exit 4; "
                f"touch {tmp_path}/seen-lost; "
                f"read x < {fifo}; online 0-2 || exit 5; "
                "flux exec -r 2 hostname")
        main = subprocess.Popen(rank0(net, conf, prog, *fast), env=clean_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()

        def wait_for(done):
            while not done():
                assert main.poll() is None, main.communicate()
                assert time.monotonic() - t0 < TIMEOUT
                time.sleep(0.02)

        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip())
        os.kill(int(pidfile.read_text()), 9)
        first.wait(timeout=TIMEOUT)
        with open(fifo, "w") as w:
            w.write("lost\n")
        wait_for((tmp_path / "seen-lost").exists)
        f.start(2, conf, "rank2-again.log", *fast)
        with open(fifo, "w") as w:
            w.write("again\n")
        out, err = main.communicate(timeout=TIMEOUT)
        assert main.returncode == 0, err + f.logs()
        assert out.split() == ["node2"], out + err
