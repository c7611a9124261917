"""flux-core's Python API against a real instance: the handle (RPCs with
get/then/streaming, events, attributes, log), the reactor and its watchers,
services registered from Python, flux.job end to end as a flux-core script
writes it, JobID encodings, IDset and Hostlist, and errors as OSError."""

import os
import signal
import subprocess
import sys
import textwrap

from conftest import wait_until_running


def py(inst, code, **kw):
    return inst.run("python", "-c", textwrap.dedent(code), **kw)


def lines_of(r):
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_rpc_get_then_errors_and_timeouts(instance):
    wait_until_running(instance)
    out = lines_of(py(instance, """
        import errno, flux
        h = flux.Flux()
        print(h.rpc("broker.ping", {"seq": 1}).get()["seq"], h.get_rank(), h.attr_get("rank"))
        got = []
        def on_pong(f, tag):
            got.append((tag, f.get()["seq"]))
            if len(got) == 3:
                f.get_flux().reactor_stop()
        for i in range(3):
            h.rpc("broker.ping", {"seq": i}).then(on_pong, "t")
        h.reactor_run()
        print(sorted(got))
        try:
            h.rpc("no.such.topic", {}).get()
        except OSError as e:
            print("ENOSYS", e.errno == errno.ENOSYS, e.strerror)
        try:
            h.rpc("attr.get", {"name": "no-such-attr"}).get()
        except OSError as e:
            print("ENOENT", e.errno == errno.ENOENT)
        # a request that is never answered: wait_for times out, then() too
        f = h.rpc("kvs.wait-version", {"rootseq": 1000000})
        try:
            f.wait_for(0.05)
        except OSError as e:
            print("ETIMEDOUT", e.errno == errno.ETIMEDOUT)
        def on_timeout(f):
            try:
                f.get()
            except OSError as e:
                print("then timeout", e.errno == errno.ETIMEDOUT)
        f.then(on_timeout, timeout=0.05)
        print("reactor", h.reactor_run())
        h.log(4, "python says %d" % 42)
    """))
    assert out == [
        "1 0 0",
        "[('t', 0), ('t', 1), ('t', 2)]",
        "ENOSYS True No service matching no.such.topic is registered",
        "ENOENT True",
        "ETIMEDOUT True",
        "then timeout True",
        "reactor 0",
    ]
    assert "python says 42" in instance.run("dmesg").stdout


def test_a_callback_exception_reaches_reactor_run(instance):
    r = py(instance, """
        import flux
        h = flux.Flux()
        def boom(f):
            raise RuntimeError("from callback")
        h.rpc("broker.ping").then(boom)
        h.reactor_run()
    """)
    assert r.returncode == 1
    assert "RuntimeError: from callback" in r.stderr


def test_streaming_rpc_with_then_and_reset(instance):
    """job-info.eventlog-watch streams one response per event until the job
    is clean, then ENODATA, as flux-core scripts read it."""
    wait_until_running(instance)
    out = lines_of(py(instance, """
        import errno, json, flux, flux.job
        from flux.constants import FLUX_RPC_STREAMING
        h = flux.Flux()
        jobid = flux.job.submit(h, flux.job.JobspecV1.from_command(["true"]))
        names = []
        def on_event(f):
            try:
                event = json.loads(f.get()["event"])
            except OSError as e:
                print("end", e.errno == errno.ENODATA)
                return
            names.append(event["name"])
            f.reset()
        h.rpc("job-info.eventlog-watch", {"id": jobid, "path": "eventlog", "flags": 0},
              flags=FLUX_RPC_STREAMING).then(on_event)
        h.reactor_run()
        print(names[0], names[-1], "start" in names)
    """))
    assert out == ["end True", "submit clean True"]


def test_watchers(instance):
    """Timer (one-shot and repeating), fd, signal and message watchers, all
    created stopped, driven by one reactor_run."""
    out = lines_of(py(instance, """
        import os, signal, flux
        from flux.constants import FLUX_MSGTYPE_EVENT
        h = flux.Flux()
        ticks = []
        def tick(h, w, revents, args):
            ticks.append(args)
            if len(ticks) == 3:
                w.stop()
                r, wfd = os.pipe()
                fdw = h.fd_watcher_create(r, on_read, args=r)
                fdw.start()
                h.kept = fdw
                os.write(wfd, b"x")
                os.close(wfd)
        def on_read(h, w, fd, revents, args):
            print("read", os.read(args, 10))
            w.stop()
            os.close(args)
            sw = h.signal_watcher_create(signal.SIGUSR1, on_signal)
            sw.start()
            h.kept = sw
            os.kill(os.getpid(), signal.SIGUSR1)
        def on_signal(h, w, signum, args):
            print("signal", signum == signal.SIGUSR1)
            w.stop()
            h.event_subscribe("pytest.")
            mw = h.msg_watcher_create(on_event, FLUX_MSGTYPE_EVENT, "pytest.*")
            mw.start()
            h.kept = mw
            h.event_send("pytest.hello", {"n": 5})
        def on_event(h, w, msg, args):
            print("event", msg.topic, msg.payload["n"])
            w.stop()
        t = h.timer_watcher_create(0.001, tick, repeat=0.001, args="tick")
        t.start()
        print("rc", h.reactor_run())
        print(ticks)
        once = h.timer_watcher_create(0.001, lambda h, w, r, a: print("once"))
        with once:
            h.reactor_run()
    """))
    assert out == [
        "read b'x'",
        "signal True",
        "event pytest.hello 5",
        "rc 0",
        "['tick', 'tick', 'tick']",
        "once",
    ]


def test_service_registered_from_python(instance):
    """A Python service answers other clients' requests (and errors),
    served by a message watcher on its own handle."""
    out = lines_of(py(instance, """
        import errno, threading, flux
        from flux.constants import FLUX_MSGTYPE_REQUEST
        h = flux.Flux()
        h.service_register("pysvc").get()
        def serve(h, w, msg, args):
            if msg.topic == "pysvc.add":
                p = msg.payload
                h.respond(msg, {"sum": p["a"] + p["b"], "userid": msg.userid == os.getuid()})
            elif msg.topic == "pysvc.stop":
                h.respond(msg, {})
                h.reactor_stop()
            else:
                h.respond_error(msg, errno.EPROTO, "unknown method")
        import os
        w = h.msg_watcher_create(serve, FLUX_MSGTYPE_REQUEST, "pysvc.*")
        w.start()
        def client():
            c = flux.Flux()
            print(c.rpc("pysvc.add", {"a": 2, "b": 3}).get())
            try:
                c.rpc("pysvc.frob").get()
            except OSError as e:
                print(e.errno == errno.EPROTO, e.strerror)
            c.rpc("pysvc.stop").get()
        t = threading.Thread(target=client)
        t.start()
        h.reactor_run()
        t.join()
        h.service_unregister("pysvc").get()
        try:
            flux.Flux().rpc("pysvc.add", {"a": 1, "b": 1}).get()
        except OSError as e:
            print("gone", e.errno == errno.ENOSYS)
    """))
    assert out == ["{'sum': 5, 'userid': True}", "True unknown method", "gone True"]


def test_events_subscribe_send_recv(instance):
    out = lines_of(py(instance, """
        import flux
        h = flux.Flux()
        h.event_subscribe("pyev.")
        h.event_send("pyev.one", {"k": "v"})
        h.event_send("other.topic")
        h.event_send("pyev.two")
        m = h.event_recv()
        print(m.topic, m.payload)
        m = h.event_recv()
        print(m.topic, m.payload)
        h.event_unsubscribe("pyev.")
    """))
    assert out == ["pyev.one {'k': 'v'}", "pyev.two None"]


FLUX_CORE_SCRIPT = """
import concurrent.futures
import flux
import flux.job
from flux.job import FluxExecutor, JobspecV1

h = flux.Flux()
jobspec = JobspecV1.from_command(["true"])
futures = [flux.job.submit_async(h, jobspec, waitable=True) for _ in range(100)]
jobids = [f.get_id() for f in futures]
waits = [flux.job.wait_async(h, jobid) for jobid in jobids]
results = [w.get_status() for w in waits]
print(sum(1 for r in results if r.success), "of", len(results), "succeeded")
print(sorted(r.jobid for r in results) == sorted(jobids))

jobs = flux.job.job_list(h, max_entries=1000, attrs=["result", "state"]).get_jobs()
mine = [job for job in jobs if job["id"] in set(jobids)]
print(len(mine), set(flux.job.JobInfo(job).result for job in mine))
for job in flux.job.JobList(h, ids=jobids[:3]).jobs():
    print(job.result, job.state, job.returncode, job.success)

fail = flux.job.submit(h, JobspecV1.from_command(["sh", "-c", "exit 3"]))
print(flux.job.result(h, fail).returncode)
names = [event.name for event in flux.job.event_watch(h, fail)]
print(names[0], names[-1], [n for n in names if n in ("alloc", "start", "finish")])
print(flux.job.event_wait(h, fail, "finish").context["status"])
try:
    flux.job.event_wait(h, fail, "no-such-event")
except OSError as e:
    print("event_wait", e.errno)

with FluxExecutor() as executor:
    futs = [executor.submit(JobspecV1.from_command(["sh", "-c", f"exit {i}"]))
            for i in range(3)]
    done, _ = concurrent.futures.wait(futs)
    print([f.result() for f in futs], all(isinstance(f.jobid(), int) for f in futs))
"""


def test_a_flux_core_job_script_runs_unchanged(instance, tmp_path):
    """Submit 100 jobs with submit_async, wait for all with wait_async,
    results from job_list, one job's eventlog, FluxExecutor."""
    wait_until_running(instance)
    script = tmp_path / "jobs.py"
    script.write_text(FLUX_CORE_SCRIPT)
    out = lines_of(instance.run("python", str(script), timeout=120))
    assert out == [
        "100 of 100 succeeded",
        "True",
        "100 {'COMPLETED'}",
        "COMPLETED INACTIVE 0 True",
        "COMPLETED INACTIVE 0 True",
        "COMPLETED INACTIVE 0 True",
        "3",
        "submit clean ['alloc', 'start', 'finish']",
        "768",
        "event_wait 61",
        "[0, 1, 2] True",
    ]


def test_job_control_and_bad_input(instance):
    wait_until_running(instance)
    out = lines_of(py(instance, """
        import errno, json, signal, flux, flux.job
        from flux.job import JobspecV1, JobID
        h = flux.Flux()
        js = JobspecV1.from_command(["sleep", "300"])
        a = flux.job.submit(h, js)
        flux.job.event_wait(h, a, "start")
        flux.job.kill(h, a, signal.SIGTERM)
        print(flux.job.result(h, a).result)
        b = flux.job.submit(h, js, urgency=0)
        flux.job.cancel(h, b, "not today")
        info = flux.job.result(h, b)
        print(info.result, info.exception.type, info.exception.note)
        c = flux.job.submit(h, js)
        flux.job.job_raise(h, c, "test", 0, "raised")
        print(flux.job.result(h, c).exception.type)
        try:
            flux.job.submit(h, json.dumps({"version": 1, "resources": []}))
        except OSError as e:
            print("bad jobspec", e.errno == errno.EINVAL)
        try:
            flux.job.kill(h, JobID(12345), signal.SIGTERM)
        except OSError as e:
            print("no such job", errno.errorcode[e.errno])
        try:
            flux.job.wait(h, a)
        except OSError as e:
            print("not waitable", e.errno)
        j = JobID(a)
        same = {JobID(j.f58), JobID(j.dec), JobID(j.hex), JobID(j.dothex), JobID(j.kvs),
                JobID(j.words), JobID(j.emoji), JobID(str(j))}
        print(same == {j}, j.kvs.startswith("job."), j.f58.startswith("ƒ"))
        print(JobID("ƒ2").dec, JobID(1).words, JobID(1).dothex, JobID("0x10").dec)
    """, timeout=60))
    assert out == [
        "FAILED",
        "CANCELED cancel not today",
        "test",
        "bad jobspec True",
        "no such job ENOENT",
        f"not waitable {__import__('errno').EINVAL}",
        "True True True",
        "1 acrobat-academy-academy--academy-academy-academy 0000.0000.0000.0001 16",
    ]


def test_a_dead_broker_is_an_oserror(instance):
    """A script whose broker goes away gets OSError(ECONNRESET) from its
    next RPC, not a crash of the interpreter."""
    p = instance.popen("python", "-c", textwrap.dedent("""
        import errno, sys, flux
        h = flux.Flux()
        h.rpc("broker.ping").get()
        print("connected", flush=True)
        sys.stdin.readline()
        try:
            h.rpc("broker.ping").get()
        except OSError as e:
            print("error", errno.errorcode[e.errno], flush=True)
    """), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "connected"
        instance.stop()
        out, err = p.communicate("go\n", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out.strip() in ("error ECONNRESET", "error EPIPE", "error ENOTCONN"), out + err


def test_idset_and_hostlist(instance):
    out = lines_of(py(instance, """
        from flux.idset import IDset, IDSET_FLAG_BRACKETS, IDSET_FLAG_RANGE
        from flux.hostlist import Hostlist
        a = IDset("0-3,7")
        print(a, repr(a), len(a), list(a), 7 in a, 8 in a)
        print(a.encode(flags=0), a.encode(IDSET_FLAG_BRACKETS | IDSET_FLAG_RANGE))
        print(a | IDset([5, 6]), a & "2-9", a - "1", a.union("10", [11]))
        big = IDset("0-4000000000")
        print(len(big), big.last(), IDset("[1-3]"), IDset(5))
        c = IDset()
        c[3] = True
        c.set(10, 12).clear(11)
        c += "20"
        print(c, c.expand(), c.next(10))
        try:
            IDset("3-1")
        except ValueError as e:
            print("ValueError")
        hl = Hostlist("foo[1-3],bar")
        print(hl, len(hl), hl[0], hl[-1], hl[1:3], hl.index("foo2"), hl.index("bar,foo1"))
        hl.append("foo[4-5]")
        hl.sort()
        print(hl, Hostlist(["a1", "a2", "a1"]).uniq(), "foo5" in hl)
    """))
    assert out == [
        "0-3,7 IDset('0-3,7') 5 [0, 1, 2, 3, 7] True False",
        "0,1,2,3,7 [0-3,7]",
        "0-3,5-7 2-3,7 0,2-3,7 0-3,7,10-11",
        "4000000001 4000000000 1-3 5",
        "3,10,12,20 [3, 10, 12, 20] 12",
        "ValueError",
        "foo[1-3],bar 4 foo1 bar foo[2-3] [1] [3, 0]",
        "bar,foo[1-5] a[1-2] True",
    ]


def test_core_stubs_match_the_module():
    """flux/_core.pyi names exactly what flux._core exports (classes and
    their methods), so editors complete what is really there."""
    import ast
    import json
    from conftest import BUILD, flux

    stub = next((BUILD / "lib").rglob("flux/_core.pyi"))
    stubbed = {}
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, ast.ClassDef):
            members = [n.name for n in node.body if isinstance(n, ast.FunctionDef)]
            members += [n.target.id for n in node.body if isinstance(n, ast.AnnAssign)]
            stubbed[node.name] = sorted(m for m in members if not m.startswith("__"))
        elif isinstance(node, ast.FunctionDef):
            stubbed[node.name] = None
        elif isinstance(node, ast.AnnAssign):
            stubbed[node.target.id] = None
    r = flux("python", "-c", textwrap.dedent("""
        import json, flux._core as c
        names = {}
        for name in dir(c):
            if name.startswith("_"):
                continue
            obj = getattr(c, name)
            names[name] = (sorted(n for n in vars(obj) if not n.startswith("_"))
                           if isinstance(obj, type) else None)
        print(json.dumps(names))
    """))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == stubbed
    assert (stub.parent / "py.typed").exists()


def test_messages_futureext_and_a_service_answering_its_own_handle(instance):
    """flux-core's Message (built, sent, decoded), FutureExt fulfilled from
    RPC callbacks, a streaming service answering requests from the very
    handle that registered it, and reset() dropping an unread response."""
    out = lines_of(py(instance, """
        import errno, os, flux
        from flux.constants import (FLUX_MSGTYPE_REQUEST, FLUX_MSGTYPE_RESPONSE,
                                    FLUX_RPC_STREAMING, FLUX_ROLE_OWNER, FLUX_ROLE_LOCAL)
        from flux.future import FutureExt
        from flux.message import Message
        h = flux.Flux()
        m = Message()
        m.topic = "x.y"
        m.payload = {"a": 1}
        print(m.type_str, m.decode(), m.userid == 0xFFFFFFFF, m.rolemask)
        h.service_register("selfsvc").get()
        def serve(h, w, msg, arg):
            if msg.topic == "selfsvc.multi":
                for i in range(msg.payload["count"]):
                    h.respond(msg, {"seq": i})
            else:
                h.respond(msg, msg.payload_str)
        w = h.msg_watcher_create(serve, FLUX_MSGTYPE_REQUEST, "selfsvc.*")
        w.start()
        got = []
        def on_response(h, w, msg, arg):
            got.append((msg.decode(), msg.rolemask == FLUX_ROLE_OWNER | FLUX_ROLE_LOCAL))
            h.reactor_stop()
        rw = h.msg_watcher_create(on_response, FLUX_MSGTYPE_RESPONSE, "selfsvc.*")
        rw.start()
        m.topic = "selfsvc.echo"
        print(h.send(m), h.reactor_run() >= 0, got)
        rw.stop()
        seen = []
        def on_stream(f):
            seen.append(len(seen))  # never reads the value: reset drops it
            if len(seen) == 3:
                f.get_flux().reactor_stop()
            f.reset()
        h.rpc("selfsvc.multi", {"count": 3}, flags=FLUX_RPC_STREAMING).then(on_stream)
        h.reactor_run()
        w.stop()
        print(seen)
        class Ping3(FutureExt):
            def __init__(self, h):
                super().__init__(self.start, flux_handle=h)
            def start(self, fut):
                fut.get_flux().rpc("broker.ping", {"seq": 1}).then(self.step, fut)
            def step(self, f, outer):
                seq = f.get()["seq"]
                if seq == 3:
                    outer.fulfill({"seq": seq})
                else:
                    f.get_flux().rpc("broker.ping", {"seq": seq + 1}).then(self.step, outer)
        print(Ping3(h).get())
        def done(f, tag):
            print(tag, f.get()["seq"])
            f.get_flux().reactor_stop()  # the open stream above stays active
        Ping3(h).then(done, "async")
        h.reactor_run()
        bad = FutureExt(lambda f: f.fulfill_error(errno.EINVAL, "nope"))
        try:
            bad.get()
        except OSError as e:
            print("error", e.errno == errno.EINVAL, e.strerror)
        try:
            f = h.rpc("broker.ping")
            f.then(lambda f: None)
            f.then(lambda f: None)
        except OSError as e:
            print("double then", errno.errorcode[e.errno])
    """))
    assert out == [
        "request (1, 'x.y', '{\"a\": 1}') True 0",
        "0 True [((2, 'selfsvc.echo', '{\"a\": 1}'), True)]",
        "[0, 1, 2]",
        "{'seq': 3}",
        "async 3",
        "error True nope",
        "double then EEXIST",
    ]


def test_a_then_callback_may_wait_for_another_rpc(instance):
    """A blocking get() inside an RPC's then() callback (flux-core scripts
    do this) runs the reactor again instead of deadlocking."""
    out = lines_of(py(instance, """
        import flux
        h = flux.Flux()
        def cb(f):
            print(f.get()["seq"], h.rpc("broker.ping", {"seq": 2}).get()["seq"],
                  h.reactor_running())
        h.rpc("broker.ping", {"seq": 1}).then(cb)
        print("rc", h.reactor_run(), h.reactor_running())
    """))
    assert out == ["1 2 True", "rc 0 False"]


def test_error_texts_are_flux_core_s(instance):
    """An error without a message of its own reads as flux-core's bindings
    put it ("ENOENT: No such file or directory")."""
    out = lines_of(py(instance, """
        import flux, flux.kvs
        h = flux.Flux()
        for call in (lambda: h.event_unsubscribe("never.subscribed"),
                     lambda: flux.kvs.get(h, "no.such.key"),
                     lambda: h.rpc("nosuch.x").get()):
            try:
                call()
            except OSError as e:
                print(e.strerror)
    """))
    assert out == ["ENOENT: No such file or directory", "ENOENT: No such file or directory",
                   "No service matching nosuch.x is registered"]


def test_an_instance_run_as_a_job_names_it_and_posts_its_uri(instance, tmp_path):
    """A nested instance started by a job: its jobid attribute and
    FLUX_ENCLOSING_ID name the job, the job's FLUX_JOB_ID doesn't leak into
    its initial program, and the job's memo holds its URI, which
    flux.uri's jobid: resolver finds while the job runs (as flux-core's)."""
    wait_until_running(instance)
    go = tmp_path / "go"
    inner = ("flux getattr jobid; echo enc=$FLUX_ENCLOSING_ID job=${FLUX_JOB_ID:-none}; "
             f"flux getattr instance-level; until [ -e {go} ]; do sleep 0.05; done")
    jobid = instance.run("submit", "flux", "start", "sh", "-c", inner).stdout.strip()
    try:
        assert instance.run("job", "wait-event", "-t", "30", jobid, "memo").returncode == 0
        r = py(instance, f"""
            import flux.uri
            resolver = flux.uri.FluxURIResolver()
            uri = str(resolver.resolve("jobid:{jobid}"))
            print(uri.startswith("ssh://"), uri.endswith("/local-0"))
            print(str(resolver.resolve("jobid:{jobid}?local")).startswith("local://"))
        """)
        assert lines_of(r) == ["True True", "True"]
    finally:
        go.touch()
    assert instance.run("job", "wait-event", "-t", "30", jobid, "clean").returncode == 0
    out = instance.run("job", "attach", jobid).stdout.splitlines()
    f58 = instance.run("job", "id", "--to=f58", jobid).stdout.strip()
    assert out == [f58, f"enc={f58} job=none", "1"]
