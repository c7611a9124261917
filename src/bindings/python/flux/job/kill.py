"""Signalling and cancelling jobs (job-manager.kill, job-manager.raise)."""

import signal

from flux.rpc import RPC


def kill_async(flux_handle, jobid, signum=None):
    signum = signal.SIGTERM if signum is None else signum
    return RPC(flux_handle, "job-manager.kill", {"id": int(jobid), "signum": int(signum)})


def kill(flux_handle, jobid, signum=None):
    return kill_async(flux_handle, jobid, signum).get()


def job_raise_async(flux_handle, jobid, type, severity, note=None):
    payload = {"id": int(jobid), "type": type, "severity": int(severity),
               "note": note or ""}
    return RPC(flux_handle, "job-manager.raise", payload)


def job_raise(flux_handle, jobid, type, severity, note=None):
    return job_raise_async(flux_handle, jobid, type, severity, note).get()


def cancel_async(flux_handle, jobid, reason=None):
    return job_raise_async(flux_handle, jobid, "cancel", 0, reason)


def cancel(flux_handle, jobid, reason=None):
    return cancel_async(flux_handle, jobid, reason).get()
