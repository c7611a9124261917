"""resource_list(): the scheduler's view of the instance's resources."""

import errno
import os

from flux.idset import IDset
from flux.resource.ResourceSet import ResourceSet
from flux.rpc import RPC

FALLBACK_TOPIC = "sched.resource-status"


class SchedResourceList:
    """The answer of resource.sched-status (or sched.resource-status).

    Attributes (ResourceSets, each with .state set to its name): all,
    down (drained or offline), allocated, and computed from those
    up (all - down) and free (up - allocated). Also subscriptable:
    rlist["free"].
    """

    _states = ("all", "down", "allocated")

    def __init__(self, resp):
        self._sets = {}
        for state in self._states:
            rset = resp.get(state)
            if not isinstance(rset, ResourceSet):
                rset = ResourceSet(rset)
            rset.state = state
            self._sets[state] = rset
        self._derived = {}

    def __getitem__(self, state):
        return getattr(self, state)

    @property
    def all(self):
        return self._sets["all"]

    @property
    def down(self):
        return self._sets["down"]

    @property
    def allocated(self):
        return self._sets["allocated"]

    def _memo(self, state, make):
        """Derived sets are made once, so changes to them (e.g. .state) stick."""
        if state not in self._derived:
            rset = make()
            rset.state = state
            self._derived[state] = rset
        return self._derived[state]

    @property
    def up(self):  # pylint: disable=invalid-name
        """Resources that are not down."""
        return self._memo("up", lambda: self.all - self.down)

    @property
    def free(self):
        """Resources neither down nor allocated."""
        return self._memo("free", lambda: self.up - self.allocated)

    def filter(self, include):
        """Keep only the ranks INCLUDE names: an idset (IDset or string) or
        else a hostlist of hosts in the set (unknown hosts are ignored)."""
        try:
            ranks = IDset(str(include))
        except (ValueError, TypeError, OSError):
            ranks = self.all.host_ranks(include, ignore_nomatch=True)
        for state in self._states:
            rset = self._sets[state].copy_ranks(ranks)
            rset.state = state
            self._sets[state] = rset
        self._derived = {}

    def copy_constraint(self, constraint):
        """A new SchedResourceList of the resources matching an RFC 31
        constraint."""
        return SchedResourceList(
            {state: self._sets[state].copy_constraint(constraint) for state in self._states}
        )


class ResourceListRPC(RPC):
    """The future of a resource_list() request: get() gives a
    SchedResourceList. If TOPIC has no service (ENOSYS), the request is
    sent again to the scheduler's own sched.resource-status."""

    def __init__(self, flux_handle, topic, nodeid=0):
        super().__init__(flux_handle, topic, nodeid=nodeid)
        self._nodeid = nodeid

    def _retry(self, exc):
        """Resend to FALLBACK_TOPIC after ENOSYS; True if it did."""
        if exc.errno != errno.ENOSYS or self.topic == FALLBACK_TOPIC:
            return False
        retry = RPC(self.flux_handle, FALLBACK_TOPIC, nodeid=self._nodeid)
        self.topic, self._core = FALLBACK_TOPIC, retry._core
        self._have, self._payload, self._error = False, None, None
        return True

    def _fetch(self):
        try:
            super()._fetch()
        except OSError as exc:
            if not self._retry(exc):
                raise
            super()._fetch()

    def _on_ready(self):
        # with then(): look at the first answer before the callback sees it
        if self._armed and self._then is not None and self.topic != FALLBACK_TOPIC:
            try:
                super()._fetch()  # ready, so this does not block
            except OSError as exc:
                if self._retry(exc):
                    self._disarm()
                    self._arm()
                    return
        super()._on_ready()

    def get(self):
        """The SchedResourceList (waits for it; OSError if it failed)."""
        return SchedResourceList(super().get())


def resource_list(flux_handle):
    """Ask for the scheduler's view of resources (topic
    $FLUX_RESOURCE_LIST_RPC, default resource.sched-status).

    Returns a ResourceListRPC: .get() gives a SchedResourceList, and
    .then(cb) calls cb(future) once it is ready."""
    topic = os.environ.get("FLUX_RESOURCE_LIST_RPC") or "resource.sched-status"
    return ResourceListRPC(flux_handle, topic, nodeid=0)
