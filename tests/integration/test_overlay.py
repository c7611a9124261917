"""Multi-broker instances (flux start --test-size=N): brokers joined in a
TBON over ZeroMQ. Rank attributes and routing on flat and deep trees,
events and the KVS seen from every rank, jobs spread across brokers (MPICH
too), a broker killed under a running job, and the end of an instance.

Most tests drive a live instance from outside (class `Live`): the initial
program writes its FLUX_URI and then blocks reading a FIFO; the test runs
flux commands with that URI and finally writes the initial program's exit
code into the FIFO. Every process the test starts carries a private token
in its environment, so whatever survives (a broker, a job shell or task) is
found by that token and killed by pid at the end. Nothing waits by
sleeping: conditions are polled under deadlines.
"""

import json
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import warnings

import pytest

from conftest import FLUX, clean_env, flux, short_dir

MPI_HELLO_SRC = pathlib.Path(__file__).resolve().parents[1] / "shell" / "mpi_hello.c"

START_TIMEOUT = 60.0  # seconds for N brokers to be up and the initial program started
CMD = 30.0  # one flux command
POLL = 0.05


def kary_parent(rank, k):
    return None if rank == 0 else (rank - 1) // k


def kary_level(rank, k):
    level = 0
    while rank > 0:
        rank = (rank - 1) // k
        level += 1
    return level


def kary_descendants(rank, k, size):
    n, todo = 0, [rank]
    while todo:
        r = todo.pop()
        kids = [c for c in range(r * k + 1, r * k + k + 1) if c < size]
        n += len(kids)
        todo.extend(kids)
    return n


def poll(cond, timeout, what):
    """Call cond() until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL)


def procs_with_token(token):
    """Pids of live processes whose environment holds token."""
    needle = f"FLUX_OVERLAY_TEST={token}".encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{d}/stat", "rb") as f:
                zombie = f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except OSError:
            continue
        if not zombie and needle in env.split(b"\0"):
            found.append(int(d))
    return found


def describe(pids):
    out = []
    for p in pids:
        try:
            out.append(f"{p}: " + pathlib.Path(f"/proc/{p}/cmdline").read_bytes()
                       .replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return "\n".join(out)


def is_broker(pid):
    """pid is a live (not zombie) flux-broker process."""
    try:
        cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        state = pathlib.Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return b"flux-broker" in cmd and state != b"Z"


class Session:
    """A private directory, TMPDIR and token for the instances of one test;
    at the end, anything still carrying the token is killed by pid."""

    def __init__(self, tmp_path):
        self.base, self._cleanup = short_dir(tmp_path)
        self.tmp = self.base / "t"
        self.tmp.mkdir(exist_ok=True)
        self.token = uuid.uuid4().hex
        self.lives = []

    def env(self, **extra):
        return clean_env(TMPDIR=self.tmp, FLUX_OVERLAY_TEST=self.token, **extra)

    def start(self, size, *args, timeout=START_TIMEOUT):
        live = Live(self, size, args)
        self.lives.append(live)
        live.start(timeout)
        return live

    def run(self, *args, timeout=120):
        """`flux ARGS...` to completion (e.g. flux start ... CMD)."""
        return flux(*args, env=self.env(), timeout=timeout)

    def leftovers(self):
        return procs_with_token(self.token)

    def assert_clean(self, tmp_empty=True, timeout=10):
        """Once every instance has ended: no process of ours is left (a
        broker, job shell or task), and (tmp_empty) no run directory."""
        deadline = time.monotonic() + timeout
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(POLL)
        left = self.leftovers()
        assert left == [], "processes left behind:\n" + describe(left)
        if tmp_empty:
            assert list(self.tmp.iterdir()) == [], list(self.tmp.iterdir())

    def close(self):
        for live in self.lives:
            live.kill()
        left = self.leftovers()
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        if self._cleanup:
            shutil.rmtree(self._cleanup, ignore_errors=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return left


@pytest.fixture
def session(tmp_path):
    s = Session(tmp_path)
    try:
        yield s
    finally:
        s.close()


class Live:
    """flux start --test-size=N ARGS sh -c '<write FLUX_URI>; read CODE <fifo; exit CODE'."""

    PROGRAM = ('echo "$FLUX_URI" >"$0/uri.tmp" && mv "$0/uri.tmp" "$0/uri" && '
               'read code <"$0/ctl"; exit "${code:-0}"')

    def __init__(self, session, size, args):
        self.session = session
        self.size = size
        n = len(session.lives)
        self.dir = session.base / f"i{n}"
        self.dir.mkdir()
        self.fifo = self.dir / "ctl"
        os.mkfifo(self.fifo)
        self.log_path = self.dir / "start.log"
        self.args = [f"--test-size={size}", *args]
        self.proc = None
        self.uri = None
        self.returncode = None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self, timeout):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [FLUX, "start", *self.args, "sh", "-c", self.PROGRAM, str(self.dir)],
                env=self.session.env(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        uri_file = self.dir / "uri"

        def ready():
            if self.proc.poll() is not None:
                pytest.fail(f"flux start exited with {self.proc.returncode} before its "
                            f"initial program ran:\n{self.log()}")
            return uri_file.exists()

        poll(ready, timeout, f"{self.size} brokers to start")
        self.uri = uri_file.read_text().strip()

    def env(self, **extra):
        return self.session.env(FLUX_URI=self.uri, **extra)

    def run(self, *args, timeout=CMD, input=None):
        return subprocess.run([FLUX, *map(str, args)], env=self.env(), capture_output=True,
                              text=True, timeout=timeout, input=input)

    def ok(self, *args, timeout=CMD):
        """run(), failing the test unless it exits 0; its stdout."""
        r = self.run(*args, timeout=timeout)
        assert r.returncode == 0, (f"flux {' '.join(map(str, args))}: rc={r.returncode}\n"
                                   f"stdout: {r.stdout}\nstderr: {r.stderr}\nlog:\n{self.log()}")
        return r.stdout

    def popen(self, *args):
        return subprocess.Popen([FLUX, *map(str, args)], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def finish(self, code=0, timeout=60):
        """Let the initial program exit with code; flux start's exit code."""
        def open_fifo():
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: the reader is not there (yet, or any more)
                if self.proc.poll() is not None:
                    return -2
                return None

        fd = poll(lambda: open_fifo() or None, 10, "the initial program to read its FIFO")
        if fd >= 0:
            os.write(fd, f"{code}\n".encode())
            os.close(fd)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"flux start did not exit within {timeout}s of the initial program's "
                        f"end:\n{self.log()}")
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(timeout=30)


def by_rank(text):
    """`flux exec -l` output as {rank: [lines]}."""
    out = {}
    for line in text.splitlines():
        rank, _, rest = line.partition(": ")
        out.setdefault(int(rank), []).append(rest)
    return out


# --- 1. flux exec on every rank ----------------------------------------------

def test_exec_on_all_ranks_of_four(session):
    r = session.run("start", "--test-size=4", "flux", "exec", "-r", "all", "flux", "getattr",
                    "rank")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split(), key=int) == ["0", "1", "2", "3"]


# --- 2. attributes and ping on flat and deep trees ---------------------------

ATTRS = ["rank", "size", "tbon.topo", "tbon.level", "tbon.maxlevel", "tbon.descendants",
         "tbon.endpoint", "tbon.parent-endpoint", "hostlist", "broker.mapping"]
ATTR_SCRIPT = ("for a in " + " ".join(ATTRS) + "; do v=$(flux getattr $a 2>&1); "
               'echo "$a $? $v"; done')


@pytest.mark.parametrize("topo,k", [(None, 32), ("kary:2", 2)], ids=["default", "kary2"])
def test_sixteen_brokers_attributes_and_ping(session, topo, k):
    size = 16
    args = [] if topo is None else [f"-Stbon.topo={topo}"]
    live = session.start(size, *args)
    out = by_rank(live.ok("exec", "-r", "all", "-l", "sh", "-c", ATTR_SCRIPT))
    assert sorted(out) == list(range(size)), out
    attrs = {}
    for rank, lines in out.items():
        attrs[rank] = {}
        for line in lines:
            name, rc, value = (line.split(" ", 2) + [""])[:3]
            attrs[rank][name] = (int(rc), value)
    host = socket.gethostname()
    maxlevel = kary_level(size - 1, k)
    for rank in range(size):
        a = attrs[rank]
        assert a["rank"] == (0, str(rank))
        assert a["size"] == (0, str(size))
        assert a["tbon.topo"] == (0, topo or "kary:32")
        assert a["tbon.level"] == (0, str(kary_level(rank, k))), rank
        assert a["tbon.maxlevel"] == (0, str(maxlevel)), rank
        assert a["tbon.descendants"] == (0, str(kary_descendants(rank, k, size))), rank
        # One broker per "node", all on this host: an RFC 29 hostlist in rank
        # order, and an RFC 34 task map with 16 brokers on one node.
        assert a["hostlist"] == (0, ",".join([host] * size)), a["hostlist"]
        assert a["broker.mapping"] == (0, f"[[0,1,{size},1]]"), a["broker.mapping"]
        has_children = kary_descendants(rank, k, size) > 0
        if has_children:
            rc, ep = a["tbon.endpoint"]
            assert rc == 0 and re.match(r"^(ipc|tcp)://", ep), (rank, a["tbon.endpoint"])
        else:  # a leaf binds nothing: no endpoint (flux-core: ENOENT)
            assert a["tbon.endpoint"][0] != 0, (rank, a["tbon.endpoint"])
        parent = kary_parent(rank, k)
        if parent is None:  # flux-core: "tbon.parent-endpoint cannot be read on rank 0"
            assert a["tbon.parent-endpoint"][0] != 0, a["tbon.parent-endpoint"]
        else:
            assert a["tbon.parent-endpoint"] == attrs[parent]["tbon.endpoint"], rank
    # Every rank answers a ping, through the tree.
    for rank in range(size):
        r = live.run("ping", "-c", "1", rank)
        assert r.returncode == 0, f"flux ping -c 1 {rank}: {r.stderr}\n{live.log()}"
        lines = r.stdout.splitlines()
        assert lines[0] == f"flux-ping {rank}!broker"
        assert re.match(rf"^{rank}!broker\.ping pad=0 seq=0 time=[0-9.]+ ms \(\S+\)$",
                        lines[1]), lines
    # Rank-addressed services work on the deepest leaf too.
    leaf = size - 1
    assert live.ok("exec", "-r", leaf, "flux", "getattr", "rank").strip() == str(leaf)
    assert live.finish() == 0, live.log()
    session.assert_clean()


def test_tbon_endpoint_scheme_follows_pmi_clique(session):
    """flux-core (t0001-basic / t3303-system-tbon): brokers that PMI says share
    one node talk over ipc://; one clique per broker, or tbon.prefertcp, means
    tcp://."""
    problems = []
    # IPv6 is enabled on the socket (flux-core: "for maximum flexibility in
    # address selection"), so an IPv4 address may read tcp://[::ffff:A.B.C.D]:P.
    tcp = re.compile(r"^tcp://(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:.]+\]):\d+$")
    r = session.run("start", "--test-size=2", "--test-pmi-clique=per-broker",
                    "flux", "exec", "-r", "1", "flux", "getattr", "tbon.parent-endpoint")
    assert r.returncode == 0, r.stderr
    if not tcp.match(r.stdout.strip()):
        problems.append(f"--test-pmi-clique=per-broker: want tcp://ADDR:PORT, got {r.stdout!r}")
    r = session.run("start", "--test-size=2", "-Stbon.prefertcp=1", "flux", "getattr",
                    "tbon.endpoint")
    assert r.returncode == 0, r.stderr
    if not tcp.match(r.stdout.strip()):
        problems.append(f"-Stbon.prefertcp=1: want tcp://ADDR:PORT, got {r.stdout!r}")
    r = session.run("start", "--test-size=2", "flux", "getattr", "tbon.endpoint")
    assert r.returncode == 0, r.stderr
    if not r.stdout.startswith("ipc://"):
        problems.append(f"default (single clique): want ipc://, got {r.stdout!r}")
    r = session.run("start", "--test-size=2", "--test-pmi-clique=[[0,1,2,1]]",
                    "flux", "getattr", "tbon.endpoint")
    assert r.returncode == 0, r.stderr
    if not r.stdout.startswith("ipc://"):
        problems.append(f"--test-pmi-clique=[[0,1,2,1]]: want ipc://, got {r.stdout!r}")
    assert problems == [], "\n".join(problems)


# --- 3. events ----------------------------------------------------------------

class LineReader:
    """Collects a process's stdout lines in a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)


def test_events_reach_every_rank_in_order(session):
    size, n = 8, 10
    live = session.start(size, "-Stbon.topo=kary:2")
    leaf = size - 1  # level 3 of the binary tree
    sub = live.popen("exec", "-r", "all", "-l", "flux", "event", "sub", "ovt.")
    reader = LineReader(sub)
    try:
        def seen(topic):
            got = {}
            for line in reader.snapshot():
                rank, _, rest = line.partition(": ")
                if rest.split("\t")[0] == topic:
                    got[int(rank)] = True
            return got

        # Wait until every subscriber is subscribed: publish markers until
        # each rank has printed one.
        def all_ready():
            if sub.poll() is not None:
                pytest.fail(f"subscribers exited: {sub.returncode} {sub.stderr.read()}")
            live.ok("event", "pub", "ovt.ready")
            return len(seen("ovt.ready")) == size

        poll(all_ready, 30, "a subscriber on every rank")
        live.ok("exec", "-r", "0", "sh", "-c",
                f'for i in $(seq 0 {n - 1}); do flux event pub ovt.root "{{\\"i\\": $i}}" '
                '|| exit 1; done')
        live.ok("exec", "-r", leaf, "sh", "-c",
                f'for i in $(seq 0 {n - 1}); do flux event pub ovt.leaf "{{\\"i\\": $i}}" '
                '|| exit 1; done')
        live.ok("event", "pub", "ovt.end")
        poll(lambda: len(seen("ovt.end")) == size, 30, "ovt.end on every rank")
    finally:
        sub.send_signal(signal.SIGTERM)  # flux exec passes it to the subscribers
        try:
            sub.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(sub.pid, signal.SIGKILL)
            sub.wait()
        reader.thread.join(timeout=5)
    per_rank = {}
    for line in reader.snapshot():
        rank, _, rest = line.partition(": ")
        topic, _, payload = rest.partition("\t")
        if topic in ("ovt.root", "ovt.leaf"):
            per_rank.setdefault(int(rank), []).append((topic, json.loads(payload)["i"]))
    expected = [("ovt.root", i) for i in range(n)] + [("ovt.leaf", i) for i in range(n)]
    for rank in range(size):
        assert per_rank.get(rank) == expected, f"rank {rank}: {per_rank.get(rank)}"
    assert live.finish() == 0, live.log()
    session.assert_clean()


def test_event_sequence_numbers_are_global(session):
    """Events are sequenced by rank 0 wherever they are published: a
    synchronous publish from a leaf gets the next number after rank 0's."""
    live = session.start(4, "-Stbon.topo=kary:2")
    s1 = int(live.ok("event", "pub", "-s", "ovt.a").strip())
    s2 = int(live.ok("exec", "-r", 3, "flux", "event", "pub", "-s", "ovt.b").strip())
    s3 = int(live.ok("exec", "-r", 2, "flux", "event", "pub", "-s", "ovt.c").strip())
    assert s1 < s2 < s3, (s1, s2, s3)
    assert live.finish() == 0, live.log()
    session.assert_clean()


# --- 4. KVS across ranks ------------------------------------------------------

def test_kvs_across_ranks(session):
    live = session.start(4, "-Stbon.topo=kary:2")
    out = live.ok("exec", "-r", 3, "sh", "-c", "flux kvs put a=1 && flux kvs version")
    version = int(out.strip())
    assert live.ok("exec", "-r", 2, "flux", "kvs", "get", "a").strip() == "1"
    # Every rank reaches that version and sees the value.
    live.ok("exec", "-r", "all", "flux", "kvs", "wait", version)
    versions = by_rank(live.ok("exec", "-r", "all", "-l", "flux", "kvs", "version"))
    assert sorted(versions) == [0, 1, 2, 3]
    assert all(int(v[0]) >= version for v in versions.values()), versions
    values = by_rank(live.ok("exec", "-r", "all", "-l", "flux", "kvs", "get", "a"))
    assert values == {r: ["1"] for r in range(4)}, values
    # A wait for a future version on rank 1 ends when rank 2 commits.
    waiter = live.popen("exec", "-r", 1, "flux", "kvs", "wait", version + 1)
    try:
        assert waiter.poll() is None, "flux kvs wait returned before the version existed"
        live.ok("exec", "-r", 2, "flux", "kvs", "put", "b=2")
        rc = waiter.wait(timeout=CMD)
        assert rc == 0, waiter.stderr.read()
    finally:
        if waiter.poll() is None:
            os.killpg(waiter.pid, signal.SIGKILL)
            waiter.wait()
    assert live.ok("exec", "-r", 1, "flux", "kvs", "get", "b").strip() == "2"
    assert live.finish() == 0, live.log()
    session.assert_clean()


def test_kvs_followers(session):
    """Every rank has its own kvs (it answers a ping addressed to that rank)
    that reads through the local content cache, relays writes to rank 0 and
    follows its roots: a writer reads its own write at once, watches and
    namespaces work from any rank."""
    live = session.start(4, "-Stbon.topo=kary:2")
    for rank in range(4):
        live.ok("ping", "-c", 1, f"{rank}!kvs")
        assert "kvs" in live.ok("module", "list", "-r", rank).split(), rank
    # Read-your-writes on a leaf, no wait needed.
    out = live.ok("exec", "-r", 3, "sh", "-c",
                  "for i in 1 2 3 4 5 6 7 8; do flux kvs put x=$i; flux kvs get x; done")
    assert out.split() == [str(i) for i in range(1, 9)], out
    # A watch on one leaf sees a write made on another.
    live.ok("exec", "-r", 3, "flux", "kvs", "put", "w=first")
    watcher = live.popen("exec", "-r", 2, "flux", "kvs", "get", "--watch", "--count=2", "w")
    try:
        ready, _, _ = select.select([watcher.stdout], [], [], CMD)
        assert ready, "the watch printed nothing"
        assert watcher.stdout.readline().strip() == "first"
        live.ok("exec", "-r", 1, "flux", "kvs", "put", "w=second")
        out, err = watcher.communicate(timeout=CMD)
        assert watcher.returncode == 0, err
        assert out.split() == ["second"], out
    finally:
        if watcher.poll() is None:
            os.killpg(watcher.pid, signal.SIGKILL)
            watcher.wait()
    # Namespaces: made on one rank, written on another, read and removed on a third.
    live.ok("exec", "-r", 1, "flux", "kvs", "namespace", "create", "other")
    live.ok("exec", "-r", 3, "flux", "kvs", "put", "--namespace=other", "k=v")
    assert live.ok("exec", "-r", 2, "flux", "kvs", "get", "--namespace=other", "k").strip() == "v"
    assert "other" in live.ok("exec", "-r", 3, "flux", "kvs", "namespace", "list")
    live.ok("exec", "-r", 2, "flux", "kvs", "namespace", "remove", "other")
    r = live.run("exec", "-r", 3, "flux", "kvs", "get", "--namespace=other", "k")
    assert r.returncode != 0
    # A commit's errors come back through the relay as they are.
    r = live.run("exec", "-r", 3, "flux", "kvs", "get", "nosuchkey")
    assert r.returncode != 0 and "No such file or directory" in r.stderr, r.stderr
    assert live.finish() == 0, live.log()
    session.assert_clean()


# --- 5. jobs across brokers ---------------------------------------------------

def mpi_hello(dest):
    mpicc = shutil.which("mpicc")
    if not mpicc:
        return None
    exe = dest / "mpi_hello"
    c = subprocess.run([mpicc, "-o", str(exe), str(MPI_HELLO_SRC)], capture_output=True,
                       text=True, timeout=120)
    assert c.returncode == 0, c.stderr
    return str(exe)


def test_jobs_across_four_brokers(session):
    live = session.start(4)
    out = live.ok("run", "-N4", "-n8", "hostname", timeout=60)
    assert out.splitlines() == [socket.gethostname()] * 8, out
    out = live.ok("run", "-N4", "-n4", "flux", "getattr", "rank", timeout=60)
    assert sorted(out.split(), key=int) == ["0", "1", "2", "3"], out
    exe = mpi_hello(session.base)
    if exe is None:
        live.finish()
        pytest.skip("mpicc not found (install mpich/libmpich-dev: scripts/install-deps.sh)")
    out = live.ok("run", "-N4", "-n4", exe, timeout=120)
    assert sorted(out.splitlines()) == [f"mpi: rank {i} of 4 sum 6" for i in range(4)], out
    out = live.ok("run", "-N4", "-n8", exe, timeout=120)
    assert sorted(out.splitlines()) == sorted(f"mpi: rank {i} of 8 sum 28" for i in range(8)), out
    assert live.finish() == 0, live.log()
    session.assert_clean()


# --- 6. a lost broker -----------------------------------------------------------

def job_ranks(live, jobid):
    R = json.loads(live.ok("job", "info", jobid, "R"))
    return ",".join(e["rank"] for e in R["execution"]["R_lite"])


def test_lost_broker_fails_its_job_only(session):
    live = session.start(4, "-Stbon.torpid_max=2s", "-Stbon.torpid_min=0.5s",
                         "--test-exit-timeout=120s")
    problems = []
    # Ranks 0-2 get one core each of job A; rank 3, untouched, goes whole to B.
    a = live.ok("submit", "--flags=waitable", "-N3", "-n3", "sleep", "300").strip()
    live.ok("job", "wait-event", "-t", "30", a, "start")
    b = live.ok("submit", "--flags=waitable", "-N1", "-x", "sleep", "300").strip()
    live.ok("job", "wait-event", "-t", "30", b, "start")
    assert job_ranks(live, a) == "0-2"
    assert job_ranks(live, b) == "3", "job B is not on rank 3; the scenario needs it there"
    pid3 = int(live.ok("exec", "-r", 3, "flux", "getattr", "broker.pid"))
    assert is_broker(pid3)
    # A request in flight to rank 3 when it dies.
    pending = live.popen("exec", "-r", 3, "sleep", "299")

    def pending_started():
        for p in session.leftovers():
            try:
                if pathlib.Path(f"/proc/{p}/cmdline").read_bytes() == b"sleep\x00299\x00":
                    return True
            except OSError:
                pass
        return False

    poll(pending_started, 30, "flux exec -r 3 sleep 299 to start")

    t0 = time.monotonic()
    os.kill(pid3, signal.SIGKILL)

    try:
        rc = pending.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(pending.pid, signal.SIGKILL)
        pending.wait()
        pytest.fail("flux exec -r 3 did not fail within 15s of rank 3's death")
    err = pending.stderr.read()
    assert rc != 0
    if "No route to host" not in err:
        problems.append(f"pending flux exec -r 3 when rank 3 died: expected EHOSTUNREACH "
                        f"'No route to host', got: {err.strip()!r}")

    r = live.run("ping", "-c", "1", 3, timeout=15)
    assert r.returncode != 0, r.stdout
    assert "No route to host" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 15

    # B ends with a node-failure exception; A is not disturbed.
    r = live.run("job", "wait", b, timeout=CMD)
    assert r.returncode != 0, r.stdout + r.stderr
    events = [json.loads(l) for l in live.ok("job", "eventlog", "-f", "json", b).splitlines()]
    exc = [e for e in events if e["name"] == "exception"]
    assert exc and exc[0]["context"]["type"] == "node-failure", events
    assert exc[0]["context"]["severity"] == 0, exc
    state_a = live.ok("jobs", "-no", "{state}", a).strip()
    assert state_a == "RUN", state_a

    # Rank 3 is offline to the resource service.
    def offline():
        r = live.run("resource", "status", "-s", "offline", "-no", "{ranks}")
        return r.returncode == 0 and r.stdout.strip() == "3"

    deadline = time.monotonic() + 5
    while not offline() and time.monotonic() < deadline:
        time.sleep(POLL)
    if not offline():
        problems.append("rank 3 is not offline: flux resource status:\n"
                        + live.run("resource", "status").stdout
                        + "flux resource list:\n" + live.run("resource", "list").stdout)

    # New work runs elsewhere (rank 0 has a free core).
    out = live.ok("run", "-N1", "-n1", "flux", "getattr", "rank", timeout=60)
    assert out.strip() in ("0", "1", "2"), out
    live.ok("exec", "-r", "0-2", "true")
    live.ok("cancel", a)
    r = live.run("job", "wait", a, timeout=CMD)
    assert r.returncode != 0  # canceled

    # The initial program exits 0. flux start --test-exit-mode=any (the
    # default) returns the highest exit code of all brokers: rank 3's
    # SIGKILL, 128 + 9.
    rc = live.finish(0)
    log = live.log()
    assert rc == 128 + signal.SIGKILL, f"flux start exit code {rc}\n{log}"
    # What rank 3 had started (job B's shell and task, the flux exec sleep)
    # outlives it: nothing is left to stop them (flux-core has no promise
    # here either). Said, not failed; the session kills them by pid.
    left = session.leftovers()
    if left:
        warnings.warn("processes outliving the killed broker:\n" + describe(left))
    assert problems == [], "\n".join(problems) + "\nlog:\n" + log


def test_lost_broker_leader_exit_mode(session):
    """--test-exit-mode=leader: flux start's exit code is rank 0's, i.e. the
    initial program's, even though a broker was killed."""
    live = session.start(4, "-Stbon.torpid_max=2s", "-Stbon.torpid_min=0.5s",
                         "--test-exit-mode=leader")
    pid3 = int(live.ok("exec", "-r", 3, "flux", "getattr", "broker.pid"))
    os.kill(pid3, signal.SIGKILL)
    r = live.run("ping", "-c", "1", 3, timeout=15)
    assert r.returncode != 0
    assert live.ok("run", "-N1", "true", timeout=60) == ""
    assert live.finish(0) == 0, live.log()
    live2 = session.start(2, "--test-exit-mode=leader")
    assert live2.finish(5) == 5, live2.log()
    session.assert_clean(tmp_empty=False)  # rank 3 could not remove its run directory


# --- 7. the end of an instance ------------------------------------------------

def test_shutdown_of_sixteen_leaves_nothing(session):
    r = session.run("start", "--test-size=16", "-Stbon.topo=kary:2", "sh", "-c",
                    "flux exec -r all -l flux getattr broker.pid && echo --- && "
                    "flux exec -r all -l flux getattr rundir")
    assert r.returncode == 0, r.stderr
    pids_part, rundirs_part = r.stdout.split("---\n")
    pids = {k: int(v[0]) for k, v in by_rank(pids_part).items()}
    rundirs = {k: v[0] for k, v in by_rank(rundirs_part).items()}
    assert sorted(pids) == list(range(16)) and sorted(rundirs) == list(range(16))
    assert len(set(pids.values())) == 16
    alive = [p for p in pids.values() if is_broker(p)]
    assert alive == [], f"brokers still running after flux start returned: {alive}"
    left = [d for d in set(rundirs.values()) if os.path.exists(d)]
    assert left == [], f"run directories left behind: {left}"
    assert list(session.tmp.iterdir()) == [], list(session.tmp.iterdir())
    assert session.leftovers() == [], describe(session.leftovers())


def test_shutdown_after_jobs_leaves_nothing(session):
    live = session.start(4, "-Stbon.topo=kary:2")
    live.ok("run", "-N4", "-n4", "true", timeout=60)
    pids = [int(l) for l in live.ok("exec", "-r", "all", "flux", "getattr", "broker.pid").split()]
    assert live.finish() == 0, live.log()
    session.assert_clean()
    assert [p for p in pids if is_broker(p)] == []
    assert list(session.tmp.iterdir()) == [], list(session.tmp.iterdir())
    assert session.leftovers() == [], describe(session.leftovers())


# --- 8. the slowest: 64 brokers ---------------------------------------------------

def test_slowest_sixty_four_brokers(session):
    r = session.run("start", "--test-size=64", "sh", "-c",
                    "flux getattr size && flux run -N64 true && echo ran", timeout=280)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["64", "ran"], r.stdout + r.stderr
    assert list(session.tmp.iterdir()) == [], list(session.tmp.iterdir())
    assert session.leftovers() == [], describe(session.leftovers())
