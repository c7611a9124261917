"""A job's standard output and error (RFC 24 "guest.output" eventlog):
fetched whole (job_output) or followed as it is written, as events,
chunks or lines, synchronously (generators) or from the reactor (_async
forms, futures whose callbacks get each item)."""

import base64
import errno
import os
from collections import deque
from typing import NamedTuple

from flux.eventlog import EventLogEvent
from flux.idset import IDset
from flux.job.event import JobException, event_wait, event_watch, event_watch_async
from flux.job.JobID import JobID
from flux.job.kvslookup import job_kvs_lookup

# Job shell log levels (for log_stderr_level).
LOG_QUIET = -1
LOG_FATAL = 0
LOG_ERROR = 3
LOG_WARN = 4
LOG_NOTICE = 5
LOG_DEBUG = 6
LOG_TRACE = 7


class Taskset:
    """A set of task ranks, or all of them ("all" or "*")."""

    def __init__(self, tasks):
        if isinstance(tasks, Taskset):
            self.all, self.ids = tasks.all, None if tasks.all else tasks.ids.copy()
        elif isinstance(tasks, IDset):
            self.all, self.ids = False, tasks.copy()
        elif tasks in ("all", "*"):
            self.all, self.ids = True, None
        else:
            self.all, self.ids = False, IDset(tasks)

    def intersect(self, tasks):
        tasks = tasks if isinstance(tasks, Taskset) else Taskset(tasks)
        if self.all:
            return Taskset(tasks)
        if tasks.all:
            return Taskset(self)
        return Taskset(self.ids.intersect(tasks.ids))

    def __bool__(self):
        return self.all or len(self.ids) > 0

    def __str__(self):
        return "all" if self.all else str(self.ids)


class OutputEvent(EventLogEvent):
    """A "data" event: `stream` ("stdout"/"stderr"), `rank` (Taskset),
    `data` (str, None for a bare EOF), `eof` (bool)."""

    def __init__(self, entry, labelio=False):
        super().__init__(entry)
        if self.name != "data":
            raise ValueError(f"event {self.name} is not a data event")
        ctx = self.context
        self.rank = Taskset(ctx["rank"])
        self.stream = ctx["stream"]
        self.eof = bool(ctx.get("eof", False))
        self.data = None
        if "data" in ctx:
            data = ctx["data"]
            if ctx.get("encoding") == "base64":
                data = base64.b64decode(data).decode("utf-8", errors="surrogateescape")
            data *= ctx.get("repeat", 1)
            if labelio:
                data = "".join(f"{self.rank}: {line}\n" for line in data.splitlines())
            self.data = data

    def render(self):
        return self.data


class LogEvent(EventLogEvent):
    """A job shell "log" event: level (and levelstr), rank, message, and
    component, file, line when given."""

    _LEVELS = ["FATAL", "FATAL", "FATAL", "ERROR", " WARN", "", "DEBUG", "TRACE"]

    def __init__(self, entry):
        super().__init__(entry)
        if self.name != "log":
            raise ValueError(f"event {self.name} is not a log event")
        ctx = self.context
        self.level = ctx["level"]
        self.rank = Taskset(ctx["rank"])
        self.message = ctx["message"]
        self.component = ctx.get("component")
        self.file = ctx.get("file")
        self.line = ctx.get("line", -1)

    @property
    def levelstr(self):
        return self._LEVELS[self.level]

    def render(self, include_file_and_line=False):
        prefix = f"flux-shell[{self.rank}]: "
        if self.levelstr:
            prefix += f"{self.levelstr}: "
        if self.component:
            prefix += f"{self.component}: "
        if include_file_and_line and self.file:
            prefix += f"{self.file}:{self.line}: "
        return prefix + self.message


class OutputHeaderEvent(EventLogEvent):
    """The "header" event: version, stdout/stderr stream counts and
    encodings."""

    def __init__(self, entry):
        super().__init__(entry)
        if self.name != "header":
            raise ValueError(f"event {self.name} is not a header event")
        ctx = self.context
        self.version = ctx["version"]
        self.stdout_count = ctx["count"]["stdout"]
        self.stderr_count = ctx["count"]["stderr"]
        self.stdout_encoding = ctx["encoding"]["stdout"]
        self.stderr_encoding = ctx["encoding"]["stderr"]

    def render(self):
        return None


class RedirectEvent(EventLogEvent):
    """A "redirect" event: the tasks `rank` send `stream` to file `path`."""

    def __init__(self, entry):
        super().__init__(entry)
        if self.name != "redirect":
            raise ValueError(f"event {self.name} is not a redirect event")
        self.stream = self.context["stream"]
        self.rank = Taskset(self.context["rank"])
        self.path = self.context["path"]

    def render(self):
        return f"{self.rank}: {self.stream} redirected to {self.path}"


class JobExceptionEvent(EventLogEvent):
    """A job "exception" event (from the main eventlog), shown on stderr."""

    def __init__(self, entry):
        super().__init__(entry)
        if self.name != "exception":
            raise ValueError(f"event {self.name} is not an exception event")
        self.severity = self.context["severity"]
        self.exc_type = self.context["type"]
        self.note = self.context.get("note", "")

    def render(self):
        text = f"job.exception: type={self.exc_type} severity={self.severity}"
        return f"{text} {self.note}" if self.note else text


class JobOutput(NamedTuple):
    """A job's whole output: stdout, stderr and log text."""

    stdout: str
    stderr: str
    log: str


_EVENT_TYPES = {
    "data": OutputEvent,
    "log": LogEvent,
    "header": OutputHeaderEvent,
    "redirect": RedirectEvent,
    "exception": JobExceptionEvent,
}


def _parse_entry(entry, labelio=False):
    """The typed event for an output eventlog entry (dict, str or event)."""
    if entry is None:
        return None
    event = entry if isinstance(entry, EventLogEvent) else EventLogEvent(entry)
    cls = _EVENT_TYPES.get(event.name)
    if cls is None:
        raise ValueError(f"event {event.name} is not a supported output event type")
    return cls(event, labelio) if cls is OutputEvent else cls(event)


def _stream_of(event, tasks, log_stderr_level):
    """Where an event's text goes in a JobOutput (None: nowhere)."""
    if event.name == "data":
        return event.stream if event.rank.intersect(tasks) else None
    if event.name == "log":
        return "stderr" if event.level <= log_stderr_level else "log"
    if event.name == "redirect":
        return "stderr" if event.rank.intersect(tasks) else None
    if event.name == "exception":
        return "stderr"
    return None


class _Collector:
    """Gathers rendered output events into stdout, stderr and log."""

    def __init__(self, tasks, labelio, log_stderr_level):
        self.tasks = Taskset(tasks)
        self.labelio = labelio
        self.log_stderr_level = log_stderr_level
        self.streams = {"stdout": [], "stderr": [], "log": []}

    def add(self, entry):
        event = _parse_entry(entry, self.labelio)
        stream = _stream_of(event, self.tasks, self.log_stderr_level)
        text = event.render() if stream else None
        if text:
            if event.name != "data":
                text += "\n"
            self.streams[stream].append(text)

    def result(self):
        return JobOutput(*("".join(self.streams[k]) for k in ("stdout", "stderr", "log")))


def job_output(flux_handle, jobid, tasks="*", labelio=False, nowait=False,
               log_stderr_level=LOG_TRACE):
    """The job's output as JobOutput(stdout, stderr, log), waiting for the
    job to finish writing it.

    tasks: only these task ranks (an idset string; default all).
    labelio: prefix each line with "RANK: ".
    nowait: what is there now; FileNotFoundError if nothing is yet.
    log_stderr_level: shell log messages at or below this level go to
        stderr, the rest to log (LOG_QUIET: all to log).
    Raises FileNotFoundError for an unknown job, JobException if the job
    failed before it started.
    """
    jobid = JobID(jobid)
    out = _Collector(tasks, labelio, log_stderr_level)
    if nowait:
        data = job_kvs_lookup(flux_handle, jobid, keys=["guest.output"])
        if data is None:
            raise FileNotFoundError(errno.ENOENT,
                                    f"job {jobid} does not exist or output not ready")
        for line in data["guest.output"].splitlines():
            if line.strip():
                out.add(line)
        return out.result()
    try:
        # The first shell writes the output header before shell.init.
        event_wait(flux_handle, jobid, "shell.init", "guest.exec.eventlog")
    except OSError:
        # No shell ever ran: report the job's fatal exception if it has one.
        event = event_wait(flux_handle, jobid, "exception")
        if event.context["severity"] == 0:
            raise JobException(event) from None
        raise
    for event in event_watch(flux_handle, jobid, "guest.output"):
        out.add(event)
    return out.result()


class _ChainFuture:
    """A future fulfilled from Python, possibly many times: each fulfill()
    queues a value; get() returns the oldest, reset() drops it. The last
    value (fulfill(..., end=True), or any error) stays: get() keeps
    returning it, the then() callback gets it once. then(cb) calls
    cb(self, ...) for each value, from the reactor. The work that feeds
    the future (`init`) starts at the first get() or then(), as flux-core's
    composite futures do; cancel() ends it early."""

    _END = None  # the last value a cancel() gives

    def __init__(self, flux_handle, init, *init_args):
        self.flux_handle = flux_handle
        self._init = (init, init_args)
        self._results = deque()
        self._end = None  # (value, OSError or None) once the stream ended
        self._head_seen = False  # the then() callback had the oldest value
        self._end_seen = False  # ... had the end
        self._then = None  # (callback, args, kwargs, timeout)
        self._pending = None  # timer watcher that will run the callback
        self._timeout = None  # timer watcher for then(timeout=)
        self._children = []  # the futures feeding this one, still streaming
        self._in_callback = False

    def get_flux(self):
        return self.flux_handle

    def _start(self):
        if self._init is not None:
            init, args = self._init
            self._init = None
            init(self, *args)

    def fulfill(self, value=None, end=False):
        if self._end is not None:
            return
        if end:
            self._end = (value, None)
            self._cancel_children()
        else:
            self._results.append(value)
        self._schedule()

    def fulfill_error(self, errnum=errno.EINVAL, errstr=None):
        if self._end is None:
            self._end = (None, OSError(errnum, errstr or os.strerror(errnum)))
            self._cancel_children()
            self._schedule()

    def cancel(self, stop=False):
        """Stop following: the watches feeding this future end, and so
        does it (with what came so far, then the end). stop=True: no more
        callbacks either."""
        self._init = None
        self.fulfill(self._END, end=True)
        if stop:
            self.stop()

    def _follow(self, child, callback):
        """Feed this future from `child` (a streaming future) via callback."""
        self._children.append(child)
        child.then(callback)

    def _done(self, child, cancel=False):
        """`child` streams no more (or no longer matters: cancel it)."""
        if child in self._children:
            self._children.remove(child)
            if cancel:
                child.cancel(stop=True)

    def _cancel_children(self):
        children, self._children = self._children, []
        for child in children:
            child.cancel(stop=True)

    def is_ready(self):
        return bool(self._results) or self._end is not None

    def wait_for(self, timeout=-1.0):
        """Wait for a value, at most `timeout` seconds (<0: forever);
        OSError ETIMEDOUT if none came (the future goes on)."""
        self._start()
        expired = []
        watcher = None
        if timeout is not None and timeout >= 0 and not self.is_ready():
            def expire(handle, w, revents, args):
                w.stop()
                expired.append(True)
            watcher = self.flux_handle.timer_watcher_create(timeout, expire).start()
        try:
            while not self.is_ready() and not expired:
                if not self.flux_handle._core.run_one():
                    raise OSError(errno.EDEADLK, "nothing left to fulfill the future")
        finally:
            if watcher is not None:
                watcher.stop()
        if not self.is_ready():
            raise OSError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT))
        return self

    def get(self):
        """The oldest value, waiting for one; OSError if it is an error."""
        self.wait_for()
        if self._results:
            return self._results[0]
        value, error = self._end
        if error is not None:
            raise error
        return value

    def reset(self):
        """Drop the oldest value: get() then returns (or waits for) the next."""
        if self._results:
            self._results.popleft()
            self._head_seen = False
        self._schedule()

    def then(self, callback, *args, timeout=-1.0, **kwargs):
        if callback is None:
            raise ValueError("Callback cannot be None")
        self._then = (callback, args, kwargs, -1.0 if timeout is None else timeout)
        self._start()
        self._schedule()
        return self

    def stop(self):
        """Call the then() callback no more."""
        self._then = None
        self._stop_timer("_pending")
        self._stop_timer("_timeout")

    def _stop_timer(self, name):
        watcher = getattr(self, name)
        if watcher is not None:
            watcher.stop()
            setattr(self, name, None)

    def _schedule(self):
        """Arrange the callback for the next value, or the then() timeout."""
        if self._then is None or self._in_callback:
            return
        if self._unseen():
            self._stop_timer("_timeout")
            if self._pending is None:
                self._pending = self.flux_handle.timer_watcher_create(0.0, self._fire).start()
        elif self._end is None and not self._results and self._timeout is None \
                and self._then[3] >= 0:
            def expire(handle, w, revents, args):
                self._stop_timer("_timeout")
                self.fulfill_error(errno.ETIMEDOUT)
            self._timeout = self.flux_handle.timer_watcher_create(self._then[3], expire).start()

    def _unseen(self):
        """Whether the callback has a value to get: it gets each once."""
        if self._results:
            return not self._head_seen
        return self._end is not None and not self._end_seen

    def _fire(self, handle, watcher, revents, args):
        self._stop_timer("_pending")
        if self._then is None or not self._unseen():
            return
        if self._results:
            self._head_seen = True
        else:
            self._end_seen = True
        callback, cb_args, kwargs, _ = self._then
        self._in_callback = True  # a callback that blocks runs the reactor:
        try:  # the next value waits for it to return rather than nest
            callback(self, *cb_args, **kwargs)
        finally:
            self._in_callback = False
        self._schedule()


class JobOutputEventWatch(_ChainFuture):
    """The job's output events as they are written; get_event() returns
    the next (OutputEvent, LogEvent, OutputHeaderEvent, RedirectEvent or
    JobExceptionEvent) or None at the end. See output_event_watch_async."""

    def __init__(self, flux_handle, jobid, labelio=False, nowait=False):
        self.jobid = JobID(jobid)
        self.labelio = labelio
        self.nowait = nowait
        self.started = False  # the job's main eventlog has 'start'
        self.finished = False  # ... and 'finish'
        self.closed = False  # the output eventlog is complete
        super().__init__(flux_handle, self._watch_init)

    def get_event(self, autoreset=True):
        entry = self.get()
        if entry is None:
            return None
        if autoreset:
            self.reset()
        return _parse_entry(entry, labelio=self.labelio)

    def _watch_init(self, _self):
        if self.nowait:
            self._watch("guest.output", self._on_output)
        else:
            # The main eventlog: wait for 'start', report exceptions.
            self._watch("eventlog", self._on_main)

    def _watch(self, eventlog, callback):
        self._follow(event_watch_async(self.flux_handle, self.jobid, eventlog=eventlog),
                     callback)

    def _next(self, future, errmsg=None):
        """The child's next event; None (and the child done) at its end,
        or on an error, which ends this future too."""
        try:
            event = future.get_event()
        except OSError as exc:
            self._done(future)
            self.fulfill_error(exc.errno, errmsg(exc) if errmsg else exc.strerror)
            return None
        if event is None:
            self._done(future)
        return event

    def _end_if_done(self):
        # The end needs both: all output, and 'finish' (so that every
        # exception before it has been reported).
        if self.closed and (self.finished or self.nowait):
            self.fulfill(None, end=True)

    def _not_found(self, exc):
        return f"job {self.jobid} not found" if exc.errno == errno.ENOENT else exc.strerror

    def _on_main(self, future):
        event = self._next(future, self._not_found)
        if event is None:
            if self._end is None and not self.started:
                self.fulfill_error(errno.EIO, f"job {self.jobid} never started")
        elif event.name == "exception":
            self.fulfill(event)
        elif event.name == "start":
            self.started = True
            self._watch("guest.exec.eventlog", self._on_exec)
        elif event.name == "finish":
            self.finished = True
            self._done(future, cancel=True)  # later exceptions are not reported
            self._end_if_done()

    def _on_exec(self, future):
        # The output eventlog exists once the shell has posted shell.init.
        try:
            event = future.get_event()
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                self._done(future)
                self.fulfill_error(exc.errno, exc.strerror)
                return
            event = None  # the job ended before its shell wrote anything
        if event is None:
            # No shell.init: no output will come.
            self._done(future)
            self.closed = True
            self._end_if_done()
        elif event.name == "shell.init":
            self._done(future, cancel=True)
            self._watch("guest.output", self._on_output)

    def _on_output(self, future):
        event = self._next(future)
        if event is not None:
            self.fulfill(event)
        elif self._end is None:
            self.closed = True
            self._end_if_done()


def _is_output(event):
    """Whether an output event makes text for output_watch."""
    if event.name == "data":
        return event.data is not None
    return event.name in ("log", "redirect", "exception")


class JobOutputWatch(_ChainFuture):
    """The job's output as (stream, text) chunks; get_output() returns the
    next, (None, None) at the end. See output_watch_async."""

    def __init__(self, flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE,
                 nowait=False):
        self.jobid = JobID(jobid)
        self.labelio = labelio
        self.log_stderr_level = log_stderr_level
        self.nowait = nowait
        super().__init__(flux_handle, self._watch_init)

    _END = (None, None)

    def _watch_init(self, _self):
        self._follow(JobOutputEventWatch(self.flux_handle, self.jobid, labelio=self.labelio,
                                         nowait=self.nowait), self._on_event)

    def _on_event(self, future):
        try:
            event = future.get_event()
        except OSError as exc:
            self._done(future)
            self.fulfill_error(exc.errno, exc.strerror)
            return
        if event is None:
            self._done(future)
            self.fulfill((None, None), end=True)
        elif event.name == "data":
            if event.data is not None:
                self.fulfill((event.stream, event.render()))
        elif _is_output(event):
            stream = "stderr"
            if event.name == "log" and event.level > self.log_stderr_level:
                stream = "log"
            self.fulfill((stream, event.render() + "\n"))

    def get_output(self):
        """The next (stream, data): stream is "stdout", "stderr" or "log";
        (None, None) once there is no more output."""
        result = self.get()
        self.reset()
        return result


class JobOutputWatchLines(_ChainFuture):
    """The job's output as (stream, line); getline() returns the next,
    (None, None) at the end. See output_watch_lines_async."""

    def __init__(self, flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE,
                 nowait=False, keepends=False):
        self.jobid = JobID(jobid)
        self.labelio = labelio
        self.log_stderr_level = log_stderr_level
        self.nowait = nowait
        self.keepends = keepends
        super().__init__(flux_handle, self._watch_init)

    _END = (None, None)

    def _watch_init(self, _self):
        self._follow(JobOutputWatch(self.flux_handle, self.jobid, labelio=self.labelio,
                                    log_stderr_level=self.log_stderr_level,
                                    nowait=self.nowait), self._on_output)

    def _on_output(self, future):
        try:
            stream, data = future.get_output()
        except OSError as exc:
            self._done(future)
            self.fulfill_error(exc.errno, exc.strerror)
            return
        if data is None:
            self._done(future)
            self.fulfill((None, None), end=True)
            return
        for line in data.splitlines(keepends=self.keepends):
            self.fulfill((stream, line))

    def getline(self):
        """The next (stream, line); (None, None) once there is no more."""
        result = self.get()
        self.reset()
        return result


def output_event_watch_async(flux_handle, jobid, labelio=False, nowait=False):
    """Follow the job's output events: a JobOutputEventWatch future whose
    get_event() gives each event, None at the end.

    It waits for the job to start; a job that ends without starting
    fulfills it with OSError EIO "job ID never started" (after its
    exception events), an unknown job with ENOENT. nowait=True reads the
    output eventlog at once, without waiting for the job to start.
    labelio prefixes data lines with "RANK: "."""
    return JobOutputEventWatch(flux_handle, jobid, labelio=labelio, nowait=nowait)


def output_watch_async(flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE,
                       nowait=False):
    """Follow the job's output as (stream, data) chunks: a JobOutputWatch
    future, read with get_output(). Exceptions and redirections appear as
    messages on stderr; shell log messages above log_stderr_level on the
    "log" stream. Errors as output_event_watch_async."""
    return JobOutputWatch(flux_handle, jobid, labelio=labelio,
                          log_stderr_level=log_stderr_level, nowait=nowait)


def output_watch_lines_async(flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE,
                             nowait=False, keepends=False):
    """As output_watch_async, one (stream, line) at a time (getline());
    keepends keeps the line endings. A line written in parts may come as
    several lines."""
    return JobOutputWatchLines(flux_handle, jobid, labelio=labelio,
                               log_stderr_level=log_stderr_level, nowait=nowait,
                               keepends=keepends)


def output_event_watch(flux_handle, jobid, labelio=False, nowait=False):
    """Each output event of the job as it is written (a generator)."""
    watcher = output_event_watch_async(flux_handle, jobid, labelio=labelio, nowait=nowait)
    for event in iter(watcher.get_event, None):
        yield event


def output_watch(flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE, nowait=False):
    """Each (stream, data) chunk of the job's output as it is written."""
    watcher = output_watch_async(flux_handle, jobid, labelio=labelio,
                                 log_stderr_level=log_stderr_level, nowait=nowait)
    stream, data = watcher.get_output()
    while data is not None:
        yield stream, data
        stream, data = watcher.get_output()


def output_watch_lines(flux_handle, jobid, labelio=False, log_stderr_level=LOG_TRACE,
                       nowait=False, keepends=False):
    """Each (stream, line) of the job's output as it is written."""
    watcher = output_watch_lines_async(flux_handle, jobid, labelio=labelio,
                                       log_stderr_level=log_stderr_level, nowait=nowait,
                                       keepends=keepends)
    stream, line = watcher.getline()
    while line is not None:
        yield stream, line
        stream, line = watcher.getline()
