"""Listing jobs (job-list.list, job-list.list-id) and the JobList class."""

import errno
import os
from collections.abc import Iterable

from flux.constants import (
    FLUX_JOB_STATE_INACTIVE,
    FLUX_RPC_STREAMING,
    FLUX_USERID_UNKNOWN,
)
from flux.core.inner import ffi, raw
from flux.job.info import JobInfo
from flux.job.JobID import JobID
from flux.rpc import RPC


class JobListRPC(RPC):
    """A job-list.list answer: get_jobs() gathers every response."""

    def get_jobs(self):
        jobs = []
        while True:
            try:
                resp = self.get()
            except OSError as exc:
                if exc.errno == errno.ENODATA:
                    break
                raise
            jobs.extend(resp["jobs"])
            if resp.get("version", 0) == 0 and not self._streaming_answer(resp):
                break
            self.reset()
        return jobs

    @staticmethod
    def _streaming_answer(resp):
        return "version" in resp

    def get_jobinfos(self):
        for job in self.get_jobs():
            yield JobInfo(job)


def job_list(flux_handle, max_entries=1000, attrs=("all",), userid=None, states=0,
             results=0, since=0.0, name=None, queue=None, constraint=None):
    """List jobs (newest first), as an RPC whose get_jobs() returns dicts."""
    userid = os.getuid() if userid is None else userid
    terms = [] if constraint is None else [constraint]
    if userid != FLUX_USERID_UNKNOWN:
        terms.append({"userid": [userid]})
    if name:
        terms.append({"name": [name]})
    if queue:
        if isinstance(queue, str):
            queue = [queue]
        if not isinstance(queue, Iterable):
            raise ValueError("queue parameter must be a string or iterable")
        terms.append({"queue": list(queue)})
    if states and results:
        terms.append({"or": [{"states": [states]}, {"results": [results]}]})
    elif states:
        terms.append({"states": [states]})
    elif results:
        terms.append({"results": [results]})
    payload = {"max_entries": int(max_entries), "attrs": list(attrs), "since": since,
               "constraint": {"and": terms}}
    return JobListRPC(flux_handle, "job-list.list", payload, flags=FLUX_RPC_STREAMING)


def job_list_inactive(flux_handle, since=0.0, max_entries=1000, attrs=("all",), name=None,
                      queue=None, constraint=None):
    return job_list(flux_handle, max_entries=max_entries, attrs=attrs,
                    userid=FLUX_USERID_UNKNOWN, states=FLUX_JOB_STATE_INACTIVE, since=since,
                    name=name, queue=queue, constraint=constraint)


class JobListIdRPC(RPC):
    def get_job(self):
        return self.get()["job"]

    def get_jobinfo(self):
        return JobInfo(self.get_job())


def job_list_id(flux_handle, jobid, attrs=("all",)):
    rpc = JobListIdRPC(flux_handle, "job-list.list-id", {"id": int(jobid), "attrs": list(attrs)})
    rpc.jobid = jobid
    return rpc


def get_job(flux_handle, jobid):
    """The job's attributes as a dict, or None if there is no such job."""
    try:
        info = job_list_id(flux_handle, jobid).get_jobinfo()
    except FileNotFoundError:
        return None
    return info.to_dict(filtered=False)


def _state_mask(name):
    """(states, results) bits a filter name selects."""
    groups = {"pending": 14, "running": 48, "active": 62}
    if name.lower() in groups:
        return groups[name.lower()], 0
    out = ffi.new("int [1]")
    try:
        raw.flux_job_strtostate(name, out)
        return out[0], 0
    except OSError:
        pass
    try:
        raw.flux_job_strtoresult(name, out)
        return 0, out[0]
    except OSError:
        raise ValueError(f"Invalid filter specified: {name}") from None


class JobList:
    """Jobs by id, or by user, states/results filters, name and queue;
    jobs() returns JobInfos, errors holds what went wrong per id."""

    def __init__(self, flux_handle, attrs=("all",), filters=(), ids=(), user=None,
                 max_entries=1000, since=0.0, name=None, queue=None, constraint=None):
        self.handle = flux_handle
        self.attrs = list(attrs)
        self.states = 0
        self.results = 0
        self.ids = [JobID(i) for i in ids]
        self.max_entries = max_entries
        self.since = since
        self.name = name
        self.queue = queue
        self.constraint = constraint
        self.errors = []
        self.userid = os.getuid()
        self.set_user(user)
        for fname in filters:
            for name_ in str(fname).split(","):
                self.add_filter(name_)

    def set_user(self, user):
        if user is None:
            self.userid = os.getuid()
        elif user == "all":
            self.userid = FLUX_USERID_UNKNOWN
        else:
            try:
                self.userid = int(user)
            except ValueError:
                import pwd

                try:
                    self.userid = pwd.getpwnam(user).pw_uid
                except KeyError:
                    raise ValueError(f"Invalid user {user} specified") from None

    def add_filter(self, fname):
        states, results = _state_mask(fname)
        self.states |= states
        self.results |= results

    def fetch_jobs(self):
        if self.ids:
            return [job_list_id(self.handle, i, self.attrs) for i in self.ids]
        return job_list(self.handle, self.max_entries, self.attrs, self.userid, self.states,
                        self.results, self.since, self.name, self.queue, self.constraint)

    def jobs(self):
        """JobInfo for each job; failures per id are kept in self.errors."""
        fetched = self.fetch_jobs()
        if not isinstance(fetched, list):
            return [JobInfo(job) for job in fetched.get_jobs()]
        out = []
        for rpc in fetched:
            try:
                out.append(rpc.get_jobinfo())
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    self.errors.append(f"JobID {rpc.jobid.orig} unknown")
                else:
                    self.errors.append(f"{rpc.jobid.orig}: {exc.strerror}")
        return out
