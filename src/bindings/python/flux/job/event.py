"""Watching a job's eventlogs (job-info.eventlog-watch)."""

import errno

from flux.constants import FLUX_RPC_NORESPONSE, FLUX_RPC_STREAMING
from flux.eventlog import EventLogEvent
from flux.rpc import RPC

MAIN_EVENTS = frozenset(
    {"submit", "depend", "priority", "flux-restart", "urgency", "alloc", "free", "start",
     "release", "finish", "clean", "debug", "exception"}
)


class JobEventWatchFuture(RPC):
    """The stream of a job eventlog's entries; get_event() gives the next
    (None once the eventlog is complete), cancel() stops the watch."""

    def get_event(self, autoreset=True):
        try:
            payload = self.get()
        except OSError as exc:
            if exc.errno == errno.ENODATA:
                return None
            raise
        event = EventLogEvent(payload["event"])
        if autoreset:
            self.reset()
        return event

    def cancel(self, stop=False):
        self.flux_handle.rpc("job-info.eventlog-watch-cancel",
                             {"matchtag": self._core.matchtag()}, flags=FLUX_RPC_NORESPONSE)
        if stop:
            self.stop()


def _job_id(jobid):
    """JOBID as an int; TypeError if it is none, OverflowError if it does
    not fit a job id's 64 bits."""
    jobid = int(jobid)
    if not 0 <= jobid < 1 << 64:
        raise OverflowError(f"job id {jobid} does not fit in 64 unsigned bits")
    return jobid


def event_watch_async(flux_handle, jobid, eventlog="eventlog"):
    if flux_handle is None:
        raise EnvironmentError(errno.EINVAL, "flux handle must not be None")
    payload = {"id": _job_id(jobid), "path": eventlog, "flags": 0}
    return JobEventWatchFuture(flux_handle, "job-info.eventlog-watch", payload,
                               flags=FLUX_RPC_STREAMING)


def event_watch(flux_handle, jobid, eventlog="eventlog"):
    """Each entry of the job's eventlog, as it is written, until it ends."""
    watcher = event_watch_async(flux_handle, jobid, eventlog)
    event = watcher.get_event()
    while event is not None:
        yield event
        event = watcher.get_event()


class JobException(Exception):
    """A job's fatal 'exception' event, raised."""

    def __init__(self, event):
        self.timestamp = event.timestamp
        self.type = event.context["type"]
        self.note = event.context.get("note", "")
        self.severity = event.context["severity"]
        super().__init__()

    def __str__(self):
        return f"job.exception: type={self.type}: {self.note}"


def event_wait(flux_handle, jobid, name, eventlog="eventlog", raiseJobException=True):
    """The first entry called `name`; JobException on a fatal exception
    before it, OSError(ENODATA) if the eventlog ends without it."""
    watcher = event_watch_async(flux_handle, jobid, eventlog)
    for event in iter(watcher.get_event, None):
        if event.name == name:
            watcher.cancel()
            return event
        if raiseJobException and event.name == "exception" and event.context["severity"] == 0:
            watcher.cancel()
            raise JobException(event)
    raise OSError(errno.ENODATA, f"eventlog ended before event='{name}'")
