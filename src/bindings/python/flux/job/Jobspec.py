"""Jobspec objects, as flux-core's flux.job.Jobspec module provides them:
Jobspec wraps an RFC 14 jobspec dict and checks its structure, JobspecV1
adds the RFC 25 (version 1) rules and builds jobspecs from a command line,
and validate_jobspec checks an encoded jobspec."""

import collections
import datetime
import errno
import json
import math
import numbers
import os
import pathlib
import re
import types
from collections import abc

import yaml

from flux.job._utils import (
    ConstraintSyntaxError,
    MiniConstraintParser,
    URIArg,
    decode_duration,
    dependency_array_create,
    get_filtered_environment,
    get_filtered_rlimits,
    jobspec_add_file,
    normalize_conf,
    parse_jobspec_keyval,
    parse_signal_option,
)
from flux.util import Fileref, del_treedict, parse_fsd, set_treedict

__all__ = ["Jobspec", "JobspecV1", "validate_jobspec"]


def _check_keys(expected, given, optional=False, extra=False):
    """ValueError naming a key of EXPECTED missing from GIVEN (unless
    OPTIONAL) or a key of GIVEN not in EXPECTED (unless EXTRA)."""
    expected, given = set(expected), set(given)
    if not optional:
        for key in sorted(expected - given):
            raise ValueError(f"Missing key ({key})")
    if not extra:
        for key in sorted(given - expected, key=str):
            raise ValueError(f"Extraneous key ({key})")


_IDSET_RE = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")


def _is_idset(text):
    """True if TEXT is an RFC 22 idset such as "0-3,7" (brackets allowed).
    Checked by pattern, so a huge range costs nothing."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not _IDSET_RE.fullmatch(text):
        return False
    ranges = (part.partition("-") for part in text.split(","))
    return all(int(lo) <= int(hi) for lo, _, hi in ranges if hi)


def _check_hostlist(hosts):
    """ValueError unless HOSTS is an RFC 29 hostlist, decoded by the compiled
    core when it offers a decoder."""
    from flux import _core  # the compiled core; imported with the flux package

    if not isinstance(hosts, str):
        raise TypeError(f"hostlist must be a string, not {type(hosts).__name__}")
    decoder = getattr(getattr(_core, "Hostlist", None), "decode", None)
    if decoder is not None:
        try:
            decoder(hosts)
        except OSError as exc:
            raise ValueError(f"invalid hostlist '{hosts}': {exc.strerror or exc}") from None


def _validate_constraint(constraint):
    """Check an RFC 31 constraint object: {operator: [args...]}."""
    if not isinstance(constraint, abc.Mapping):
        raise TypeError("constraints must be a mapping")
    for operator, args in constraint.items():
        if not isinstance(operator, str):
            raise TypeError(f"constraint operation {operator} is not a string")
        if not isinstance(args, abc.Sequence):
            raise TypeError(f"argument to constraint {operator} must be a sequence")
        if operator in ("and", "or", "not"):
            for sub in args:
                _validate_constraint(sub)
        elif operator == "properties":
            for name in args:
                if any(c in "&'\"`|()" for c in name):
                    raise TypeError(f"invalid character in property '{name}'")
        elif operator == "hostlist":
            for hosts in args:
                _check_hostlist(hosts)
        elif operator == "ranks":
            for ranks in args:
                if not isinstance(ranks, str) or not _is_idset(ranks):
                    raise ValueError(f"invalid idset '{ranks}'")
        else:
            raise TypeError(f"unknown constraint operator '{operator}'")


def _validate_dependency(dep):
    _check_keys(("scheme", "value"), dep.keys(), extra=True)
    for key in ("scheme", "value"):
        if not isinstance(dep[key], str):
            raise TypeError(f"dependency {key} must be a string")


def _attr_key(key):
    """KEY as a path from the jobspec root: attributes.system.KEY unless it
    already starts with "attributes.", "system." or "user."."""
    if key.startswith("attributes."):
        return key
    if not key.startswith(("system.", "user.")):
        key = "system." + key
    return "attributes." + key


def _encode(jobspec):
    """A jobspec argument (Jobspec, str or bytes) as JSON text."""
    if isinstance(jobspec, Jobspec):
        return jobspec.dumps()
    if isinstance(jobspec, (str, bytes)):
        return jobspec
    if jobspec is None:
        raise EnvironmentError(errno.EINVAL, "jobspec must not be None/NULL")
    raise TypeError("jobspec must be a Jobspec or string (either binary or unicode)")


def validate_jobspec(jobspec, require_version=None):
    """Check JOBSPEC (a Jobspec, or JSON as str or bytes) by building a
    Jobspec from it: JobspecV1 if its version is 1 or REQUIRE_VERSION is 1.
    Returns (True, the object); raises ValueError or TypeError (a JSON
    syntax error is a ValueError) describing the first problem found."""
    obj = json.loads(_encode(jobspec))
    if obj is None:
        return (1, "Unable to parse JSON")  # flux-core's answer for "null"
    if not isinstance(obj, abc.Mapping):
        raise TypeError("jobspec must be a JSON object")
    _check_keys(Jobspec.top_level_keys, obj.keys())
    if require_version == 1 or obj.get("version", 0) == 1:
        return True, JobspecV1(**obj)
    return True, Jobspec(**obj)


class Jobspec:
    """An RFC 14 jobspec of any version. The dict is .jobspec; the
    constructor raises ValueError or TypeError if it is malformed."""

    top_level_keys = {"resources", "tasks", "version", "attributes"}

    def __init__(self, resources, tasks, attributes, version):
        if not isinstance(resources, abc.Sequence):
            raise TypeError("resources must be a sequence")
        if not isinstance(tasks, abc.Sequence):
            raise TypeError("tasks must be a sequence")
        if not isinstance(attributes, abc.Mapping):
            raise TypeError("attributes must be a mapping")
        if not isinstance(version, int):
            raise TypeError("version must be an integer")
        if version < 1:
            raise ValueError("version must be >= 1")
        self.jobspec = {
            "resources": resources,
            "tasks": tasks,
            "attributes": attributes,
            "version": version,
        }
        for res in self:  # pre-order, so a parent is checked before its "with"
            self._validate_resource(res)
        for task in tasks:
            self._validate_task(task)
        _check_keys(("system", "user"), attributes.keys(), optional=True)
        if "system" in attributes:
            self._validate_system_attributes(attributes["system"])

    @classmethod
    def from_yaml_stream(cls, yaml_stream):
        """A jobspec from YAML (or JSON) text or a file-like object."""
        obj = yaml.safe_load(yaml_stream)
        if not isinstance(obj, abc.Mapping):
            raise TypeError("jobspec must be a mapping")
        _check_keys(cls.top_level_keys, obj.keys())
        return cls(**obj)

    @classmethod
    def from_yaml_file(cls, filename):
        """A jobspec from the YAML file FILENAME."""
        with open(filename, "rb") as stream:
            return cls.from_yaml_stream(stream)

    # ---- validation

    @staticmethod
    def _validate_range(count):
        """Check an RFC 14 range count {min, max, operand, operator}."""
        if "min" not in count:
            raise ValueError("min must be in range")
        _check_keys(("min", "max", "operand", "operator"), count.keys(), optional=True)
        for key in ("min", "max", "operand"):
            if key in count:
                if not isinstance(count[key], int):
                    raise TypeError(f"{key} must be an int")
                if count[key] < 1:
                    raise ValueError(f"{key} must be > 0")
        if "max" in count and count["max"] < count["min"]:
            raise ValueError("max must be >= min")
        if ("operand" in count) != ("operator" in count):
            raise ValueError("operand and operator must both be in range if either is")
        if "operator" in count:
            operator = count["operator"]
            if not isinstance(operator, str) or len(operator) != 1:
                raise TypeError("operator must be a single character str")
            if operator not in ("+", "*", "^"):
                raise ValueError("operator must be one of ['+', '*', '^']")
            if operator in ("*", "^") and count["operand"] < 2:
                raise ValueError("operand must be > 1 for '*' or '^' operator")
            if operator == "^" and count["min"] < 2:
                raise ValueError("min must be > 1 for '^' operator")

    @classmethod
    def _validate_count_string(cls, count):
        """Check a string count: an idset, or "MIN-MAX[:OPERAND[:OPERATOR]]"
        or "MIN+[:OPERAND[:OPERATOR]]" (the operator defaults to "+")."""
        if _is_idset(count):
            return
        fields = count.split(":")
        if len(fields) > 3 or ("-" not in fields[0] and "+" not in fields[0]):
            raise ValueError("count string must be a valid idset or range")
        lo, dash, hi = fields[0].partition("-")
        try:
            spec = {"min": int(lo if dash else fields[0].rstrip("+"))}
            if dash:
                spec["max"] = int(hi)
            if len(fields) > 1:
                spec["operand"] = int(fields[1])
                spec["operator"] = fields[2] if len(fields) > 2 else "+"
        except ValueError:
            raise ValueError(f"invalid count string '{count}'") from None
        cls._validate_range(spec)

    @classmethod
    def _validate_resource(cls, res):
        if not isinstance(res, abc.Mapping):
            raise TypeError("resource must be a mapping")
        if "type" not in res:
            raise ValueError("type is a required key for resources")
        if not isinstance(res["type"], str):
            raise TypeError("type must be a string")
        if "count" not in res:
            raise ValueError("count is a required key for resources")
        count = res["count"]
        if isinstance(count, abc.Mapping):
            cls._validate_range(count)
        elif isinstance(count, str):
            cls._validate_count_string(count)
        elif not isinstance(count, int):
            raise TypeError("count must be an int or mapping")
        elif res["type"] in ("node", "slot", "core") and count < 1:
            # other types (e.g. gpu) may ask for zero
            raise ValueError("node, slot, or core count must be > 0")
        elif count < 0:
            raise ValueError("count must be >= 0")
        for key in ("id", "unit", "label"):
            if key in res and not isinstance(res[key], str):
                raise TypeError(f"{key} must be a string")
        if "exclusive" in res and res["exclusive"] not in (True, False):
            raise TypeError("exclusive must be a boolean")
        if "with" in res and (
            not isinstance(res["with"], abc.Sequence) or isinstance(res["with"], str)
        ):
            raise TypeError("with must be a sequence of resources")
        if res["type"] == "slot" and "label" not in res:
            raise ValueError("slots must have labels")

    @staticmethod
    def _validate_task(task):
        if not isinstance(task, abc.Mapping):
            raise TypeError("task must be a mapping")
        _check_keys(("command", "slot", "count"), task.keys(), extra=True)
        count = task["count"]
        if not isinstance(count, abc.Mapping):
            raise TypeError("count must be a mapping")
        if len(count) != 1:
            raise ValueError("count must have exactly one key set")
        if count.keys().isdisjoint({"per_slot", "per_resource", "total"}):
            raise ValueError("count per_slot, per_resource, or total must be set")
        for key in ("total", "per_slot"):
            if key in count:
                if not isinstance(count[key], int):
                    raise TypeError(f"count {key} must be an int")
                if count[key] <= 0:
                    raise ValueError(f"count {key} must be > 0")
        if not isinstance(task["slot"], str):
            raise TypeError("slot must be a string")
        if "attributes" in task and not isinstance(task["attributes"], abc.Mapping):
            raise TypeError("attributes must be a mapping")
        command = task["command"]
        if len(command) == 0:
            raise TypeError("command array cannot have length of zero")
        if (
            isinstance(command, str)
            or not isinstance(command, abc.Sequence)
            or not all(isinstance(arg, str) for arg in command)
        ):
            raise TypeError("command must be a list of strings")

    @staticmethod
    def _validate_system_attributes(system):
        if not isinstance(system, abc.Mapping):
            raise TypeError("attributes.system must be a mapping")
        if "dependencies" in system:
            if not isinstance(system["dependencies"], abc.Sequence):
                raise TypeError("attributes.system.dependencies must be a list")
            for dep in system["dependencies"]:
                _validate_dependency(dep)
        if "constraints" in system:
            _validate_constraint(system["constraints"])

    # ---- building blocks for the factory methods

    @staticmethod
    def _create_resource(res_type, count, with_child=None, exclusive=False):
        if with_child is not None and (
            isinstance(with_child, str) or not isinstance(with_child, abc.Sequence)
        ):
            raise TypeError("child resource must be None or a sequence")
        if not count > 0:
            raise ValueError("resource count must be > 0")
        res = {"type": res_type, "count": count}
        if exclusive:
            res["exclusive"] = True
        if with_child:
            res["with"] = with_child
        return res

    @classmethod
    def _create_slot(cls, label, count, with_child):
        slot = cls._create_resource("slot", count, with_child)
        slot["label"] = label
        return slot

    # ---- attributes

    def getattr(self, key):
        """The attribute at dotted KEY ("system.duration", "user.x",
        "attributes.system.cwd"; a bare "duration" means system.duration).
        KeyError if any part of the path is missing."""
        value = self.jobspec
        for part in _attr_key(key).split("."):
            if not isinstance(value, abc.Mapping) or value.get(part) is None:
                raise KeyError(key)
            value = value[part]
        return value

    def setattr(self, key, val):
        """Set the attribute at dotted KEY (as getattr names it) to VAL,
        creating intermediate dicts."""
        key = _attr_key(key)
        try:
            set_treedict(self.jobspec, key, val)
        except (TypeError, AttributeError) as exc:
            # a path component is not a dict
            raise TypeError(f"failed to set {key} to {val}: {exc}") from None

    def setattr_shell_option(self, key, val):
        """Set the job shell option KEY (attributes.system.shell.options.KEY)."""
        self.setattr("system.shell.options." + key, val)

    def _system(self, name):
        """attributes.system.NAME, or None if unset."""
        try:
            return self.jobspec["attributes"]["system"][name]
        except (KeyError, TypeError):
            return None

    @property
    def duration(self):
        """Time limit in seconds (0 means unlimited). Set it from seconds,
        an FSD string such as "5m", or a datetime.timedelta."""
        return self._system("duration")

    @duration.setter
    def duration(self, duration):
        if isinstance(duration, str):
            seconds = parse_fsd(duration)
        elif isinstance(duration, datetime.timedelta):
            seconds = duration.total_seconds()
        elif isinstance(duration, (float, int)):
            seconds = float(duration)
        else:
            raise TypeError("duration must be an int, float, string, or timedelta")
        if seconds < 0:
            raise ValueError("duration must not be negative")
        if math.isnan(seconds) or math.isinf(seconds):
            raise ValueError("duration must be a normal, finite value")
        self.setattr("system.duration", seconds)

    @property
    def queue(self):
        """Target queue (attributes.system.queue), or None."""
        return self._system("queue")

    @queue.setter
    def queue(self, queue):
        if not isinstance(queue, str):
            raise TypeError("queue must be a string")
        self.setattr("system.queue", queue)

    @property
    def cwd(self):
        """Working directory (a str; set from a str or path object), or None."""
        return self._system("cwd")

    @cwd.setter
    def cwd(self, cwd):
        if isinstance(cwd, os.PathLike):
            cwd = os.fspath(cwd)
        if not isinstance(cwd, str):
            raise ValueError("cwd must be a string")
        self.setattr("system.cwd", cwd)

    @property
    def environment(self):
        """The job's environment mapping, or None. The setter stores the
        mapping itself, not a copy."""
        return self._system("environment")

    @environment.setter
    def environment(self, environ):
        if not isinstance(environ, abc.Mapping):
            raise ValueError("environment must be a mapping")
        self.setattr("system.environment", environ)

    def _get_io_path(self, iotype, stream):
        try:
            return self.getattr(f"shell.options.{iotype}.{stream}.path")
        except KeyError:
            return None

    def _set_io_path(self, iotype, stream, path):
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(
                f"The path must be a string or pathlib object, got {type(path).__name__}"
            )
        self.setattr_shell_option(f"{iotype}.{stream}.type", "file")
        self.setattr_shell_option(f"{iotype}.{stream}.path", path)

    input = property(
        lambda self: self._get_io_path("input", "stdin"),
        lambda self, path: self._set_io_path("input", "stdin", path),
        doc="File the tasks read stdin from, or None.",
    )
    output = property(
        lambda self: self._get_io_path("output", "stdout"),
        lambda self, path: self._set_io_path("output", "stdout", path),
        doc="File stdout goes to (stderr too unless error is set), or None.",
    )
    error = property(
        lambda self: self._get_io_path("output", "stderr"),
        lambda self, path: self._set_io_path("output", "stderr", path),
        doc="File stderr goes to, or None.",
    )
    stdin, stdout, stderr = input, output, error  # flux-core's older names

    @property
    def unbuffered(self):
        """True if stdout and stderr are both unbuffered (buffer.type none).
        Setting True also shortens the output batch timeout to 50ms and the
        input one to 0; setting False removes those settings again (a batch
        timeout changed since is kept)."""
        try:
            return all(
                self.getattr(f"shell.options.output.{s}.buffer.type") == "none"
                for s in ("stdout", "stderr")
            )
        except KeyError:
            return False

    @unbuffered.setter
    def unbuffered(self, value):
        if not isinstance(value, bool):
            raise TypeError("unbuffered must be True or False")
        if value:
            self.setattr_shell_option("output.stdout.buffer.type", "none")
            self.setattr_shell_option("output.stderr.buffer.type", "none")
            self.setattr_shell_option("output.batch-timeout", 0.05)
            self.setattr_shell_option("input.batch-timeout", 0.0)
            return
        opts = "system.shell.options."
        try:
            del_treedict(self.attributes, opts + "output.stdout.buffer", remove_empty=True)
            del_treedict(self.attributes, opts + "output.stderr.buffer", remove_empty=True)
            if self.getattr("shell.options.output.batch-timeout") == 0.05:
                del_treedict(self.attributes, opts + "output.batch-timeout", remove_empty=True)
            if self.getattr("shell.options.input.batch-timeout") == 0.0:
                del_treedict(self.attributes, opts + "input.batch-timeout", remove_empty=True)
        except KeyError:
            pass  # already gone: nothing more to remove

    def add_file(self, path, data, perms=None, encoding=None):
        """Add an RFC 37 file named PATH to attributes.system.files (the job
        shell writes it to the job's temporary directory).

        DATA is a dict (JSON content), or file content if ENCODING is given
        or it contains a newline (then utf-8), or else a local file to read.
        PERMS defaults to 0o600 (a local file keeps its own mode)."""
        if not isinstance(data, (abc.Mapping, str)):
            raise TypeError("data must be a Mapping or string")
        if encoding is None and isinstance(data, str) and "\n" in data:
            encoding = "utf-8"
        files = self._system("files") or {}
        files[path] = Fileref(data, perms=0o600 if perms is None else perms, encoding=encoding)
        self.setattr("system.files", files)

    def dumps(self, **kwargs):
        """The jobspec as JSON; KWARGS go to json.dumps."""
        return json.dumps(self.jobspec, ensure_ascii=False, **kwargs)

    @property
    def resources(self):
        return self.jobspec.get("resources")

    @property
    def tasks(self):
        return self.jobspec.get("tasks")

    @property
    def attributes(self):
        return self.jobspec.get("attributes")

    @property
    def version(self):
        return self.jobspec.get("version")

    # ---- resource traversal

    def __iter__(self):
        """Every resource of the resources section, depth first, parents
        before their children."""

        def walk(resources):
            for res in resources:
                yield res
                if isinstance(res, abc.Mapping):
                    yield from walk(res.get("with", []))

        return walk(self.resources)

    def resource_walk(self):
        """Yield (parent, resource, count) depth first, parents first; parent
        is None at the top level and count multiplies the counts of the
        resource and its ancestors (a slot of 2 with 4 cores: 8 cores). The
        count is None below a range or string count, which has no total."""

        def walk(resources, parent, multiplier):
            for res in resources:
                count = res["count"]
                ok = isinstance(count, int) and multiplier is not None
                total = multiplier * count if ok else None
                yield parent, res, total
                yield from walk(res.get("with", []), res, total)

        return walk(self.resources, None, 1)

    def resource_counts(self):
        """Total count of each resource type, e.g. {"node": 1, "slot": 2,
        "core": 4} (units such as GB are not told apart). ValueError if a
        count is a range or string."""
        counts = collections.defaultdict(int)
        for _, res, count in self.resource_walk():
            if count is None:
                raise ValueError(f"{res['type']} count has no total: {res['count']}")
            counts[res["type"]] += count
        return counts

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.resources}, {self.tasks}, "
            f"attributes={self.attributes}, version={self.version})"
        )

    def __str__(self):
        return str(self.jobspec)


def _validate_counts_v1(resources):
    """RFC 25: every resource count is a plain integer."""
    for res in resources:
        if not isinstance(res["count"], int):
            raise ValueError(
                f"resource count must be an integer for type '{res['type']}' "
                f"(got '{type(res['count']).__name__}')"
            )
        _validate_counts_v1(res.get("with", []))


class JobspecV1(Jobspec):
    """A version 1 jobspec (RFC 25): attributes.system.duration is required,
    counts are integers, tasks count per_slot or total. The from_* class
    methods build one for a command, a batch script or a nested instance."""

    def __init__(self, resources, tasks, attributes, version=1):
        if version != 1:
            raise ValueError("version must be 1")
        super().__init__(resources, tasks, attributes, version)
        system = attributes.get("system")
        if system is None:
            raise ValueError("attributes.system is a required key")
        if not isinstance(system, abc.Mapping):
            raise ValueError("attributes.system must be a mapping")
        if "duration" not in system:
            raise ValueError("attributes.system.duration is a required key")
        if not isinstance(system["duration"], numbers.Number):
            raise ValueError("attributes.system.duration must be a number")
        for task in tasks:
            if task["count"].keys().isdisjoint({"per_slot", "total"}):
                raise ValueError("count per_slot or total must be set")
        _validate_counts_v1(resources)

    def _set_extra_options(
        self,
        duration=None,
        environment=None,
        env_expand=None,
        cwd=None,
        rlimits=None,
        name=None,
        input=None,
        output=None,
        error=None,
        label_io=False,
        unbuffered=False,
        queue=None,
        bank=None,
    ):
        """Apply the options the factory methods share; returns self."""
        if duration is not None:
            self.duration = duration
        # like flux-core, a job gets the caller's whole environment by default
        self.environment = dict(os.environ) if environment is None else environment
        if env_expand is not None:
            if not isinstance(env_expand, abc.Mapping):
                raise ValueError("env_expand must be a mapping")
            self.setattr_shell_option("env-expand", env_expand)
        if cwd is not None:
            self.cwd = cwd
        if rlimits is not None:
            if not isinstance(rlimits, abc.Mapping):
                raise ValueError("rlimits must be a mapping")
            self.setattr_shell_option("rlimit", rlimits)
        if name is not None:
            self.setattr("job.name", name)
        if input is not None:
            self.input = input
        # "none" and "kvs" name the default (output to the KVS), not a file
        if output is not None and output not in ("none", "kvs"):
            self.output = output
            if label_io:
                self.setattr_shell_option("output.stdout.label", True)
        if error is not None and error not in ("none", "kvs"):
            self.error = error
            if label_io:
                self.setattr_shell_option("output.stderr.label", True)
        if unbuffered:
            self.unbuffered = True
        if queue is not None:
            self.setattr("queue", queue)
        if bank is not None:
            self.setattr("bank", bank)
        return self

    @classmethod
    def _build(cls, command, slot_or_node, task_count, per_resource=None, **kwargs):
        attributes = {"system": {"duration": 0}}
        if per_resource:
            set_treedict(attributes, "system.shell.options.per-resource", per_resource)
        tasks = [{"command": command, "slot": "task", "count": task_count}]
        return cls([slot_or_node], tasks, attributes=attributes)._set_extra_options(**kwargs)

    @classmethod
    def from_command(
        cls,
        command,
        num_tasks=1,
        cores_per_task=1,
        gpus_per_task=None,
        num_nodes=None,
        exclusive=False,
        duration=None,
        environment=None,
        env_expand=None,
        cwd=None,
        rlimits=None,
        name=None,
        input=None,
        output=None,
        error=None,
        label_io=False,
        unbuffered=False,
        queue=None,
        bank=None,
    ):
        """The minimal jobspec running COMMAND (a list of str) as NUM_TASKS
        tasks, one per slot of CORES_PER_TASK cores (and GPUS_PER_TASK gpus).

        With NUM_NODES the slots are spread over that many nodes: each node
        holds ceil(num_tasks / num_nodes) slots, and when that does not
        divide evenly the task count becomes a total so the spare slots stay
        empty. EXCLUSIVE (only with NUM_NODES) asks for whole nodes.

        The job gets os.environ unless ENVIRONMENT is given, no time limit
        (duration 0) unless DURATION (seconds, FSD string or timedelta), and
        no cwd unless CWD. NAME, INPUT/OUTPUT/ERROR (paths; "kvs" or "none"
        mean the default), LABEL_IO, UNBUFFERED, QUEUE, BANK, RLIMITS
        ({name: value}) and ENV_EXPAND ({var: template}) set the matching
        attributes or shell options."""
        if not isinstance(num_tasks, int) or num_tasks < 1:
            raise ValueError("task count must be a integer >= 1")
        if not isinstance(cores_per_task, int) or cores_per_task < 1:
            raise ValueError("cores per task must be an integer >= 1")
        if gpus_per_task is not None:
            if not isinstance(gpus_per_task, int) or gpus_per_task < 0:
                raise ValueError("gpus per task must be an integer >= 0")
        if num_nodes is not None:
            if not isinstance(num_nodes, int) or num_nodes < 1:
                raise ValueError("node count must be an integer >= 1 (if set)")
            if num_nodes > num_tasks:
                raise ValueError("node count must not be greater than task count")
        elif exclusive:
            raise ValueError("exclusive can only be set with a node count")
        children = [cls._create_resource("core", cores_per_task)]
        if gpus_per_task:
            children.append(cls._create_resource("gpu", gpus_per_task))
        task_count = {"per_slot": 1}
        if num_nodes is None:
            top = cls._create_slot("task", num_tasks, children)
        else:
            slots_per_node = -(-num_tasks // num_nodes)  # ceiling division
            if num_tasks % num_nodes:
                task_count = {"total": num_tasks}
            slot = cls._create_slot("task", slots_per_node, children)
            top = cls._create_resource("node", num_nodes, [slot], exclusive)
        return cls._build(
            command,
            top,
            task_count,
            duration=duration,
            environment=environment,
            env_expand=env_expand,
            cwd=cwd,
            rlimits=rlimits,
            name=name,
            input=input,
            output=output,
            error=error,
            label_io=label_io,
            unbuffered=unbuffered,
            queue=queue,
            bank=bank,
        )

    @classmethod
    def per_resource(
        cls,
        command,
        ncores=None,
        nnodes=None,
        per_resource_type=None,
        per_resource_count=None,
        gpus_per_node=None,
        exclusive=False,
        **kwargs,
    ):
        """A jobspec asking for NCORES cores and/or NNODES nodes, whose task
        count the shell derives: PER_RESOURCE_COUNT tasks per
        PER_RESOURCE_TYPE ("node" or "core"; the per-resource shell option).

        With NNODES and NCORES each node gets one slot of ncores/nnodes
        cores; NCORES alone asks for that many 1-core slots; NNODES alone
        needs EXCLUSIVE (one slot of one core per node, whole nodes).
        KWARGS are from_command's options from DURATION on."""
        per_resource = None
        if per_resource_type is not None and per_resource_count is not None:
            if not isinstance(per_resource_type, str):
                raise ValueError("per_resource_type must be a string")
            if per_resource_type not in ("node", "core"):
                raise ValueError(f"Invalid per_resource_type='{per_resource_type}' specified")
            if not isinstance(per_resource_count, int):
                raise ValueError("per_resource_count must be an integer")
            if per_resource_count < 1:
                raise ValueError("per_resource_count must be >= 1")
            per_resource = {"type": per_resource_type, "count": per_resource_count}
        elif per_resource_type is not None:
            raise ValueError("must specify a per_resource_count with per_resource_type")
        elif per_resource_count is not None:
            raise ValueError("must specify a per_resource_type with per_resource_count")
        if ncores is not None and (not isinstance(ncores, int) or ncores < 1):
            raise ValueError("ncores must be an integer >= 1")
        if gpus_per_node is not None:
            if not isinstance(gpus_per_node, int) or gpus_per_node < 0:
                raise ValueError("gpus_per_node must be an integer >= 0")
            if not nnodes:
                raise ValueError("gpus_per_node must be specified with nnodes")
        if nnodes is not None:
            if not isinstance(nnodes, int) or nnodes < 1:
                raise ValueError("nnodes must be an integer >= 1")
        elif exclusive:
            raise ValueError("exclusive can only be set with a node count")
        if nnodes and ncores:
            if ncores < nnodes:
                raise ValueError("number of cores cannot be less than nnodes")
            if ncores % nnodes:
                raise ValueError("number of cores must be evenly divisible by node count")
            nslots, slot_size = 1, ncores // nnodes  # slots per node
        elif ncores:
            nslots, slot_size = ncores, 1
        elif nnodes:
            if not exclusive:
                raise ValueError("Specifying nnodes also requires ncores or exclusive")
            nslots, slot_size = 1, 1
        else:
            raise ValueError("must specify node or core count with per_resource")
        children = [cls._create_resource("core", slot_size)]
        if gpus_per_node:
            children.append(cls._create_resource("gpu", gpus_per_node))
        top = cls._create_slot("task", nslots, children)
        if nnodes:
            top = cls._create_resource("node", nnodes, [top], exclusive)
        return cls._build(command, top, {"per_slot": 1}, per_resource, **kwargs)

    @classmethod
    def from_batch_command(
        cls,
        script,
        jobname,
        args=None,
        num_slots=1,
        cores_per_slot=1,
        gpus_per_slot=None,
        num_nodes=None,
        broker_opts=None,
        exclusive=False,
        conf=None,
        **kwargs,
    ):
        """A nested Flux instance whose initial program is SCRIPT (its text,
        which must start with "#!") run with ARGS. The script travels in the
        jobspec as the file "script" (mode 0700) and the job is named
        JOBNAME. The other arguments are from_nest_command's."""
        if not script.startswith("#!"):
            raise ValueError(f"{jobname} does not appear to start with '#!'")
        jobspec = cls.from_nest_command(
            ["{{tmpdir}}/script", *(args or ())],
            num_slots=num_slots,
            cores_per_slot=cores_per_slot,
            gpus_per_slot=gpus_per_slot,
            num_nodes=num_nodes,
            broker_opts=broker_opts,
            exclusive=exclusive,
            conf=conf,
            name=jobname,
            **kwargs,
        )
        jobspec.add_file("script", script, perms=0o700, encoding="utf-8")
        return jobspec

    @classmethod
    def from_nest_command(
        cls,
        command,
        num_slots=1,
        cores_per_slot=1,
        gpus_per_slot=None,
        num_nodes=None,
        broker_opts=None,
        exclusive=False,
        conf=None,
        **kwargs,
    ):
        """A nested Flux instance: one `flux broker BROKER_OPTS... COMMAND`
        per node, over NUM_SLOTS slots of CORES_PER_SLOT cores (and
        GPUS_PER_SLOT gpus), spread over NUM_NODES nodes if given. CONF (a
        dict) becomes the file conf.json, passed to the brokers with -c.
        KWARGS are from_command's options from DURATION on."""
        broker_opts = list(broker_opts or ())
        if conf is not None:
            broker_opts.append("-c{{tmpdir}}/conf.json")
        jobspec = cls.from_command(
            ["flux", "broker", *broker_opts, *command],
            num_tasks=num_slots,
            cores_per_task=cores_per_slot,
            gpus_per_task=gpus_per_slot,
            num_nodes=num_nodes,
            exclusive=exclusive,
            **kwargs,
        )
        jobspec.setattr_shell_option("per-resource.type", "node")  # one broker per node
        jobspec.setattr_shell_option("mpi", "none")
        jobspec.setattr_shell_option("exit-timeout", "none")  # a broker exiting early is normal
        if conf is not None:
            jobspec.add_file("conf.json", conf)
        return jobspec

    # ---- the flux submit/run/batch/alloc option set

    @classmethod
    def from_submit(cls, command, *, ntasks=1, nodes=None, cores_per_task=1,
                    gpus_per_task=None, exclusive=False, name=None, queue=None, bank=None,
                    cwd=None, output=None, error=None, input=None, label_io=False,
                    unbuffered=False, **kwargs):
        """A job running COMMAND as flux submit would make it: from_command
        with these arguments, then apply_options(prog="submit", **KWARGS).
        The environment and default rlimits are propagated unless KWARGS
        say otherwise (env=, rlimit=)."""
        jobspec = cls.from_command(
            command, num_tasks=ntasks, cores_per_task=cores_per_task,
            gpus_per_task=gpus_per_task, num_nodes=nodes, exclusive=exclusive, name=name,
            queue=queue, bank=bank, cwd=cwd, output=output, error=error, input=input,
            label_io=label_io, unbuffered=unbuffered)
        return jobspec._apply_cli_options("submit", kwargs)

    @classmethod
    def from_alloc(cls, *, nslots=None, nodes=None, cores_per_slot=1, gpus_per_slot=None,
                   exclusive=False, broker_opts=None, conf=None, bg=False, name=None,
                   queue=None, bank=None, cwd=None, output=None, error=None, input=None,
                   label_io=False, unbuffered=False, **kwargs):
        """A nested instance as flux alloc would make it: from_nest_command
        with no initial program, then apply_options(prog="alloc", **KWARGS).
        NSLOTS defaults to NODES (and then exclusive); one of them is
        needed. CONF is a dict, BatchConfig or --conf string; CWD defaults
        to ours; BG starts the instance without an initial program
        (broker.rc2_none) and captures its pty."""
        if nslots is None:
            if nodes is None:
                raise ValueError("from_alloc() requires nslots or nodes")
            nslots, exclusive = nodes, True
        broker_opts = list(broker_opts or [])
        if bg:
            broker_opts.append("-Sbroker.rc2_none=1")
        jobspec = cls.from_nest_command(
            [], num_slots=nslots, cores_per_slot=cores_per_slot, gpus_per_slot=gpus_per_slot,
            num_nodes=nodes, broker_opts=broker_opts, exclusive=exclusive,
            conf=normalize_conf(conf), name=name, queue=queue, bank=bank,
            cwd=os.getcwd() if cwd is None else cwd, output=output, error=error, input=input,
            label_io=label_io, unbuffered=unbuffered)
        if bg:
            jobspec.setattr_shell_option("pty.capture", 1)
        return jobspec._apply_cli_options("alloc", kwargs)

    @classmethod
    def from_batch(cls, script=None, *, content=None, nslots=None, nodes=None,
                   cores_per_slot=1, gpus_per_slot=None, exclusive=False, broker_opts=None,
                   conf=None, wrap=False, name=None, queue=None, bank=None, cwd=None,
                   output=None, error=None, input=None, label_io=False, unbuffered=False,
                   **kwargs):
        """A batch job as flux batch would make it: from_batch_command, then
        apply_options(prog="batch", **KWARGS). The script is the file
        SCRIPT (the job is named after it) or the text CONTENT (the job is
        named "batch"), not both; WRAP puts "#!/bin/sh" before one without
        "#!". NSLOTS defaults to NODES (and then exclusive), else 1; CWD
        to ours; OUTPUT to flux-{{id}}.out."""
        if (script is None) == (content is None):
            raise TypeError("from_batch() takes either 'script' (a file path) or "
                            "'content' (the script itself)")
        if content is None:
            path = pathlib.Path(script)
            content = path.read_text(encoding="utf-8")
            name = path.name if name is None else name
        if wrap and not content.startswith("#!"):
            content = "#!/bin/sh\n" + content
        if nslots is None:
            nslots = 1 if nodes is None else nodes
            exclusive = exclusive or nodes is not None
        jobspec = cls.from_batch_command(
            content, "batch" if name is None else name, num_slots=nslots,
            cores_per_slot=cores_per_slot, gpus_per_slot=gpus_per_slot, num_nodes=nodes,
            broker_opts=broker_opts, exclusive=exclusive, conf=normalize_conf(conf),
            cwd=os.getcwd() if cwd is None else cwd,
            output="flux-{{id}}.out" if output is None else output, error=error, input=input,
            label_io=label_io, unbuffered=unbuffered, queue=queue, bank=bank)
        return jobspec._apply_cli_options("batch", kwargs)

    def _apply_cli_options(self, prog, kwargs):
        # as the commands do: env and rlimit propagate even when not given
        env, rlimit = kwargs.pop("env", []), kwargs.pop("rlimit", [])
        return self.apply_options(prog=prog, env=env, rlimit=rlimit, **kwargs)

    def apply_options(self, args=None, *, prog=None, _preinit=True, env=None, rlimit=None,
                      signal=None, taskmap=None, dependency=None, requires=None,
                      shell_options=None, time_limit=None, attributes=None, add_file=None,
                      **plugin_options):
        """Apply flux submit's options to this jobspec; returns self.

        Options come from ARGS (an argparse.Namespace or any object with
        such attributes; the strings of --setopt/--setattr as `setopt` and
        `setattr` lists) and from keywords, which win:

          env           --env rules (["-PATH", "A=1", "B={{id}}", "^file"])
          rlimit        --rlimit rules (["-*", "nofile=1024"])
          signal        "[SIG][@TIME]"
          taskmap       "block", "cyclic", ...
          dependency    ["afterok:ID", ...]
          requires      ["host:n1", "gpu", ...] (ANDed)
          shell_options {option: value}
          time_limit    seconds or FSD ("30m")
          attributes    {key: value}: a bare key is under system., one
                        starting with "." is under attributes.
          add_file      ["PATH", "NAME=PATH", "NAME[:PERMS]=DATA", ...]

        A string where a list is expected is one item. env and rlimit are
        applied only when given (env=[] propagates our whole environment)
        or when ARGS is. With PROG ("submit", "run", "batch", "alloc") the
        CLI plugins for that command run, and their option names are
        accepted as further keywords; other keywords are a TypeError."""
        registry = _plugin_registry(prog)
        known = {opt.dest for opt in registry.options} if registry else set()
        unknown = sorted(set(plugin_options) - known)
        if unknown:
            raise TypeError("apply_options() got unexpected keyword argument(s): "
                            + ", ".join(repr(k) for k in unknown))
        given = {"env": env, "rlimit": rlimit, "signal": signal, "taskmap": taskmap,
                 "dependency": dependency, "requires": requires,
                 "shell_options": shell_options, "time_limit": time_limit,
                 "attributes": attributes, "add_file": add_file, **plugin_options}
        merged = dict.fromkeys(given)
        merged.update(vars(args) if args is not None else {})
        merged.update({k: v for k, v in given.items() if v is not None})
        opts = types.SimpleNamespace(**merged)
        for name in ("requires", "dependency", "env", "rlimit"):
            if isinstance(getattr(opts, name), str):
                setattr(opts, name, [getattr(opts, name)])

        if env is not None or args is not None:
            self.environment, env_expand = get_filtered_environment(opts.env)
            if env_expand:
                self.setattr_shell_option("env-expand", env_expand)
        if rlimit is not None or args is not None:
            limits = get_filtered_rlimits(opts.rlimit)
            if limits:
                self.setattr_shell_option("rlimit", limits)
        if opts.signal:
            self.setattr_shell_option("signal", parse_signal_option(opts.signal))
        if opts.taskmap is not None:
            self.setattr_shell_option("taskmap", URIArg(opts.taskmap, "taskmap").entry)
        if opts.dependency is not None:
            self.setattr("system.dependencies", dependency_array_create(opts.dependency))
        if opts.requires is not None:
            query = " ".join(opts.requires)
            try:
                self.setattr("system.constraints", MiniConstraintParser().parse(query))
            except ConstraintSyntaxError as exc:
                raise ValueError(f"--requires='{query}': {exc}") from None
        options = dict(parse_jobspec_keyval("--setopt", kv)
                       for kv in getattr(opts, "setopt", None) or [])
        options.update(opts.shell_options or {})
        for key, val in options.items():
            self.setattr_shell_option(key, val)
        if opts.time_limit is not None:
            self.duration = decode_duration(opts.time_limit)
        attrs = dict(parse_jobspec_keyval("--setattr", kv)
                     for kv in getattr(opts, "setattr", None) or [])
        attrs.update(opts.attributes or {})
        for key, val in attrs.items():
            if key.startswith("."):
                key = "attributes" + key
            elif not key.startswith(("attributes.", "user.", "system.")):
                key = "system." + key
            self.setattr(key, val)
        for arg in opts.add_file or []:
            jobspec_add_file(self, arg)
        if registry:
            if _preinit:
                for opt in registry.options:  # argparse would have set defaults
                    if not hasattr(opts, opt.dest):
                        setattr(opts, opt.dest, opt.kwargs.get("default"))
                registry.preinit(opts)
            registry.modify_jobspec(opts, self)
        return self


def _plugin_registry(prog):
    """The CLI plugins for command PROG, or None (no PROG, or no
    flux.cli.plugin in this flux)."""
    if not prog:
        return None
    try:
        from flux.cli.plugin import CLIPluginRegistry
    except ImportError:
        return None
    return CLIPluginRegistry(prog)
