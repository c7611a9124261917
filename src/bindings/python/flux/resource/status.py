"""resource_status(): rank states from the resource module, combined with
the scheduler's allocations and the job manager's housekeeping."""

from typing import NamedTuple

from flux.idset import IDset
from flux.resource.list import resource_list
from flux.resource.ResourceSet import ResourceSet
from flux.rpc import RPC


class DrainInfo(NamedTuple):
    """Ranks drained at the same time for the same reason."""

    ranks: IDset
    timestamp: float
    reason: str


def _ids(text):
    return IDset(str(text)) if text else IDset()


class ResourceStatus:
    """Which ranks are in which state. IDset attributes:

    all, online, offline, exclude (by configuration), torpid
    (unresponsive), allocated (holding jobs), housekeeping, drained
    (drained, not allocated), draining (drained and allocated), avail
    (all but excluded, drained, draining and torpid). Also nodelist (a
    Hostlist, rank order), rset (the ResourceSet) and drain_info (a list
    of DrainInfo). Subscriptable: status["drained"].
    """

    _filtered = ("all", "online", "offline", "exclude", "torpid", "allocated", "housekeeping")

    def __init__(self, rstatus=None, allocated_ranks=None, housekeeping_ranks=None):
        if rstatus is None:
            rstatus = {"R": None, "online": "", "offline": "", "exclude": "",
                       "torpid": "", "drain": {}}
        self.rstatus = rstatus
        self.rset = ResourceSet(rstatus["R"])
        self.nodelist = self.rset.nodelist
        self.allocated_ranks = allocated_ranks if allocated_ranks is not None else IDset()
        self.housekeeping_ranks = (housekeeping_ranks if housekeeping_ranks is not None
                                   else IDset())
        self._recalculate()

    def __getitem__(self, state):
        return getattr(self, state)

    def filter(self, include):
        """Report only the ranks INCLUDE names: an idset (IDset or string),
        or else a hostlist (hosts not in the instance are ignored)."""
        try:
            ranks = IDset(str(include))
        except (ValueError, TypeError, OSError):
            found = self.rset.host_ranks(include, ignore_nomatch=True)
            ranks = IDset(",".join(str(rank) for rank in found))
        self._recalculate(ranks)

    def _recalculate(self, include=None):
        status = self.rstatus
        self.all = self.rset.ranks
        self.online = _ids(status.get("online"))
        self.offline = _ids(status.get("offline"))
        self.exclude = _ids(status.get("exclude"))
        self.torpid = _ids(status.get("torpid"))  # older services lack it
        self.allocated = IDset(str(self.allocated_ranks))
        self.housekeeping = IDset(str(self.housekeeping_ranks))
        if include is not None:
            for name in self._filtered:
                setattr(self, name, getattr(self, name) & include)

        drained = IDset()
        self.drain_info = []
        self._drain_of = {}
        for idset, entry in status.get("drain", {}).items():
            ranks = _ids(idset)
            if include is not None:
                ranks = ranks & include
            info = DrainInfo(ranks, entry.get("timestamp", 0.0), entry.get("reason", ""))
            self.drain_info.append(info)
            drained = drained | ranks
            for rank in ranks:
                self._drain_of[rank] = info
        self.draining = drained & self.allocated
        self.drained = drained - self.draining
        self.avail = self.all - self.get_idset("exclude", "drained", "draining", "torpid")

    def get_idset(self, *states):
        """The union of the IDsets of STATES."""
        result = IDset()
        for state in states:
            result = result | self[state]
        return result

    def get_drain_info(self, rank):
        """The DrainInfo of RANK, or None if it is not drained; ValueError
        for a rank not in the instance."""
        if rank not in self.all:
            raise ValueError(f"invalid rank {rank}")
        return self._drain_of.get(rank)


class ResourceStatusRPC:
    """resource_status()'s pending answer: the requests to the resource
    module, the scheduler and the job manager, all sent at once."""

    def __init__(self, flux_handle):
        self._status = RPC(flux_handle, "resource.status", nodeid=0)
        self._list = resource_list(flux_handle)
        self._stats = RPC(flux_handle, "job-manager.stats-get", nodeid=0)

    def get_status(self):
        """resource.status's answer; OSError if it failed."""
        return self._status.get()

    def get_allocated_ranks(self):
        """Ranks holding jobs (empty if the scheduler did not answer)."""
        try:
            return self._list.get().allocated.ranks
        except OSError:
            return IDset()

    def get_housekeeping_ranks(self):
        """Ranks in housekeeping (empty if the job manager does not say)."""
        try:
            running = self._stats.get()["housekeeping"]["running"]
        except (OSError, KeyError, TypeError):
            return IDset()
        ranks = IDset()
        for info in running.values():
            ranks = ranks | _ids(info.get("allocated"))
        return ranks

    def get(self):
        """The ResourceStatus (waits for it; OSError if resource.status failed)."""
        return ResourceStatus(self.get_status(), self.get_allocated_ranks(),
                              self.get_housekeeping_ranks())


def resource_status(flux_handle):
    """Ask the resource module, scheduler and job manager for rank states.
    Returns a ResourceStatusRPC whose get() gives a ResourceStatus."""
    return ResourceStatusRPC(flux_handle)
