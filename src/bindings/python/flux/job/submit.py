"""Submitting jobs: submit_async() and submit() (job-ingest.submit)."""

import errno
import json
import os

from flux import _core
from flux.constants import (
    FLUX_JOB_DEBUG,
    FLUX_JOB_NOVALIDATE,
    FLUX_JOB_URGENCY_DEFAULT,
    FLUX_JOB_WAITABLE,
)
from flux.job.JobID import JobID
from flux.rpc import RPC

FLUX_JOB_PRE_SIGNED = 1


def _jobspec_string(jobspec):
    if jobspec is None:
        raise EnvironmentError(errno.EINVAL, "jobspec must not be None/NULL")
    if isinstance(jobspec, str):
        return jobspec
    if isinstance(jobspec, bytes):
        return jobspec.decode("utf-8")
    if hasattr(jobspec, "dumps"):
        return jobspec.dumps()
    if isinstance(jobspec, dict):
        return json.dumps(jobspec)
    raise TypeError("jobspec must be a Jobspec, dict or string, not {}".format(type(jobspec)))


class SubmitFuture(RPC):
    def get_id(self):
        """The new job's id (waits for the answer)."""
        return JobID(self.get()["id"])


def submit_async(flux_handle, jobspec, urgency=FLUX_JOB_URGENCY_DEFAULT, waitable=False,
                 debug=False, pre_signed=False, novalidate=False):
    """Submit a job; the future's get_id() gives its id."""
    if flux_handle is None:
        raise OSError(errno.EINVAL, "submit: no flux handle")
    spec = _jobspec_string(jobspec)
    flags = 0
    if waitable:
        flags |= FLUX_JOB_WAITABLE
    if debug:
        flags |= FLUX_JOB_DEBUG
    if novalidate:
        flags |= FLUX_JOB_NOVALIDATE
    signed = spec if pre_signed else _core.sign_none(spec, os.getuid())
    payload = {"J": signed, "urgency": int(urgency), "flags": flags}
    return SubmitFuture(flux_handle, "job-ingest.submit", payload)


def submit_get_id(future):
    if future is None:
        raise OSError(errno.EINVAL, "submit_get_id: no future")
    return future.get_id()


def submit(flux_handle, jobspec, urgency=FLUX_JOB_URGENCY_DEFAULT, waitable=False,
           debug=False, pre_signed=False, novalidate=False):
    """Submit a job and wait for its id."""
    return submit_async(flux_handle, jobspec, urgency, waitable, debug, pre_signed,
                        novalidate).get_id()
