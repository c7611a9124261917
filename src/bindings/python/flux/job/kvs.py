"""A job's KVS directory (RFC 16 job.<id>) as a flux.kvs.KVSDir."""

import os

import flux.kvs
from flux.job.JobID import JobID


def _job_key(jobid):
    return "job." + JobID(jobid).dothex


def job_kvs(flux_handle, jobid):
    """The KVS directory of the job (job.<id>): jobspec, R, eventlog, ..."""
    return flux.kvs.get_dir(flux_handle, _job_key(jobid))


def job_kvs_guest(flux_handle, jobid):
    """The job's guest directory, which the job's own processes write
    (output, exec eventlog): job.<id>.guest, or the root of the guest
    namespace when running inside one (FLUX_KVS_NAMESPACE set)."""
    if os.environ.get("FLUX_KVS_NAMESPACE"):
        return flux.kvs.get_dir(flux_handle, ".")
    return flux.kvs.get_dir(flux_handle, _job_key(jobid) + ".guest")
