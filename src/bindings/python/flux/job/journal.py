"""Following every job's events in one stream (job-manager.events-journal),
as a tool that tracks all jobs (a job database, a monitor) does."""

import errno
import time
from collections import deque

from flux.constants import FLUX_RPC_NORESPONSE, FLUX_RPC_STREAMING
from flux.eventlog import EventLogEvent
from flux.job.JobID import JobID


class JournalEvent(EventLogEvent):
    """One job event from the journal: jobid, name, timestamp, context
    (and context_string); jobspec (redacted, RFC 25) on submit events and
    R (RFC 20) on alloc events, else None. The empty event (jobid -1) is
    the sentinel that ends the historical events."""

    def __init__(self, jobid, event, jobspec=None, R=None):
        event = dict(event)
        # Events the job-manager keeps out of the eventlog (volatile memos)
        # may come without a real time: they happen now.
        if not event.get("timestamp"):
            event["timestamp"] = time.time()
        super().__init__(event)
        self.jobid = JobID(jobid)
        self.jobspec = None
        self.R = None
        if self.is_empty():
            return
        if self.name == "submit":
            self.jobspec = jobspec
        elif self.name == "alloc":
            self.R = R

    def is_empty(self):
        """True for the sentinel (the end of the historical events)."""
        return self.jobid == -1

    def __str__(self):
        if self.is_empty():
            return "-1: End of historical data stream"
        words = [f"{self.jobid.f58}:", f"{self.timestamp:<0.5f}", self.name,
                 self.context_string]
        if self.jobspec:
            words.append(f"jobspec={self.jobspec}")
        if self.R:
            words.append(f"R={self.R}")
        return " ".join(word for word in words if word)


SENTINEL_EVENT = JournalEvent(-1, {})
"""The event poll() or the callback gets between the historical events and
the live ones when the consumer has include_sentinel=True."""


def _entries(resp):
    """(jobid, entry, jobspec, R) for each event of a journal response.

    Our job-manager batches events of many jobs:
        {"events": [{"id", "eventlog_seq", "entry", "jobspec"?, "R"?}, ...]}
    flux-core's sends one job per response:
        {"id", "events": [entry, ...], "jobspec"?, "R"?}
    Both are read."""
    if "id" in resp:
        jobid = resp["id"]
        return [(jobid, entry, resp.get("jobspec"), resp.get("R")) for entry in resp["events"]]
    return [(item["id"], item["entry"], item.get("jobspec"), item.get("R"))
            for item in resp["events"]]


class JournalConsumer:
    """Consume the job-manager's journal: every event of every job.

    start() sends the request; then either poll(timeout) returns the next
    JournalEvent, or set_callback(cb, *args, **kwargs) has cb(event, ...)
    called from the reactor (run it with flux_handle.reactor_run()).
    stop() ends the stream: the events already received still come, then
    poll() returns None; the callback is not called for the end (as in
    flux-core), the consumer just leaves the reactor nothing to wait for.

    full=True (the default) first replays the events of every job the
    job-manager knows, ordered by time, before the live ones. Events at or
    before `since` (a timestamp of an event seen earlier) are skipped.
    include_sentinel=True returns SENTINEL_EVENT between the replayed and
    the live events.
    """

    SENTINEL_EVENT = SENTINEL_EVENT

    def __init__(self, flux_handle, full=True, since=0.0, include_sentinel=False):
        self.handle = flux_handle
        self.topic = "job-manager.events-journal"
        self.cancel_topic = "job-manager.events-journal-cancel"
        self.full = full
        self.since = since
        self.include_sentinel = include_sentinel
        self.rpc = None
        self.backlog = deque()
        self.processing_inactive = full  # still reading the replayed events
        self.cb = None
        self.cb_args = ()
        self.cb_kwargs = {}
        self._stopped = False
        self._flush_watcher = None
        self._flushing = False
        self._then_set = False

    @property
    def request_payload(self):
        return {"full": self.full}

    # -- the stream ---------------------------------------------------------

    def start(self):
        """Send the journal request (again, if already started)."""
        if self.rpc is not None:
            self.rpc.stop()
        self.backlog.clear()
        self.processing_inactive = self.full
        self._stopped = False
        self.rpc = self.handle.rpc(self.topic, self.request_payload, 0, FLUX_RPC_STREAMING)
        self._then_set = False
        if self.cb is not None:
            self._set_then()
        return self

    def stop(self):
        """End the stream; the events already received are still returned,
        then None."""
        if self.rpc is None or self._stopped:
            return
        self.handle.rpc(self.cancel_topic, {"matchtag": self.rpc._core.matchtag()}, 0,
                        FLUX_RPC_NORESPONSE)
        # Our job-manager has no cancel method yet (it ends a listener when
        # its client disconnects), so the end is made here rather than
        # waited for: nothing after this point is read.
        self._stopped = True
        self.rpc.stop()
        self._end_history()
        self.backlog.append(None)
        if self.cb is not None:
            self._flush_soon()

    def _end_history(self):
        """The replayed events are all here: order them by time."""
        if not self.processing_inactive:
            return
        self.processing_inactive = False
        self.backlog = deque(sorted(self.backlog, key=lambda event: event.timestamp))
        if self.include_sentinel:
            self.backlog.append(self.SENTINEL_EVENT)

    def _take(self, resp):
        """Queue the events of one response (None: the stream ended)."""
        if resp is None:
            self.backlog.append(None)
            return
        if self.processing_inactive and not resp["events"]:
            self._end_history()
            return
        for jobid, entry, jobspec, R in _entries(resp):
            event = JournalEvent(jobid, entry, jobspec=jobspec, R=R)
            if event.timestamp > self.since:
                self.backlog.append(event)

    def _read(self, future):
        """One response from the stream into the backlog."""
        try:
            resp = future.get()
        except OSError as exc:
            if exc.errno != errno.ENODATA:
                raise
            resp = None
        self._take(resp)
        if resp is not None:
            future.reset()

    # -- synchronous --------------------------------------------------------

    def poll(self, timeout=-1.0):
        """The next event, waiting at most `timeout` seconds (<0: forever);
        None once the stream has ended. TimeoutError if none came in time;
        RuntimeError before start()."""
        if self.rpc is None:
            raise RuntimeError("poll() called before start()")
        while not self.backlog or self.processing_inactive:
            if self._stopped:
                break
            try:
                self.rpc.wait_for(timeout)
            except OSError as exc:
                if exc.errno == errno.ETIMEDOUT:
                    raise TimeoutError("timed out waiting for a journal event") from None
                raise
            self._read(self.rpc)
        return self.backlog.popleft() if self.backlog else None

    # -- asynchronous -------------------------------------------------------

    def set_callback(self, event_cb, *args, **kwargs):
        """Call event_cb(event, *args, **kwargs) for each event, from the
        reactor."""
        self.cb = event_cb
        self.cb_args = args
        self.cb_kwargs = kwargs
        if self.rpc is not None and not self._stopped:
            self._set_then()
        return self

    def _set_then(self):
        # Once per request: _on_response calls whatever self.cb is then.
        if not self._then_set:
            self._then_set = True
            self.rpc.then(self._on_response)

    def _on_response(self, future):
        self._read(future)
        # From a timer, not from here: a callback may then make blocking
        # RPCs (flux.job.submit, ...), which an RPC's then() callback
        # cannot do on our bindings yet.
        self._flush_soon()

    def _flush(self):
        """Hand the queued events to the callback, once history is sorted."""
        if self.processing_inactive or self._flushing:
            return  # a callback blocking on an RPC ran the reactor: not nested
        self._flushing = True
        try:
            # The end (None) stays queued, for poll().
            while self.backlog and self.backlog[0] is not None and self.cb is not None:
                self.cb(self.backlog.popleft(), *self.cb_args, **self.cb_kwargs)
        finally:
            self._flushing = False

    def _flush_soon(self):
        """Run _flush from the reactor, on its own."""
        if self._flush_watcher is not None or self._flushing:
            return  # already due, or running (it takes what is queued)

        def fire(handle, watcher, revents, args):
            watcher.stop()
            self._flush_watcher = None
            self._flush()

        self._flush_watcher = self.handle.timer_watcher_create(0.0, fire).start()
