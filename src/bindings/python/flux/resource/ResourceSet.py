"""ResourceSet: flux-core's Python resource set API over an Rv1Set."""

import json
from collections.abc import Mapping

from flux.hostlist import Hostlist
from flux.resource.Rv1Set import Rv1Set


class ResourceSet:
    """A set of resources: ranks, their hosts, cores and GPUs (RFC 20 R).

    ResourceSet(arg=None, version=1) takes an R JSON string, an R dict, an
    Rv1Set, or nothing (an empty set). TypeError for another type of arg,
    ValueError for an unsupported version or invalid R (json's
    JSONDecodeError, a ValueError, for invalid JSON), KeyError for a dict
    without "version". Extra keyword arguments go to Rv1Set (e.g.
    keep_scheduling=True).

    Operators: a | b (union), a & b (intersection), a - b (difference),
    each a new set keeping a's state. str() is the short form, e.g.
    "rank[0-3]/core[0-3],gpu0".
    """

    def __init__(self, arg=None, version=1, **kwargs):
        self._state = None
        if isinstance(arg, Rv1Set):
            self.impl = arg
            self.version = arg.version
            return
        if isinstance(arg, str):
            arg = json.loads(arg)
        if isinstance(arg, Mapping):
            version = arg["version"]
        elif arg is not None:
            raise TypeError(f"ResourceSet cannot be instantiated from {type(arg)}")
        if version != 1:
            raise ValueError(f"R version {version} not supported")
        self.version = 1
        self.impl = Rv1Set(arg, **kwargs)

    def _coerce(self, arg):
        return arg if isinstance(arg, ResourceSet) else ResourceSet(arg, version=self.version)

    def _derived(self, impl):
        """A new set around IMPL that keeps this set's state."""
        rset = ResourceSet(impl)
        rset.state = self.state
        return rset

    def __str__(self):
        return self.dumps()

    def __repr__(self):
        return f"ResourceSet('{self.dumps()}')"

    def __or__(self, other):
        return self.union(other)

    def __and__(self, other):
        return self.intersect(other)

    def __sub__(self, other):
        return self.diff(other)

    def dumps(self):
        """The short human-readable form, as str()."""
        return self.impl.dumps()

    def encode(self):
        """The set as R JSON."""
        return self.impl.encode()

    def to_dict(self):
        """The set as an R dict."""
        return self.impl.to_dict()

    def count(self, name):
        """How many resources of type NAME ("core", "gpu", ...); 0 for an
        unknown type."""
        return self.impl.count(name)

    def copy(self):
        return self._derived(self.impl.copy())

    def append(self, *args):
        """Add the resources of each arg (a ResourceSet or R) in place."""
        for arg in args:
            self.impl.append(self._coerce(arg).impl)
        return self

    def add(self, *args):
        """Add the resources of each arg not already here, in place."""
        for arg in args:
            self.impl.add(self._coerce(arg).impl)
        return self

    def _fold(self, method, args):
        impl = self.impl
        for arg in args:
            impl = getattr(impl, method)(self._coerce(arg).impl)
        return self._derived(impl if args else impl.copy())

    def union(self, *args):
        """A new set with the resources of this and all of ARGS."""
        return self._fold("union", args)

    def diff(self, *args):
        """A new set with this set's resources that none of ARGS holds."""
        return self._fold("diff", args)

    def intersect(self, *args):
        """A new set with the resources this and every one of ARGS hold."""
        return self._fold("intersect", args)

    def copy_ranks(self, ranks):
        """A new set of only RANKS (IDset, idset string or int)."""
        return self._derived(self.impl.copy_ranks(ranks))

    def remove_ranks(self, ranks):
        """Drop RANKS (IDset, idset string or int) from this set."""
        self.impl.remove_ranks(ranks)
        return self

    def copy_constraint(self, constraint):
        """A new set of the ranks matching an RFC 31 constraint (dict or
        JSON string); ValueError if the constraint is invalid."""
        return self._derived(self.impl.copy_constraint(constraint))

    def set_property(self, name, ranks=None):
        """Give property NAME to RANKS (default all); ValueError for an
        invalid name or ranks outside the set."""
        self.impl.set_property(name, ranks)
        return self

    def get_properties(self):
        """The RFC 20 properties object as JSON: {name: rank idset}."""
        return self.impl.get_properties()

    def host_ranks(self, hosts, ignore_nomatch=False):
        """The rank of each host of HOSTS (a hostlist), in that order.
        FileNotFoundError for a host not in the set, unless ignore_nomatch."""
        if not isinstance(hosts, Hostlist):
            hosts = Hostlist(hosts)
        rank_of = {}
        for rank, host in sorted(self.impl.hostnames().items(), reverse=True):
            rank_of[host] = rank  # the lowest rank wins for a repeated name
        missing = [host for host in hosts if host not in rank_of]
        if missing and not ignore_nomatch:
            noun = "hosts" if len(missing) > 1 else "host"
            raise FileNotFoundError(f"{noun} '{Hostlist(missing)}' not found")
        return [rank_of[host] for host in hosts if host in rank_of]

    @property
    def state(self):
        """A label for the set ("up", "down", "allocated", ...), or None."""
        return self._state

    @state.setter
    def state(self, value):
        self._state = value

    @property
    def nodelist(self):
        """Hostnames in rank order, a flux.hostlist.Hostlist."""
        return self.impl.nodelist()

    @property
    def ranks(self):
        """The ranks, a flux.idset.IDset."""
        return self.impl.ranks()

    @property
    def nnodes(self):
        return self.impl.nnodes()

    @property
    def ncores(self):
        return self.impl.count("core")

    @property
    def ngpus(self):
        return self.impl.count("gpu")

    @property
    def rlist(self):
        """The short form (as flux resource list's {rlist} field)."""
        return self.impl.dumps()

    @property
    def properties(self):
        """The property names, comma separated."""
        return ",".join(self.impl.property_names())

    @property
    def starttime(self):
        return self.impl.get_starttime()

    @starttime.setter
    def starttime(self, value):
        self.impl.set_starttime(value)

    @property
    def expiration(self):
        return self.impl.get_expiration()

    @expiration.setter
    def expiration(self, value):
        self.impl.set_expiration(value)
