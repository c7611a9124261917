"""flux.job beyond submit/wait/list, as flux-core's Python API has it: job
KVS lookups (job_info_lookup, job_kvs_lookup, JobKVSLookup), the job's KVS
directories (job_kvs, job_kvs_guest), timeleft, job output (job_output and
the output watchers, sync and async) and the job-manager journal
(JournalConsumer). Each test is one instance and one script printing what
it checks; the test compares the lines exactly."""

import textwrap

from conftest import wait_until_running

# Shared by the scripts: a handle, JobspecV1, and a held-job helper.
PRELUDE = """
import errno, json, os, subprocess
import flux, flux.job
from flux.job import JobspecV1, submit
from flux.constants import FLUX_JOB_URGENCY_DEFAULT, FLUX_JOB_URGENCY_HOLD
h = flux.Flux()

def release(jobid):
    h.rpc("job-manager.urgency", {"id": int(jobid), "urgency": FLUX_JOB_URGENCY_DEFAULT}).get()

def append(jobid, log, name, context):
    key = "job." + flux.job.JobID(jobid).dothex + "." + log
    r = subprocess.run(["flux", "kvs", "eventlog", "append", key, name, json.dumps(context)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
"""


def run_script(inst, code):
    r = inst.run("python", "-c", PRELUDE + textwrap.dedent(code), timeout=60)
    assert r.returncode == 0, f"script failed:\n{r.stdout}\n{r.stderr}"
    return r.stdout.splitlines()


def test_kvs_lookup_kvs_dirs_and_timeleft(instance):
    wait_until_running(instance)
    out = run_script(instance, """
        os.environ.pop("FLUX_JOB_ID", None)
        js = JobspecV1.from_command(["true"])
        js.environment = {"FOO": "BAR"}
        jid = submit(h, js, waitable=True)
        jid2 = submit(h, JobspecV1.from_command(["hostname"]), waitable=True)
        flux.job.wait(h, jid)
        flux.job.wait(h, jid2)

        # job_info_lookup: values as stored, get_decode() parses jobspec and R
        rpc = flux.job.job_info_lookup(h, jid, keys=["jobspec", "R", "J"])
        raw = rpc.get()
        print("raw", raw["id"] == jid, [type(raw[k]).__name__ for k in ("jobspec", "R", "J")])
        dec = rpc.get_decode()
        print("dec", dec["jobspec"]["tasks"][0]["command"], dec["R"]["execution"]["R_lite"],
              type(dec["J"]).__name__)
        print("default keys", sorted(flux.job.job_info_lookup(h, jid).get()))
        for jobid, keys in ((123456789, ["jobspec"]), (jid, ["nosuchkey"])):
            try:
                flux.job.job_info_lookup(h, jobid, keys=keys).get()
            except FileNotFoundError:
                print("ENOENT", keys)

        # updates in the eventlog: job_kvs_lookup applies them unless base=True;
        # original=True gives the jobspec as submitted (from J)
        append(jid, "eventlog", "jobspec-update", {"attributes.system.duration": 100.0})
        append(jid, "eventlog", "resource-update", {"expiration": 12345.0})
        cur = flux.job.job_kvs_lookup(h, jid, keys=["jobspec", "R"])
        base = flux.job.job_kvs_lookup(h, jid, keys=["jobspec", "R"], base=True)
        print("duration", cur["jobspec"]["attributes"]["system"]["duration"],
              base["jobspec"]["attributes"]["system"]["duration"])
        print("expiration", cur["R"]["execution"]["expiration"],
              base["R"]["execution"]["expiration"])
        nodecode = flux.job.job_kvs_lookup(h, jid, decode=False)
        print("nodecode", type(nodecode["jobspec"]).__name__,
              json.loads(nodecode["jobspec"])["attributes"]["system"]["duration"])
        orig = flux.job.job_kvs_lookup(h, jid, original=True)
        print("original", sorted(orig), orig["jobspec"]["attributes"]["system"]["duration"],
              orig["jobspec"]["attributes"]["system"]["environment"])
        orig = flux.job.job_kvs_lookup(h, jid, keys=["jobspec", "J"], original=True,
                                       decode=False)
        print("original+J", sorted(orig), type(orig["jobspec"]).__name__,
              orig["J"].endswith(".none"))
        print("missing", flux.job.job_kvs_lookup(h, 123456789),
              flux.job.job_kvs_lookup(h, jid, keys=["nosuchkey"]))

        # many jobs at once; unknown ones land in errors
        lookup = flux.job.JobKVSLookup(h, [jid, jid2, 123456789])
        data = lookup.data()
        print("multi", [d["id"] for d in data] == [jid, jid2],
              [d["jobspec"]["tasks"][0]["command"][0] for d in data], lookup.errors)
        data = flux.job.JobKVSLookup(h, [jid2], keys=["R"], decode=False).data()
        print("multi nodecode", sorted(data[0]), type(data[0]["R"]).__name__)
        got = []
        def all_done(f):
            got.append(len(f.get_decode()))
            got.append(f.errors)
        flux.job.JobKVSLookup(h, [jid, 123456789]).fetch_data().then(all_done)
        h.reactor_run()
        print("then", got)

        # the job's KVS directories
        kd = flux.job.job_kvs(h, jid)
        print("job_kvs", kd.path == "job." + flux.job.JobID(jid).dothex,
              {"J", "R", "eventlog", "guest", "jobspec"} <= set(kd),
              kd["jobspec"]["tasks"][0]["command"])
        gd = flux.job.job_kvs_guest(h, jid)
        print("guest", gd.path.endswith(".guest"), {"exec", "output"} <= set(gd),
              gd["output"].splitlines()[0].count('"header"'))
        try:
            flux.job.job_kvs(h, 123456789)
        except FileNotFoundError:
            print("job_kvs ENOENT")
        os.environ["FLUX_KVS_NAMESPACE"] = "primary"
        print("guest in namespace", "job" in flux.job.job_kvs_guest(h, jid))
        del os.environ["FLUX_KVS_NAMESPACE"]

        # timeleft: the instance has no limit, an ended job none left
        print("timeleft", flux.job.timeleft(h), flux.job.timeleft(h, jid),
              flux.job.timeleft(jobid=jid2))
        for bad in (123456789, "notajobid"):
            try:
                flux.job.timeleft(h, bad)
            except OSError as e:
                print("timeleft error", e.errno, e.strerror.replace(str(flux.job.JobID(123456789)), "ID"))
        held = submit(h, JobspecV1.from_command(["true"]), urgency=FLUX_JOB_URGENCY_HOLD)
        try:
            flux.job.timeleft(h, held)
        except OSError as e:
            print("pending", e.errno, e.strerror == f"job {flux.job.JobID(held)} has not started")
        flux.job.cancel(h, held)
        js = JobspecV1.from_command(["sleep", "300"])
        js.duration = 100
        running = submit(h, js)
        # job-list, which timeleft asks, has seen the job run
        h.rpc("job-list.list-id", {"id": running, "attrs": [], "state": 16}).get()
        left = flux.job.timeleft(h, running)
        print("running", 90 < left <= 100)
        flux.job.cancel(h, running)
        # in a job: FLUX_JOB_ID says which
        code = "import flux.job; print(flux.job.timeleft())"
        js = JobspecV1.from_command(["flux", "python", "-c", code])
        js.duration = 100
        inside = flux.job.job_output(h, submit(h, js))
        print("inside", 90 < float(inside.stdout) <= 100, inside.stderr)
        inside = flux.job.job_output(h, submit(h, JobspecV1.from_command(["flux", "python", "-c", code])))
        print("inside unlimited", inside.stdout.strip(), inside.stderr)
    """)
    assert out == [
        "raw True ['str', 'str', 'str']",
        "dec ['true'] [{'children': {'core': '0'}, 'rank': '0'}] str",
        "default keys ['id', 'jobspec']",
        "ENOENT ['jobspec']",
        "ENOENT ['nosuchkey']",
        "duration 100.0 0",
        "expiration 12345.0 0.0",
        "nodecode str 100.0",
        "original ['id', 'jobspec'] 0 {'FOO': 'BAR'}",
        "original+J ['J', 'id', 'jobspec'] str True",
        "missing None None",
        "multi True ['true', 'hostname'] ['JobID 123456789 unknown']",
        "multi nodecode ['R', 'id'] str",
        "then [1, ['JobID 123456789 unknown']]",
        "job_kvs True True ['true']",
        "guest True True 1",
        "job_kvs ENOENT",
        "guest in namespace True",
        "timeleft inf 0.0 0.0",
        "timeleft error 2 ID: no such jobid",
        "timeleft error 22 failed to parse jobid notajobid",
        "pending 22 True",
        "running True",
        "inside True ",
        "inside unlimited inf ",
    ]


def test_job_output_and_watchers(instance):
    wait_until_running(instance)
    out = run_script(instance, r"""
        def job(cmd, ntasks=1, **kw):
            js = JobspecV1.from_command(["sh", "-c", cmd], num_tasks=ntasks)
            return submit(h, js, waitable=True, **kw)

        jid = job("printf 'line 1\nline 2\n'; printf 'err 1\n' >&2", ntasks=2)
        # the whole output, waiting for the job to finish
        print(flux.job.job_output(h, jid))
        print(flux.job.job_output(h, jid, tasks="1", labelio=True))
        print("nowait same", flux.job.job_output(h, jid, nowait=True) == flux.job.job_output(h, jid))
        # followed: lines, chunks, events
        print(sorted(flux.job.output_watch_lines(h, jid, labelio=True)))
        print(sorted(flux.job.output_watch_lines(h, jid, keepends=True)))
        chunks = {}
        for stream, data in flux.job.output_watch(h, jid):
            chunks[stream] = chunks.get(stream, "") + data
        print(sorted(chunks.items()))  # streams may arrive in either order
        events = list(flux.job.output_event_watch(h, jid))
        print(events[0].name, events[0].version, events[0].stdout_count, events[0].stderr_encoding)
        print("data", sorted((e.stream, str(e.rank), e.data or "", e.eof) for e in events[1:]))

        # async: all three watchers in one reactor run; a callback may block
        res = {}
        def on_chunk(f, name):
            stream, data = f.get_output()
            res.setdefault(name, []).append((stream, data))
            h.rpc("broker.ping").get()
        def on_line(f):
            res.setdefault("lines", []).append(f.getline())
        def on_event(f):
            event = f.get_event()
            res.setdefault("events", []).append(event and event.name)
        jid = job("echo a; echo b >&2")
        watch = flux.job.output_watch_async(h, jid)
        print(type(watch).__name__)
        watch.then(on_chunk, "chunks", timeout=30)
        flux.job.output_watch_lines_async(h, jid).then(on_line)
        flux.job.output_event_watch_async(h, jid).then(on_event)
        print("reactor", h.reactor_run())
        print(sorted(res["chunks"][:-1]), res["chunks"][-1])
        print(sorted(res["lines"][:-1]), res["lines"][-1])
        print(res["events"][0], res["events"].count("data"), res["events"][-1])

        # a pending job: the watch waits for it to start
        jid = job("echo later", urgency=FLUX_JOB_URGENCY_HOLD)
        watch = flux.job.output_watch_lines_async(h, jid)
        try:
            watch.wait_for(0.1)
        except TimeoutError:
            print("pending: no output yet")
        release(jid)
        print(watch.getline(), watch.getline(), watch.getline())
        # nowait watch of a finished job
        print(list(flux.job.output_watch_lines(h, jid, nowait=True)))

        # a job whose shell fails before writing any output: the watch ends
        js = JobspecV1.from_command(["true"])
        js.stdout = "/nonexistent/dir/x.out"
        jid = submit(h, js)
        lines = list(flux.job.output_watch_lines(h, jid))
        print("no shell", [line for line in lines if line[0] == "stdout"])

        # then(timeout=) ends the watch; the reactor returns
        jid = job("true", urgency=FLUX_JOB_URGENCY_HOLD)
        got = []
        def on_timeout(f):
            try:
                f.get_output()
            except OSError as e:
                got.append(e.errno)
        flux.job.output_watch_async(h, jid).then(on_timeout, timeout=0.1)
        print("timeout", h.reactor_run(), got == [errno.ETIMEDOUT])

        # a job canceled before it started
        flux.job.cancel(h, jid)
        f58 = str(flux.job.JobID(jid))
        try:
            flux.job.job_output(h, jid)
        except flux.job.JobException as e:
            print("JobException", e.type)
        lines = []
        try:
            for item in flux.job.output_watch(h, jid):
                lines.append(item)
        except OSError as e:
            print("never started", lines, e.errno, e.strerror == f"job {f58} never started")
        try:
            flux.job.job_output(h, jid, nowait=True)
        except FileNotFoundError as e:
            print("nowait", e.strerror == f"job {f58} does not exist or output not ready")

        # an unknown job
        for call in (lambda: flux.job.job_output(h, 123456789),
                     lambda: list(flux.job.output_event_watch(h, 123456789)),
                     lambda: list(flux.job.output_watch_lines(h, 123456789))):
            try:
                call()
            except FileNotFoundError as e:
                print("unknown", e.strerror.replace(str(flux.job.JobID(123456789)), "ID"))

        # every RFC 24 event kind (written by hand): base64 and repeat data,
        # shell log messages by level, a redirect
        jid = job("true")
        flux.job.wait(h, jid)
        append(jid, "guest.output", "data",
               {"stream": "stdout", "rank": "0", "data": "aGkK", "encoding": "base64",
                "repeat": 2})
        append(jid, "guest.output", "log", {"level": 3, "rank": "0", "message": "oops"})
        append(jid, "guest.output", "log",
               {"level": 6, "rank": "0", "message": "detail", "component": "comp"})
        append(jid, "guest.output", "redirect",
               {"stream": "stderr", "rank": "0", "path": "/tmp/x.err"})
        print(flux.job.job_output(h, jid, nowait=True))
        print(flux.job.job_output(h, jid, nowait=True, log_stderr_level=flux.job.output.LOG_ERROR))
        print(flux.job.job_output(h, jid, nowait=True, labelio=True,
                                  log_stderr_level=flux.job.output.LOG_QUIET))
    """)
    assert out == [
        "JobOutput(stdout='line 1\\nline 2\\nline 1\\nline 2\\n', stderr='err 1\\nerr 1\\n', log='')",
        "JobOutput(stdout='1: line 1\\n1: line 2\\n', stderr='1: err 1\\n', log='')",
        "nowait same True",
        "[('stderr', '0: err 1'), ('stderr', '1: err 1'), ('stdout', '0: line 1'), "
        "('stdout', '0: line 2'), ('stdout', '1: line 1'), ('stdout', '1: line 2')]",
        "[('stderr', 'err 1\\n'), ('stderr', 'err 1\\n'), ('stdout', 'line 1\\n'), "
        "('stdout', 'line 1\\n'), ('stdout', 'line 2\\n'), ('stdout', 'line 2\\n')]",
        "[('stderr', 'err 1\\nerr 1\\n'), ('stdout', 'line 1\\nline 2\\nline 1\\nline 2\\n')]",
        "header 1 2 UTF-8",
        "data [('stderr', '0', '', True), ('stderr', '0', 'err 1\\n', False), "
        "('stderr', '1', '', True), ('stderr', '1', 'err 1\\n', False), "
        "('stdout', '0', '', True), ('stdout', '0', 'line 1\\nline 2\\n', False), "
        "('stdout', '1', '', True), ('stdout', '1', 'line 1\\nline 2\\n', False)]",
        "JobOutputWatch",
        "reactor 0",
        "[('stderr', 'b\\n'), ('stdout', 'a\\n')] (None, None)",
        "[('stderr', 'b'), ('stdout', 'a')] (None, None)",
        "header 4 None",
        "pending: no output yet",
        "('stdout', 'later') (None, None) (None, None)",
        "[('stdout', 'later')]",
        "no shell []",
        "timeout 0 True",
        "JobException cancel",
        "never started [('stderr', 'job.exception: type=cancel severity=0\\n')] 5 True",
        "nowait True",
        "unknown job ID not found",
        "unknown job ID not found",
        "unknown job ID not found",
        "JobOutput(stdout='hi\\nhi\\n', stderr='flux-shell[0]: ERROR: oops\\n"
        "flux-shell[0]: DEBUG: comp: detail\\n0: stderr redirected to /tmp/x.err\\n', log='')",
        "JobOutput(stdout='hi\\nhi\\n', stderr='flux-shell[0]: ERROR: oops\\n"
        "0: stderr redirected to /tmp/x.err\\n', log='flux-shell[0]: DEBUG: comp: detail\\n')",
        "JobOutput(stdout='0: hi\\n0: hi\\n', stderr='0: stderr redirected to /tmp/x.err\\n', "
        "log='flux-shell[0]: ERROR: oops\\nflux-shell[0]: DEBUG: comp: detail\\n')",
    ]


def test_journal_consumer(instance):
    wait_until_running(instance)
    out = run_script(instance, """
        from flux.job import JournalConsumer
        from flux.job.journal import SENTINEL_EVENT
        ids = [submit(h, JobspecV1.from_command(["true"]), waitable=True) for _ in range(3)]
        for jobid in ids:
            flux.job.wait(h, jobid)
        NAMES = ["submit", "validate", "depend", "priority", "alloc", "start", "finish",
                 "release", "free", "clean"]

        # history: every event of every job, ordered by time
        consumer = JournalConsumer(h).start()
        events = []
        while sum(e.name == "clean" for e in events) < 3:
            events.append(consumer.poll(timeout=10.0))
        consumer.stop()
        print("history", len(events), sorted(set(int(e.jobid) for e in events)) == sorted(ids),
              all(a.timestamp <= b.timestamp for a, b in zip(events, events[1:])))
        print("per job", all([e.name for e in events if e.jobid == j] == NAMES for j in ids))
        print("jobspec/R", all((e.jobspec is not None) == (e.name == "submit")
                               and (e.R is not None) == (e.name == "alloc") for e in events))
        submit_ev = events[0]
        print("submit", submit_ev.jobspec["tasks"][0]["command"],
              "environment" in submit_ev.jobspec["attributes"]["system"],
              submit_ev.context["urgency"])
        print("str", str(submit_ev).startswith(f"{submit_ev.jobid.f58}: "),
              "jobspec=" in str(submit_ev),
              "R=" in str([e for e in events if e.name == "alloc"][0]))
        print("after stop", consumer.poll(1.0), consumer.poll(1.0))

        # since: only the events after a timestamp
        consumer = JournalConsumer(h, since=events[9].timestamp).start()
        later = [consumer.poll(timeout=10.0) for _ in range(len(events) - 10)]
        consumer.stop()
        print("since", later == events[10:])

        # the sentinel between history and live events
        print("sentinel", SENTINEL_EVENT.is_empty(), str(SENTINEL_EVENT))
        consumer = JournalConsumer(h, include_sentinel=True).start()
        names = []
        while True:
            event = consumer.poll(timeout=10.0)
            if event.is_empty():
                break
            names.append(event.name)
        print("before sentinel", len(names) == len(events), event is SENTINEL_EVENT)
        consumer.stop()

        # live events to a callback, which may submit jobs itself; once
        # stopped, the consumer leaves the reactor nothing to run
        got = []
        def on_event(event, tag, kw=None):
            assert (tag, kw) == ("tag", 1)
            if event.is_empty():
                got.append("sentinel")
                got.append(submit(h, JobspecV1.from_command(["true"])))
            elif got and event.jobid == got[1]:
                got.append(event.name)
                if event.name == "clean":
                    consumer.stop()
        consumer = JournalConsumer(h, include_sentinel=True)
        consumer.set_callback(on_event, "tag", kw=1)  # before start() works too
        consumer.start()
        print("reactor", h.reactor_run())
        print("live", got[0], got[2:] == NAMES, consumer.poll(1.0))

        # full=False: no history; poll times out until something happens
        consumer = JournalConsumer(h, full=False).start()
        try:
            consumer.poll(timeout=0.1)
        except TimeoutError:
            print("nonfull timeout")
        jobid = submit(h, JobspecV1.from_command(["true"]))
        event = consumer.poll(timeout=10.0)
        print("nonfull", event.name, event.jobid == jobid)
        consumer.stop()
        try:
            JournalConsumer(h).poll()
        except RuntimeError as e:
            print("RuntimeError", e)
    """)
    assert out == [
        "history 30 True True",
        "per job True",
        "jobspec/R True",
        "submit ['true'] False 16",
        "str True True True",
        "after stop None None",
        "since True",
        "sentinel True -1: End of historical data stream",
        "before sentinel True True",
        "reactor 0",
        "live sentinel True None",
        "nonfull timeout",
        "nonfull submit True",
        "RuntimeError poll() called before start()",
    ]
