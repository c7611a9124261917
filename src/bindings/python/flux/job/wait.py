"""Waiting for jobs: wait() for waitable jobs (job-manager.wait), and
result() for any job (its eventlog up to the end)."""

import collections

from flux.job.JobID import JobID
from flux.rpc import RPC

FLUX_JOBID_ANY = 0xFFFFFFFFFFFFFFFF

JobWaitResult = collections.namedtuple("JobWaitResult", "jobid, success, errstr")


class JobWaitFuture(RPC):
    def get_status(self):
        """(jobid, success, errstr) once the job is inactive."""
        r = self.get()
        return JobWaitResult(int(r["id"]), bool(r["success"]), r.get("errstr", ""))


def wait_async(flux_handle, jobid=FLUX_JOBID_ANY):
    return JobWaitFuture(flux_handle, "job-manager.wait", {"id": int(jobid)})


def wait_get_status(future):
    return future.get_status()


def wait(flux_handle, jobid=FLUX_JOBID_ANY):
    """Wait for a waitable job (any, by default) to end."""
    return wait_async(flux_handle, jobid).get_status()


class JobResultFuture:
    """The result of a job: its eventlog read to the end (flux_job_result)."""

    def __init__(self, flux_handle, jobid):
        from flux.job.event import event_watch_async

        self.flux_handle = flux_handle
        self.jobid = JobID(jobid)
        self._watch = event_watch_async(flux_handle, jobid)
        self._result = None
        self._then = None

    def _collect(self, event):
        r = self._result
        if event.name == "submit":
            r["t_submit"] = event.timestamp
        elif event.name == "alloc":
            r["t_run"] = event.timestamp  # overwritten by start
        elif event.name == "start":
            r["t_run"] = event.timestamp
        elif event.name == "exception" and event.context.get("severity", 0) == 0:
            r.setdefault("exception_occurred", True)
            r["exception_type"] = event.context.get("type")
            r["exception_note"] = event.context.get("note", "")
            r["exception_severity"] = 0
        elif event.name == "finish":
            r["waitstatus"] = event.context.get("status", 0)
        elif event.name == "clean":
            r["t_cleanup"] = event.timestamp

    def _finish(self):
        r = self._result
        r.setdefault("exception_occurred", False)
        if "waitstatus" in r:
            status = r["waitstatus"]
            if r["exception_occurred"]:
                result = "TIMEOUT" if r.get("exception_type") == "timeout" else "FAILED"
                if r.get("exception_type") == "cancel":
                    result = "CANCELED"
            else:
                result = "COMPLETED" if status == 0 else "FAILED"
        else:
            result = "CANCELED" if r.get("exception_type") == "cancel" else "FAILED"
        names = {"COMPLETED": 1, "FAILED": 2, "CANCELED": 4, "TIMEOUT": 8}
        r["result"] = names[result]
        return r

    def get_dict(self):
        if self._result is None:
            self._result = {"id": int(self.jobid)}
            while True:
                event = self._watch.get_event()
                if event is None:
                    break
                self._collect(event)
            self._finish()
        return self._result

    def get_info(self):
        from flux.job.info import JobInfo

        return JobInfo(self.get_dict())

    def get(self):
        return self.get_dict()

    def then(self, callback, *args, **kwargs):
        """callback(self, *args, **kwargs) once the job's eventlog has ended."""
        self._result = {"id": int(self.jobid)}

        def on_event(fut):
            event = fut.get_event(autoreset=False)
            if event is None:
                self._finish()
                callback(self, *args, **kwargs)
                return
            self._collect(event)
            fut.reset()

        self._watch.then(on_event)
        return self


def result_async(flux_handle, jobid, flags=0):
    return JobResultFuture(flux_handle, jobid)


def result(flux_handle, jobid, flags=0):
    """A JobInfo with the job's result (waits for the job to end)."""
    return result_async(flux_handle, jobid).get_info()
