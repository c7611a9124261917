"""How long the current job (or enclosing instance) has before its time
limit: what a batch script or long task checks to stop in time."""

import errno
import math
import os
import time

import flux
from flux.constants import FLUX_JOB_STATE_PENDING, FLUX_JOB_STATE_RUN
from flux.job.JobID import JobID


def _job_expiration(flux_handle, jobid, running=False):
    """The job's expiration from job-list (0.0: none). A job that is no
    longer running has none left: 1.0 makes the remaining time 0.
    running: the caller is one of the job's processes, so the job has
    started; job-list is asked to answer once it has seen that too."""
    payload = {"id": int(jobid), "attrs": ["expiration", "state"]}
    if running:
        payload["state"] = FLUX_JOB_STATE_RUN
    try:
        job = flux_handle.rpc("job-list.list-id", payload).get()["job"]
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise OSError(exc.errno, f"{jobid}: no such jobid") from None
        raise OSError(exc.errno, f"flux_job_list_id: {jobid}: {exc.strerror}") from None
    state = job["state"]
    if state & FLUX_JOB_STATE_PENDING:
        raise OSError(errno.EINVAL, f"job {jobid} has not started")
    if state != FLUX_JOB_STATE_RUN:
        return 1.0
    return float(job.get("expiration", 0.0))


def _instance_expiration(flux_handle):
    """The instance's expiration, from its R (0.0: none)."""
    try:
        R = flux_handle.rpc("resource.status").get()["R"]
        return float(R["execution"].get("expiration", 0.0))
    except (OSError, KeyError, TypeError) as exc:
        errnum = exc.errno if isinstance(exc, OSError) else errno.EPROTO
        raise OSError(errnum, "failed to get instance expiration") from None


def timeleft(flux_handle=None, jobid=None):
    """Seconds left before the time limit, as a float: of job `jobid`, else
    of the job this process belongs to (FLUX_JOB_ID), else of the instance
    `flux_handle` (default: the enclosing one) connects to. float("inf")
    when there is no limit, 0.0 once it is reached or the job has ended.
    OSError if the job does not exist or has not started."""
    if flux_handle is None:
        flux_handle = flux.Flux()
    in_job = jobid is None and "FLUX_JOB_ID" in os.environ
    if in_job:
        jobid = os.environ["FLUX_JOB_ID"]
    if jobid is not None:
        try:
            jobid = JobID(jobid)
        except ValueError:
            raise OSError(errno.EINVAL, f"failed to parse jobid {jobid}") from None
        expiration = _job_expiration(flux_handle, jobid, running=in_job)
    else:
        expiration = _instance_expiration(flux_handle)
    if expiration == 0.0:
        return math.inf
    return max(expiration - time.time(), 0.0)
