"""Reading a job's KVS data (jobspec, R, J, eventlogs, ...) through the
job-info.lookup service, which checks that the caller may see the job."""

import base64
import errno
import json

from flux.constants import FLUX_JOB_LOOKUP_CURRENT
from flux.job.JobID import JobID
from flux.rpc import RPC


# Keys whose values are JSON documents, decoded on request.
_JSON_KEYS = ("jobspec", "R")


def _decode_json_keys(data):
    """Turn the jobspec and R strings of a response into dicts, in place;
    a value that is not JSON text is left as it is."""
    for key in _JSON_KEYS:
        value = data.get(key)
        if isinstance(value, str):
            try:
                data[key] = json.loads(value)
            except ValueError:
                pass
    return data


class JobInfoLookupRPC(RPC):
    """A job-info.lookup answer: get() as stored (strings), get_decode()
    with jobspec and R as dicts. `jobid` is the job asked about."""

    jobid = None

    def get_decode(self):
        return _decode_json_keys(self.get())


def job_info_lookup(flux_handle, jobid, keys=("jobspec",), flags=0):
    """Ask job-info for `keys` of the job's KVS directory (an RPC)."""
    payload = {"id": int(jobid), "keys": list(keys), "flags": int(flags)}
    rpc = JobInfoLookupRPC(flux_handle, "job-info.lookup", payload)
    rpc.jobid = JobID(jobid)
    return rpc


def _lookup_keys(keys, original):
    """The keys to ask for: the original jobspec is read from J."""
    keys = list(keys)
    if original and "jobspec" in keys:
        keys.remove("jobspec")
        if "J" not in keys:
            keys.append("J")
    return keys


def _unwrap_J(signed):
    """The jobspec text inside J (HEADER.PAYLOAD.SIGNATURE, base64 parts),
    unverified: job-ingest verified it when the job was submitted."""
    parts = signed.split(".")
    if len(parts) != 3:
        raise OSError(errno.EPROTO, "J is not HEADER.PAYLOAD.SIGNATURE")
    payload = parts[1]
    return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")


def _finish(data, keys, decode, original):
    """Put the original jobspec in place of J if that is what was asked."""
    if original and "jobspec" in keys:
        jobspec = _unwrap_J(data["J"])
        data["jobspec"] = json.loads(jobspec) if decode else jobspec
        if "J" not in keys:
            del data["J"]
    return data


def _flags(base):
    # CURRENT applies jobspec-update/resource-update events to the values.
    return 0 if base else FLUX_JOB_LOOKUP_CURRENT


def job_kvs_lookup(flux_handle, jobid, keys=("jobspec",), decode=True, original=False,
                   base=False):
    """The job's `keys` as a dict (with "id"), or None if the job or a key
    does not exist.

    decode: jobspec and R as dicts rather than strings.
    original: the jobspec as submitted (from J) rather than as stored.
    base: jobspec and R as stored, without the eventlog's updates.
    """
    rpc = job_info_lookup(flux_handle, jobid, _lookup_keys(keys, original), _flags(base))
    try:
        data = rpc.get_decode() if decode else rpc.get()
    except FileNotFoundError:
        return None
    return _finish(data, keys, decode, original)


class JobKVSLookupFuture:
    """The lookups of several jobs at once. get()/get_decode() wait for all
    and return the answers that succeeded; `errors` lists the others."""

    def __init__(self):
        self.children = []
        self.errors = []

    def push(self, rpc):
        self.children.append(rpc)

    def _get(self, decode):
        jobs = []
        self.errors = []
        for child in self.children:
            try:
                jobs.append(child.get_decode() if decode else child.get())
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    self.errors.append(f"JobID {child.jobid.orig} unknown")
                else:
                    self.errors.append(f"rpc: {exc.strerror}")
        return jobs

    def get(self):
        return self._get(False)

    def get_decode(self):
        return self._get(True)

    def is_ready(self):
        return all(child.is_ready() for child in self.children)

    def wait_for(self, timeout=-1.0):
        for child in self.children:
            child.wait_for(timeout)
        return self

    def then(self, callback, *args, **kwargs):
        """Call callback(self, *args, **kwargs) once every lookup answered."""
        if not self.children:
            raise OSError(errno.EINVAL, "no lookups to wait for")
        waiting = [len(self.children)]

        def one_done(_child):
            waiting[0] -= 1
            if waiting[0] == 0:
                callback(self, *args, **kwargs)

        for child in self.children:
            child.then(one_done)
        return self


class JobKVSLookup:
    """Look up the same `keys` of many jobs; data() returns the answers
    (see job_kvs_lookup for decode, original and base), `errors` the jobs
    that could not be read."""

    def __init__(self, flux_handle, ids=(), keys=("jobspec",), decode=True, original=False,
                 base=False):
        self.handle = flux_handle
        self.ids = [JobID(i) for i in ids] if ids else []
        self.keys = list(keys)
        self.keyslookup = _lookup_keys(keys, original)
        self.decode = decode
        self.original = original
        self.base = base
        self.errors = []

    def fetch_data(self):
        """Send one lookup per job; returns a JobKVSLookupFuture."""
        future = JobKVSLookupFuture()
        for jobid in self.ids:
            future.push(job_info_lookup(self.handle, jobid, self.keyslookup,
                                        _flags(self.base)))
        return future

    def data(self):
        """The answers of every job that could be read, in `ids` order."""
        future = self.fetch_data()
        jobs = future.get_decode() if self.decode else future.get()
        self.errors = future.errors
        return [_finish(job, self.keys, self.decode, self.original) for job in jobs]
