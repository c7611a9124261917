"""flux.queue: the instance's queues, their state, limits and resources.

    qlist = QueueList(flux.Flux())      # every configured queue
    for queue in qlist:                 # QueueInfo objects
        print(queue.name, queue.enabled, queue.started)
    qlist["batch"], qlist.batch         # one queue by name
    qlist[""]                           # the anonymous queue, when no
                                        # [queues] are configured

A QueueInfo has name, is_default, enabled, started, blocked, parent
(RFC 33 virtual queues), defaults.duration, limits.duration,
limits.min/max.{nnodes,ncores,ngpus} (max is inf when unlimited) and
resources.{all,up,down,allocated,free} (ResourceSets restricted to the
queue's "requires" properties).

Sources: config.get (queue config and policy), job-manager.queue-status
(per queue state) and resource_list() (resources).
"""

import math
from dataclasses import dataclass

from flux.resource import resource_list
from flux.util import parse_fsd

__all__ = [
    "QueueDefaults",
    "QueueInfo",
    "QueueLimits",
    "QueueList",
    "QueueResourceCounts",
    "QueueResources",
]


@dataclass
class QueueResourceCounts:
    """Node, core and GPU counts of a job size limit."""

    nnodes: float
    ncores: float
    ngpus: float


@dataclass
class QueueLimits:
    """A queue's job size limits and duration limit (seconds, inf if none)."""

    min: QueueResourceCounts
    max: QueueResourceCounts
    duration: float

    @property
    def timelimit(self):
        """Another name for duration."""
        return self.duration


@dataclass
class QueueDefaults:
    """A queue's default job duration (seconds, inf if none)."""

    duration: float

    @property
    def timelimit(self):
        """Another name for duration."""
        return self.duration


def _parent_config(name, parent, queues):
    if parent not in queues:
        raise ValueError(f"queue '{name}': parent queue '{parent}' is not configured")
    return queues[parent]


class QueueResources:
    """The resources of one queue: attributes all, up, down, allocated and
    free (and anything else) come from the instance's resource list, cut
    down to the queue's "requires" properties. A virtual queue (RFC 33)
    has its parent's."""

    def __init__(self, name, resources, config, parent=""):
        queues = config.get("queues", {})
        requires = queues.get(name, {}).get("requires") if name else None
        if requires is None and parent:
            requires = _parent_config(name, parent, queues).get("requires")
        if requires is not None:
            resources = resources.copy_constraint({"properties": requires})
        self._resource_list = resources

    def __getattr__(self, attr):
        if attr.startswith("__") or attr == "_resource_list":
            raise AttributeError(attr)
        return getattr(self._resource_list, attr)


class QueueInfo:
    """One queue: its state from job-manager.queue-status and its policy
    from CONFIG (the instance's whole config). A setting is looked up in
    the queue's own [queues.NAME] table, then its parent's, then the
    top level."""

    def __init__(self, name, config, resources, enabled, started, default, parent="",
                 blocked=None):
        # pylint: disable=too-many-arguments
        self.name = name or ""
        self.config = config
        self.is_default = default
        self.enabled = enabled
        self.started = started
        self.parent = parent or ""
        self.blocked = blocked  # "scheduler", "parent" or None
        self.resources = QueueResources(name, resources, config, self.parent)
        self.defaults = QueueDefaults(
            duration=parse_fsd(self._lookup(("policy", "jobspec", "defaults", "system",
                                             "duration"), "inf")))
        sizes = {}
        for which in ("min", "max"):
            unset = math.inf if which == "max" else 0
            counts = {}
            for res in ("nnodes", "ncores", "ngpus"):
                val = self._lookup(("policy", "limits", "job-size", which, res), unset)
                counts[res] = math.inf if val < 0 else val
            sizes[which] = QueueResourceCounts(**counts)
        self.limits = QueueLimits(
            min=sizes["min"],
            max=sizes["max"],
            duration=parse_fsd(self._lookup(("policy", "limits", "duration"), "inf")),
        )

    def _config_entries(self):
        """The config tables that may hold this queue's settings, most
        specific first."""
        queues = self.config.get("queues", {})
        if self.name in queues:
            yield queues[self.name]
        if self.parent:
            yield _parent_config(self.name, self.parent, queues)
        yield self.config

    def _lookup(self, path, default):
        for table in self._config_entries():
            for key in path:
                if not isinstance(table, dict) or key not in table:
                    break
                table = table[key]
            else:
                return table
        return default

    def __repr__(self):
        return (f"QueueInfo(name={self.name!r}, enabled={self.enabled}, "
                f"started={self.started}, default={self.is_default})")


class QueueList:
    """The queues of the instance (or only those named in QUEUES; ValueError
    for one that is not configured). Iterate for QueueInfo objects, or
    index by name (qlist["batch"] or qlist.batch; "" or None for the
    anonymous queue)."""

    def __init__(self, handle, queues=None):
        rlist_future = resource_list(handle)
        config_future = handle.rpc("config.get")
        resources, config = rlist_future.get(), config_future.get()

        configured = config.get("queues", {})
        self.default_queue = self._default_queue(config)
        if queues:
            unknown = [q for q in queues if q not in configured]
            if unknown:
                raise ValueError(f"No such queue: {unknown[0]}")
            names = list(queues)
        else:
            names = list(configured)

        self._anonymous = None
        if not names:
            status = handle.rpc("job-manager.queue-status", {}).get()
            self._anonymous = self._info(None, config, resources, status, True)
            self._queues = {"": self._anonymous}
        else:
            futures = {n: handle.rpc("job-manager.queue-status", {"name": n}) for n in names}
            self._queues = {
                n: self._info(n, config, resources, f.get(), n == self.default_queue)
                for n, f in futures.items()
            }

    @staticmethod
    def _info(name, config, resources, status, default):
        return QueueInfo(name, config, resources, status["enable"], status["start"], default,
                         status.get("parent", ""), status.get("blocked"))

    @staticmethod
    def _default_queue(config):
        """The configured default queue ("" if none)."""
        try:
            return config["policy"]["jobspec"]["defaults"]["system"]["queue"]
        except (KeyError, TypeError):
            return ""

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        try:
            return self._queues[attr]
        except KeyError:
            raise AttributeError(f"no queue named {attr!r}") from None

    def __getitem__(self, item):
        if item is None:
            return self._anonymous
        return self._queues[item]

    def __iter__(self):
        return iter(self._queues.values())

    def __len__(self):
        return len(self._queues)
