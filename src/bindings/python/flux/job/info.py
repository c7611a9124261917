"""JobInfo: one job as job-list describes it, with the derived values
flux-core's JobInfo offers (state and result names, returncode, runtime,
status, exception, username, ...). Missing values read as flux-core's
defaults ("" or 0.0)."""

import os
import pwd
import string
import time

from flux.constants import FLUX_JOB_RESULT_CANCELED, FLUX_JOB_RESULT_FAILED
from flux.core.inner import raw
from flux.job.JobID import JobID
from flux.util import OutputFormat


def statetostr(stateid, fmt="L"):
    if stateid == "":
        return ""  # a JobInfo without a state (from job result)
    return raw.flux_job_statetostr(stateid, fmt).decode("utf-8")


def resulttostr(resultid, fmt="L"):
    if resultid == "":
        return ""
    return raw.flux_job_resulttostr(resultid, fmt).decode("utf-8")


def statustostr(stateid, resultid, fmt="L"):
    """The state name, or for an inactive job its result's."""
    if statetostr(stateid, "S") == "I":
        return resulttostr(resultid, fmt)
    return statetostr(stateid, fmt)


def get_username(userid):
    try:
        return pwd.getpwuid(userid).pw_name
    except (KeyError, TypeError):
        return str(userid)


class _Record:
    """Attribute access over a dict whose missing keys read as ""."""

    def __init__(self, values):
        self._values = values or {}

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        value = self._values.get(attr, "")
        return _Record(value) if isinstance(value, dict) else value

    def __str__(self):
        return "" if not self._values else str(self._values)

    def __format__(self, spec):
        return format(str(self), spec)


class ExceptionInfo:
    def __init__(self, occurred, severity, type_, note):
        self.occurred = occurred
        self.severity = severity
        self.type = type_
        self.note = note


class JobInfo:
    """A job-list entry (or a result dict) with flux-core's derived fields."""

    defaults = {
        "t_depend": 0.0, "t_priority": 0.0, "t_sched": 0.0, "t_run": 0.0, "t_cleanup": 0.0,
        "t_inactive": 0.0, "duration": 0.0, "expiration": 0.0, "name": "", "cwd": "",
        "queue": "", "project": "", "bank": "", "ntasks": "", "ncores": "", "nnodes": "",
        "priority": "", "ranks": "", "nodelist": "", "success": "", "result": "",
        "waitstatus": "",
    }

    def __init__(self, info_resp):
        values = dict(self.defaults)
        values.update(info_resp)
        values["id"] = JobID(values["id"])
        values["state_id"] = values.pop("state", "")
        values["result_id"] = values.pop("result", "")
        self._exception = ExceptionInfo(values.get("exception_occurred", ""),
                                        values.get("exception_severity", ""),
                                        values.get("exception_type", ""),
                                        values.get("exception_note", ""))
        self._values = values

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        try:
            return self._values[attr]
        except KeyError:
            raise AttributeError("invalid JobInfo attribute '{}'".format(attr)) from None

    exception = property(lambda self: self._exception)
    annotations = property(lambda self: _Record(self._values.get("annotations")))
    sched = property(lambda self: self.annotations.sched)
    user = property(lambda self: self.annotations.user)
    state = property(lambda self: statetostr(self.state_id))
    state_single = property(lambda self: statetostr(self.state_id, "S"))
    result = property(lambda self: resulttostr(self.result_id))
    result_abbrev = property(lambda self: resulttostr(self.result_id, "S"))
    status = property(lambda self: statustostr(self.state_id, self.result_id))
    status_abbrev = property(lambda self: statustostr(self.state_id, self.result_id, "S"))
    username = property(lambda self: get_username(self._values.get("userid")))
    t_remaining = property(lambda self: self.get_remaining_time())
    runtime = property(lambda self: self.get_runtime())

    def get_runtime(self):
        if self.t_cleanup > 0 and self.t_run > 0:
            return self.t_cleanup - self.t_run
        if self.t_run > 0:
            return time.time() - self.t_run
        return 0.0

    def get_remaining_time(self):
        if self.status != "RUN" or not self.expiration:
            return 0.0
        return max(0.0, self.expiration - time.time())

    @property
    def returncode(self):
        """The highest task exit code, -signal if killed, -128 if canceled
        before it ran, "" while active."""
        status = self.waitstatus
        if not isinstance(status, int):
            if self.result_id == FLUX_JOB_RESULT_CANCELED:
                return -128
            if self.result_id == FLUX_JOB_RESULT_FAILED:
                return 1
            return ""
        if os.WIFSIGNALED(status):
            return -os.WTERMSIG(status)
        if os.WIFEXITED(status):
            return os.WEXITSTATUS(status)
        return ""

    @property
    def dependencies(self):
        return list(self._values.get("dependencies", []))

    def to_dict(self, filtered=True):
        """The job's attributes; without filtered, unset ones too ("" or 0)."""
        out = {}
        for key, value in self._values.items():
            if key in ("state_id", "result_id", "annotations") or key.startswith("exception_"):
                continue
            out[key] = value
        out["id"] = int(self.id)
        for key in ("state", "result", "username", "runtime", "status", "returncode",
                    "t_remaining"):
            out[key] = getattr(self, key)
        out["exception"] = {"occurred": self.exception.occurred,
                            "severity": self.exception.severity,
                            "type": self.exception.type, "note": self.exception.note}
        if "annotations" in self._values:
            out["annotations"] = self._values["annotations"]
        out["jobid"] = self.id.f58  # for JSON readers that lose 64-bit ints
        if filtered:
            out = {k: v for k, v in out.items() if v not in ("", None) and not (
                v == 0 and (k.startswith("t_") or k in ("runtime", "expiration")))}
            if not self.exception.occurred:
                out["exception"] = {"occurred": False}
        return out


# ---- format fields (flux jobs -o): headings and the job-list attributes each needs

# field: (heading, job-list attributes it is computed from)
_FIELDS = {
    **{f: ("JOBID", ()) for f in ("id", "id.dec", "id.hex", "id.f58", "id.f58plain",
                                  "id.emoji", "id.kvs", "id.words", "id.dothex")},
    "userid": ("UID", ("userid",)),
    "username": ("USER", ("userid",)),
    "urgency": ("URG", ("urgency",)),
    "priority": ("PRI", ("priority",)),
    "state": ("STATE", ("state",)),
    "state_single": ("S", ("state",)),
    "state_emoji": ("STATE", ("state",)),
    "name": ("NAME", ("name",)),
    "cwd": ("CWD", ("cwd",)),
    "queue": ("QUEUE", ("queue",)),
    "project": ("PROJECT", ("project",)),
    "bank": ("BANK", ("bank",)),
    "ntasks": ("NTASKS", ("ntasks",)),
    "ncores": ("NCORES", ("ncores",)),
    "duration": ("DURATION", ("duration",)),
    "nnodes": ("NNODES", ("nnodes",)),
    "expiration": ("EXPIRATION", ("expiration", "state", "result")),
    "t_remaining": ("T_REMAINING", ("expiration", "state", "result")),
    "ranks": ("RANKS", ("ranks",)),
    "nodelist": ("NODELIST", ("nodelist",)),
    "success": ("SUCCESS", ("success",)),
    "result": ("RESULT", ("result",)),
    "result_abbrev": ("RS", ("result",)),
    "result_emoji": ("RESULT", ("result",)),
    **{t: (t.upper(), (t,)) for t in ("t_submit", "t_depend", "t_priority", "t_sched",
                                      "t_run", "t_cleanup", "t_inactive")},
    "runtime": ("RUNTIME", ("t_run", "t_cleanup")),
    "status": ("STATUS", ("state", "result")),
    "status_abbrev": ("ST", ("state", "result")),
    "status_emoji": ("STATUS", ("state", "result")),
    "waitstatus": ("WSTATUS", ("waitstatus",)),
    "returncode": ("RC", ("waitstatus", "result")),
    **{f"exception.{x}": (f"EXCEPTION-{x.upper()}", (f"exception_{x}",))
       for x in ("occurred", "severity", "type", "note")},
    "annotations": ("ANNOTATIONS", ("annotations",)),
    "dependencies": ("DEPENDENCIES", ("dependencies",)),
    "contextual_info": ("INFO", ("state", "dependencies", "annotations", "nodelist",
                                 "priority", "urgency")),
    "contextual_time": ("TIME", ("state", "t_run", "t_cleanup", "duration")),
    "inactive_reason": ("INACTIVE-REASON", ("state", "result", "waitstatus",
                                            "exception_occurred", "exception_severity",
                                            "exception_type", "exception_note")),
    # RFC 27 annotations with fixed headings
    "annotations.sched.t_estimate": ("T_ESTIMATE", ("annotations",)),
    "annotations.sched.reason_pending": ("REASON", ("annotations",)),
    "annotations.sched.resource_summary": ("RESOURCES", ("annotations",)),
    "sched": ("SCHED", ("annotations",)),
    "sched.t_estimate": ("T_ESTIMATE", ("annotations",)),
    "sched.reason_pending": ("REASON", ("annotations",)),
    "sched.resource_summary": ("RESOURCES", ("annotations",)),
    "user": ("USER", ("annotations",)),
    "uri": ("URI", ("annotations",)),
    "uri.local": ("URI", ("annotations",)),
    # a sub-instance's own figures (from its annotations and status)
    "instance.stats.total": ("NJOBS", ()),
    "instance.utilization": ("CORE%", ()),
    "instance.gpu_utilization": ("GPU%", ()),
    "instance.progress": ("PROG", ()),
}
for _which, _head in (("all", None), ("up", "UP"), ("down", "DOWN"),
                      ("allocated", "USED"), ("free", "FREE")):
    for _what, _all in (("ncores", "CORES"), ("ngpus", "GPUS"), ("nnodes", "NODES")):
        _FIELDS[f"instance.resources.{_which}.{_what}"] = (_head or _all, ())


def job_fields_to_attrs(fields):
    """The set of job-list attributes to ask for to print FIELDS (format
    field names); KeyError for an unknown field. The id always comes."""
    attrs = set()
    for field in fields:
        if field.startswith(("annotations.", "sched.", "user.")):
            attrs.add("annotations")
        elif field.startswith("instance."):
            attrs.update(("annotations", "state", "result"))
        else:
            attrs.update(_FIELDS[field][1])
    return attrs


class JobInfoFormat(OutputFormat):
    """An output format over JobInfo objects (flux jobs -o), checked
    against the known fields; any annotations.X, sched.X, user.X or
    instance.X field is accepted too, headed by its upper-cased name."""

    headings = {field: heading for field, (heading, _) in _FIELDS.items()}

    def __init__(self, fmt, headings=None, prepend=None):
        for _, field, _, _ in string.Formatter().parse(fmt):
            if not field or field in self.headings:
                continue
            if field.startswith("annotations."):
                self.headings[field] = field[len("annotations."):].upper()
            elif field.startswith(("sched.", "user.")):
                self.headings[field] = field.upper()
            elif field.startswith("instance."):
                heading = field[len("instance."):].upper()
                self.headings[field] = heading.removeprefix("RESOURCES.")
        super().__init__(fmt, headings=headings, prepend=prepend)
