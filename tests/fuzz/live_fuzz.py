"""Live-broker fuzzer: several raw clients send every request topic that the
loaded services serve (asked of each with NAME.routes) random and mutated
payloads, flags, nodeids, userids and roles, plus malformed frames. After
each burst the instance must answer on every rank, keep its modules, and its
brokers' RSS must stay under a bound. Zero crashes is the bar.

    live_fuzz.py [--seconds N] [--seed S] [--json]

FUZZ_SECONDS overrides the default duration (30 s). It starts its own
two-broker instance (rank 1 runs the follower services) and removes it.
Exit status 0 when the instance survived; 1 with the last burst's messages
(fuzz-crash-*.txt in the working directory) when it did not.
"""

import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "integration"))
import fluxmsg  # noqa: E402

BUILD = pathlib.Path(os.environ.get("FLUX_BUILD_DIR", pathlib.Path(__file__).resolve().parents[2]
                                    / "build")).resolve()
FLUX = str(BUILD / "bin" / "flux")

CLIENTS = 4
BURST = 200            # messages per client per burst
RSS_LIMIT_MB = 400     # per broker; a leak of the fuzzer's traffic shows long before
ANSWER_TIMEOUT = 10.0

# Topics whose ordinary effect, sent as the owner, is to end or reshape the
# instance (or run programs): fuzzed only with guest roles, where each must
# be refused. Everything else is fuzzed with every role.
OWNER_SKIP = (
    "shutdown.", "module.load", "module.remove", "overlay.disconnect", "rexec.",
    "state-machine.offline", "content.unregister-backing", "content.register-backing",
    "job-manager.sched-hello", "job-manager.exec-hello", "job-manager.sched-ready",
    "attr.set", "attr.rm", "log.clear", "job-manager.queue-", "resource.drain",
    "job-manager.submit", "sched.", "job-exec.", "job-manager.raiseall",
)
# Sample payloads that get past the first checks of common handlers, to be
# mutated (the fuzzer also sends random JSON and non-JSON bytes).
SEEDS = [
    {}, {"name": "size"}, {"key": "a.b", "namespace": "primary", "flags": 0},
    {"ops": [{"key": "fz.k", "flags": 0, "dirent": {"ver": 1, "type": "val", "data": "eA=="}}],
     "flags": 0, "namespace": "primary"},
    {"ops": [], "name": "f1", "nprocs": 2, "flags": 0},
    {"namespace": "fz", "owner": 4242, "flags": 0}, {"rootseq": 100000, "namespace": "primary"},
    {"id": 1234, "attrs": ["all"]}, {"id": 1, "keys": ["eventlog"], "flags": 0},
    {"id": 1, "path": "eventlog", "flags": 0}, {"max_entries": 5, "attrs": ["all"]},
    {"matchtag": 1}, {"targets": "0-1", "reason": "fz"}, {"topic": "fz", "flags": 0},
    {"service": "4242-fz"}, {"rank": 1}, {"status": 1}, {"names": ["HOME"]},
    {"jobs": [{"id": 1, "userid": 0, "urgency": 16, "t_submit": 1.0, "jobspec": {}}]},
    {"J": "garbage", "urgency": 16, "flags": 0}, {"id": 1, "signum": 15},
    {"id": 1, "severity": 0, "type": "fz", "note": ""}, {"id": 1, "urgency": 31},
    {"id": 1, "memo": {"a": 1}}, {"blobref": "sha1-0000000000000000000000000000000000000000"},
    {"key": "fz", "value": {"a": 1}}, {"follow": True, "nobacklog": False},
    {"userid": 4294967295, "states": 0}, {"constraint": {"or": [{"userid": [0]}]},
                                          "max_entries": 0, "attrs": []},
]
WEIRD = [None, True, False, 0, -1, 2**31, 2**63, -2**63, 1e308, -0.0, "", "x" * 300, [], {},
         [[[[[]]]]], {"a": {"b": {"c": None}}}, "sha1-zz", "ƒ2S2JnK", "..", ".", "a..b"]
FLAGS = [0, 0, 0, fluxmsg.F_STREAMING, fluxmsg.F_NORESPONSE, fluxmsg.F_UPSTREAM,
         fluxmsg.F_PRIVATE, fluxmsg.F_STREAMING | fluxmsg.F_NORESPONSE]
NODEIDS = [fluxmsg.NODEID_ANY] * 4 + [0, 1, 2, 7, 0xFFFFFFFE, 0x7FFFFFFF]
ROLES = [(None, 0), (None, 0), (4242, 2), (4243, 2), (0, 1), (4242, 0), (4242, 0xFFFFFFFF),
         (0xFFFFFFFF, 2)]


def rss_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def mutate(rng, value, depth=0):
    """A random variant of a JSON value: fields dropped, retyped, added."""
    if depth > 4:
        return rng.choice(WEIRD)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            r = rng.random()
            if r < 0.1:
                continue
            out[k] = mutate(rng, v, depth + 1) if r < 0.5 else v
        if rng.random() < 0.2:
            out[rng.choice(["id", "key", "namespace", "flags", "x", "ops", "attrs"])] = rng.choice(WEIRD)
        return out
    if isinstance(value, list):
        out = [mutate(rng, v, depth + 1) for v in value if rng.random() > 0.1]
        if rng.random() < 0.2:
            out.append(rng.choice(WEIRD))
        return out
    if rng.random() < 0.5:
        return rng.choice(WEIRD)
    return value


def payload(rng):
    r = rng.random()
    if r < 0.6:
        return json.dumps(mutate(rng, rng.choice(SEEDS))).encode() + b"\0"
    if r < 0.7:
        return json.dumps(rng.choice(WEIRD)).encode() + b"\0"
    if r < 0.8:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
    if r < 0.9:
        return json.dumps(rng.choice(SEEDS)).encode()  # no trailing NUL
    return None


def message(rng, topics):
    topic, access = rng.choice(topics)
    userid, rolemask = rng.choice(ROLES)
    # rolemask 0 (or none given) on the owner's connection means the owner's.
    if any(topic.startswith(p) for p in OWNER_SKIP) and (rolemask & 1 or rolemask == 0):
        userid, rolemask = 4242, 2
    if "*" in topic:
        topic = topic.replace("*", rng.choice(["x", "status", "ping", ""]))
    m = fluxmsg.request(topic, None, matchtag=rng.randint(0, 2**32 - 1),
                        nodeid=rng.choice(NODEIDS), flags=rng.choice(FLAGS))
    m.payload = payload(rng)
    if m.payload is not None:
        m.flags |= fluxmsg.F_PAYLOAD
    if userid is not None:
        m.userid, m.rolemask = userid, rolemask
    return m


def malformed(rng):
    """Bytes that are not a well-formed frame (each client sends at most
    one, last in its burst: the broker may rightly close the connection)."""
    kind = rng.randrange(5)
    good = fluxmsg.frame(fluxmsg.request("attr.get", {"name": "size"}, matchtag=1))
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
    if kind == 1:  # a length beyond broker.max-message-size
        return fluxmsg.FRAME_MAGIC + struct.pack(">I", 0xFFFFFFF0)
    if kind == 2:  # a truncated body, then the next frame
        return good[:-3] + good
    if kind == 3:  # a frame whose body is garbage of the announced length
        body = bytes(rng.getrandbits(8) for _ in range(40))
        return fluxmsg.FRAME_MAGIC + struct.pack(">I", len(body)) + body
    return good[:8] + b"\x00" * (len(good) - 8)  # header fine, parts zeroed


class Client:
    """One raw connection; a thread reads and drops whatever comes back."""

    def __init__(self, sock_path):
        self.c = fluxmsg.Client(sock_path, timeout=ANSWER_TIMEOUT)
        self.closed = False
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        s = self.c.sock
        s.settimeout(None)
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
        self.closed = True

    def send(self, data):
        try:
            self.c.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def close(self):
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.c.close()


class Instance:
    def __init__(self, base):
        self.base = base
        self.rundir = base / "run"
        self.log = open(base / "broker.log", "w")
        self.proc = subprocess.Popen(
            [FLUX, "start", "--test-size=2", "-Sbroker.rc2_none=1", f"-Srundir={self.rundir}",
             "-Slog-stderr-level=6"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if k != "FLUX_URI"})
        self.sock = self.rundir / "local-0"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("instance did not start:\n" + self.log_text())
            if self.sock.exists():
                try:
                    with fluxmsg.Client(self.sock, timeout=5) as c:
                        if c.rpc("state-machine.wait").errnum == 0:
                            self.pids = [self.attr(c, "broker.pid", n) for n in (0, 1)]
                            return
                except (OSError, TimeoutError):
                    pass
            time.sleep(0.05)
        raise RuntimeError("instance not ready in 30 s:\n" + self.log_text())

    @staticmethod
    def attr(c, name, nodeid):
        r = c.rpc("attr.get", {"name": name}, nodeid=nodeid)
        if r.errnum:
            raise RuntimeError(f"attr.get {name} on rank {nodeid}: errno {r.errnum}")
        return int(r.json()["value"])

    def log_text(self):
        self.log.flush()
        return (self.base / "broker.log").read_text(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            subprocess.run([FLUX, "shutdown", "--quiet"], timeout=60, capture_output=True,
                           env={**os.environ, "FLUX_URI": f"local://{self.sock}"})
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def routes(c):
    """Every (topic, access) the loaded services serve, on both ranks."""
    services = {"broker"}
    r = c.rpc("module.list", {})
    for mod in r.json()["mods"]:
        services.add(mod["name"])
        services.update(mod.get("services", []))
    found = set()
    for nodeid in (0, 1):
        for svc in sorted(services):
            r = c.rpc(f"{svc}.routes", {}, nodeid=nodeid)
            if r.errnum == 0:
                found.update((x["topic"], x["access"]) for x in r.json()["routes"])
    return sorted(found)


def healthy(inst, expect_mods):
    """None if every rank answers and keeps its modules, else what is wrong."""
    if inst.proc.poll() is not None:
        return f"flux start exited with {inst.proc.returncode}"
    try:
        with fluxmsg.Client(inst.sock, timeout=ANSWER_TIMEOUT) as c:
            for nodeid in (0, 1):
                r = c.rpc("broker.ping", {"seq": 1}, nodeid=nodeid)
                if r.errnum:
                    return f"rank {nodeid} ping: errno {r.errnum}"
                mods = {m["name"] for m in c.rpc("module.list", {}, nodeid=nodeid).json()["mods"]}
                if mods != expect_mods[nodeid]:
                    return f"rank {nodeid} modules changed: {sorted(mods ^ expect_mods[nodeid])}"
    except (OSError, TimeoutError) as e:
        return f"no answer: {e!r}"
    for pid in inst.pids:
        mb = rss_mb(pid)
        if mb is None:
            return f"broker {pid} is gone"
        if mb > RSS_LIMIT_MB:
            return f"broker {pid} RSS {mb:.0f} MB > {RSS_LIMIT_MB} MB"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 30)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print figures as JSON (make bench)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = pathlib.Path(tempfile.mkdtemp(prefix="fxfz"))
    inst = None
    try:
        inst = Instance(base)
        with fluxmsg.Client(inst.sock, timeout=ANSWER_TIMEOUT) as c:
            topics = routes(c)
            expect = {n: {m["name"] for m in c.rpc("module.list", {}, nodeid=n).json()["mods"]}
                      for n in (0, 1)}
        if len(topics) < 50:
            print(f"live_fuzz: only {len(topics)} topics found: {topics}", file=sys.stderr)
            return 1
        sent = bursts = 0
        t0 = time.monotonic()
        rss0 = [rss_mb(p) for p in inst.pids]
        while time.monotonic() - t0 < args.seconds:
            clients = [Client(inst.sock) for _ in range(CLIENTS)]
            burst_log = []
            for i in range(BURST):
                for k, cl in enumerate(clients):
                    m = message(rng, topics)
                    burst_log.append(f"client {k}: {m!r} payload={m.payload!r}")
                    if cl.send(fluxmsg.frame(m)):
                        sent += 1
            for k, cl in enumerate(clients):
                if rng.random() < 0.5:
                    data = malformed(rng)
                    burst_log.append(f"client {k}: raw {data[:80]!r}")
                    cl.send(data)
            for cl in clients:
                cl.close()
            bursts += 1
            problem = healthy(inst, expect)
            if problem:
                out = pathlib.Path(f"fuzz-crash-seed{args.seed}-burst{bursts}.txt")
                out.write_text("\n".join(burst_log) + "\n\n--- broker log ---\n" +
                               (base / "broker.log").read_text(errors="replace"))
                print(f"live_fuzz: after burst {bursts} ({sent} requests): {problem}\n"
                      f"messages of that burst: {out.resolve()}\nbroker log tail:\n"
                      + inst.log_text(), file=sys.stderr)
                return 1
        elapsed = time.monotonic() - t0
        rss = [rss_mb(p) for p in inst.pids]
        figures = {"requests": sent, "bursts": bursts, "seconds": round(elapsed, 1),
                   "requests_per_s": round(sent / elapsed, 1), "topics": len(topics),
                   "rss_mb_before": [round(x, 1) for x in rss0],
                   "rss_mb_after": [round(x, 1) for x in rss], "crashes": 0}
        print(json.dumps(figures) if args.json else
              f"live_fuzz: {sent} requests to {len(topics)} topics in {bursts} bursts, "
              f"{sent / elapsed:.0f}/s; RSS {rss0} -> {rss} MB; no crash")
        return 0
    finally:
        if inst:
            inst.stop()
        if os.environ.get("FUZZ_KEEP"):
            print(f"live_fuzz: kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
