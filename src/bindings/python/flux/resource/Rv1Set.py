"""Rv1Set: an RFC 20 (R version 1) resource set held in plain Python.

Each rank is a node: a hostname (from the R nodelist, if any) and its
children, e.g. {"core": {0, 1, 2, 3}, "gpu": {0}}. Set operations work at
the level of these child ids, as libflux's rlist does, so "rank0 cores
0-3" minus "rank0 core 0" leaves rank0 with cores 1-3. A rank left with
no resources is dropped.
"""

import json
from collections.abc import Mapping

from flux.hostlist import Hostlist
from flux.idset import IDset

# RFC 20 forbids these in property names; RFC 31 queries may use "^" (not)
_PROPERTY_INVALID = "^&'\"`|()"
_QUERY_INVALID = "!&'\"`|()"


def encode_ids(ids):
    """RFC 22 range form ("0-3,7") of the integers IDS."""
    ranges = []
    for i in sorted(set(ids)):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def bracketed_ids(ids):
    """The short form rlist prints: "3" for one id, "[0-2,5]" for more."""
    text = encode_ids(ids)
    return f"[{text}]" if len(set(ids)) > 1 else text


def decode_ids(arg, what="idset"):
    """The integers of an RFC 22 string, IDset, int or iterable of ints;
    ValueError if invalid."""
    if isinstance(arg, int) and not isinstance(arg, bool):
        arg = str(arg)
    if not isinstance(arg, (str, IDset)):
        try:
            ids = {int(i) for i in arg}
        except (TypeError, ValueError):
            raise ValueError(f"invalid {what}: {arg!r}") from None
        if any(i < 0 for i in ids):
            raise ValueError(f"invalid {what}: {arg!r}")
        return ids
    try:
        return set(IDset(str(arg)))
    except (ValueError, TypeError, OSError):
        raise ValueError(f"invalid {what}: {arg!r}") from None


def _child_order(name):
    """Cores first, then other resource types by name (as R and dumps show)."""
    return (name != "core", name)


class _Node:
    """One rank: hostname (or None) and {type: frozenset of ids}."""

    __slots__ = ("hostname", "children")

    def __init__(self, hostname, children):
        self.hostname = hostname
        self.children = {
            name: frozenset(ids) for name, ids in sorted(children.items(),
                                                         key=lambda x: _child_order(x[0]))
            if ids
        }

    def __bool__(self):
        return bool(self.children)

    def key(self):
        """Hashable children, to group ranks holding the same resources."""
        return tuple(self.children.items())

    def combine(self, other, op):
        names = set(self.children) | set(other.children)
        empty = frozenset()
        children = {
            name: op(self.children.get(name, empty), other.children.get(name, empty))
            for name in names
        }
        return _Node(self.hostname or other.hostname, children)


class Rv1Set:
    """An R version 1 resource set (see the module doc).

    Made from an R dict, its JSON string, or None (empty). With
    keep_scheduling, the opaque R "scheduling" key is kept and encoded."""

    version = 1

    def __init__(self, arg=None, keep_scheduling=False):
        self._nodes = {}  # rank -> _Node
        self._properties = {}  # name -> set of ranks
        self._starttime = 0.0
        self._expiration = 0.0
        self.scheduling = None
        if arg is None:
            return
        if isinstance(arg, str):
            arg = json.loads(arg)
        if not isinstance(arg, Mapping):
            raise TypeError(f"Rv1Set cannot be instantiated from {type(arg)}")
        if arg["version"] != 1:
            raise ValueError(f"R version {arg['version']} not supported")
        if keep_scheduling:
            self.scheduling = arg.get("scheduling")
        self._load_execution(arg.get("execution"))

    def _load_execution(self, execution):
        if not isinstance(execution, Mapping):
            raise ValueError("R: execution object is missing")
        try:
            self._starttime = float(execution.get("starttime") or 0.0)
            self._expiration = float(execution.get("expiration") or 0.0)
        except (TypeError, ValueError):
            raise ValueError("R: starttime and expiration must be numbers") from None
        children_of = {}
        entries = execution.get("R_lite", [])
        if not isinstance(entries, list):
            raise ValueError("R: R_lite must be an array")
        for entry in entries:
            if not isinstance(entry, Mapping) or "rank" not in entry:
                raise ValueError(f"R: invalid R_lite entry {entry!r}")
            children = entry.get("children", {})
            if not isinstance(children, Mapping):
                raise ValueError(f"R: invalid children in {entry!r}")
            decoded = {name: decode_ids(ids, f"{name} idset") for name, ids in children.items()}
            for rank in decode_ids(entry["rank"], "rank idset"):
                node = children_of.setdefault(rank, {})
                for name, ids in decoded.items():
                    node[name] = node.get(name, set()) | ids
        ranks = sorted(children_of)
        hosts = self._expand_nodelist(execution.get("nodelist"), len(ranks))
        for rank, host in zip(ranks, hosts):
            node = _Node(host, children_of[rank])
            if node:
                self._nodes[rank] = node
        properties = execution.get("properties", {})
        if not isinstance(properties, Mapping):
            raise ValueError("R: properties must be an object")
        for name, ids in properties.items():
            self.set_property(name, ids)

    @staticmethod
    def _expand_nodelist(nodelist, count):
        """One hostname per rank (rank order), or None for each if absent."""
        if not nodelist:
            return [None] * count
        if isinstance(nodelist, str) or not all(isinstance(h, str) for h in nodelist):
            raise ValueError("R: nodelist must be an array of hostlist strings")
        try:
            hosts = list(Hostlist(nodelist))
        except (ValueError, TypeError, OSError):
            raise ValueError(f"R: invalid nodelist {nodelist!r}") from None
        if len(hosts) != count:
            raise ValueError(f"R: nodelist has {len(hosts)} hosts for {count} ranks")
        return hosts

    def _derive(self, nodes):
        """A set of NODES with this set's times, scheduling and the
        properties of the ranks kept."""
        new = Rv1Set()
        new._nodes = nodes
        new._starttime = self._starttime
        new._expiration = self._expiration
        new.scheduling = self.scheduling if nodes else None
        for name, ranks in self._properties.items():
            kept = ranks & set(nodes)
            if kept:
                new._properties[name] = kept
        return new

    # -- views --------------------------------------------------------------

    def _groups(self):
        """(ranks, children) for ranks holding identical resources, in
        order of their lowest rank."""
        groups = {}
        for rank in sorted(self._nodes):
            node = self._nodes[rank]
            groups.setdefault(node.key(), (node.children, []))[1].append(rank)
        return [(ranks, children) for children, ranks in groups.values()]

    def dumps(self):
        """Short form, e.g. "rank[0-1]/core[0-3],gpu0 rank2/core[0-1]"."""
        parts = []
        for ranks, children in self._groups():
            kids = ",".join(name + bracketed_ids(ids) for name, ids in children.items())
            parts.append(f"rank{bracketed_ids(ranks)}/{kids}")
        return " ".join(parts)

    def to_dict(self):
        """This set as an R version 1 dict."""
        r_lite = [
            {"rank": encode_ids(ranks),
             "children": {name: encode_ids(ids) for name, ids in children.items()}}
            for ranks, children in self._groups()
        ]
        execution = {"R_lite": r_lite, "starttime": self._starttime,
                     "expiration": self._expiration}
        hosts = [self._nodes[rank].hostname for rank in sorted(self._nodes)]
        if hosts and all(host is not None for host in hosts):
            execution["nodelist"] = [Hostlist(hosts).encode()]
        if self._properties:
            execution["properties"] = {
                name: encode_ids(ranks) for name, ranks in self._properties.items()
            }
        result = {"version": 1, "execution": execution}
        if self.scheduling is not None:
            result["scheduling"] = self.scheduling
        return result

    def encode(self):
        """This set as R JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def nodelist(self):
        """Hostnames in rank order (ranks without one are skipped)."""
        return Hostlist([self._nodes[r].hostname for r in sorted(self._nodes)
                         if self._nodes[r].hostname is not None])

    def hostnames(self):
        """{rank: hostname} for ranks that have one."""
        return {rank: node.hostname for rank, node in self._nodes.items()
                if node.hostname is not None}

    def ranks(self):
        return IDset(encode_ids(self._nodes))

    def nnodes(self):
        return len(self._nodes)

    def count(self, name):
        """How many resources of type NAME ("core", "gpu", "node") it holds."""
        if name == "node":
            return len(self._nodes)
        return sum(len(node.children.get(name, ())) for node in self._nodes.values())

    def get_properties(self):
        """RFC 20 properties object as JSON: {name: rank idset}."""
        return json.dumps({name: encode_ids(ranks) for name, ranks in self._properties.items()})

    def property_names(self):
        return list(self._properties)

    def get_starttime(self):
        return self._starttime

    def set_starttime(self, starttime):
        self._starttime = float(starttime)

    def get_expiration(self):
        return self._expiration

    def set_expiration(self, expiration):
        self._expiration = float(expiration)

    # -- copies and set operations -----------------------------------------

    def copy(self):
        return self._derive(dict(self._nodes))

    def copy_ranks(self, ranks):
        keep = decode_ids(ranks, "ranks")
        return self._derive({r: n for r, n in self._nodes.items() if r in keep})

    def remove_ranks(self, ranks):
        """Drop RANKS from this set (in place)."""
        for rank in decode_ids(ranks, "ranks"):
            self._nodes.pop(rank, None)
        for name in list(self._properties):
            self._properties[name] &= set(self._nodes)
            if not self._properties[name]:
                del self._properties[name]
        return self

    def diff(self, other):
        """Resources of this set that OTHER lacks."""
        nodes = {}
        for rank, node in self._nodes.items():
            theirs = other._nodes.get(rank)
            left = node.combine(theirs, frozenset.__sub__) if theirs else node
            if left:
                nodes[rank] = left
        return self._derive(nodes)

    def intersect(self, other):
        """Resources in both sets."""
        nodes = {}
        for rank, node in self._nodes.items():
            theirs = other._nodes.get(rank)
            both = node.combine(theirs, frozenset.__and__) if theirs else None
            if both:
                nodes[rank] = both
        return self._derive(nodes)

    def union(self, other):
        """Resources in either set."""
        new = self.copy()
        new.add(other)
        return new

    def add(self, other):
        """Add OTHER's resources (and properties) to this set, in place."""
        for rank, node in other._nodes.items():
            mine = self._nodes.get(rank)
            self._nodes[rank] = mine.combine(node, frozenset.__or__) if mine else node
        for name, ranks in other._properties.items():
            self._properties[name] = self._properties.get(name, set()) | ranks
        if self.scheduling is None:
            self.scheduling = other.scheduling
        return self

    # libflux's rlist_append fails on overlap where add merges; here both merge
    append = add

    # -- properties and constraints ----------------------------------------

    def set_property(self, name, ranks=None):
        """Give property NAME to RANKS (all ranks if None). ValueError for
        an invalid name or idset, or ranks not in the set."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"invalid property name {name!r}")
        bad = next((c for c in name if c in _PROPERTY_INVALID), None)
        if bad:
            raise ValueError(f"Invalid character '{bad}' in property \"{name}\"")
        targets = set(self._nodes) if ranks is None else decode_ids(ranks, "idset")
        unknown = targets - set(self._nodes)
        if unknown:
            noun = "rank" if len(unknown) == 1 else "ranks"
            raise ValueError(f"{noun} {encode_ids(unknown)} not found in target resource list")
        if targets:
            self._properties[name] = self._properties.get(name, set()) | targets
        return self

    def copy_constraint(self, constraint):
        """The ranks matching an RFC 31 constraint (dict or JSON string).
        ValueError for an invalid constraint."""
        if isinstance(constraint, str):
            try:
                constraint = json.loads(constraint)
            except ValueError:
                raise ValueError(f"invalid constraint JSON: {constraint}") from None
        match = self._compile(constraint)
        return self._derive({r: n for r, n in self._nodes.items() if match(r, n)})

    def _compile(self, constraint):
        """A predicate (rank, node) -> bool for CONSTRAINT, checked whole
        first so that errors do not depend on which nodes are present."""
        if not isinstance(constraint, Mapping):
            raise ValueError("constraint must be JSON object")
        if len(constraint) > 1:
            raise ValueError("constraint must only contain 1 element")
        if not constraint:
            return lambda rank, node: True
        op, values = next(iter(constraint.items()))
        if op == "properties":
            return self._compile_properties(values)
        if op == "hostlist":
            # kept as ranges: "node[0-999999]" costs nothing to test against
            hosts = Hostlist()
            for value in self._constraint_strings(values, "hostlist"):
                hosts.append(self._parse_value(Hostlist, value, "hostlist", values))
            return lambda rank, node: node.hostname is not None and node.hostname in hosts
        if op == "ranks":
            ranks = IDset()
            for value in self._constraint_strings(values, "idset"):
                ranks.add(self._parse_value(IDset, value, "idset", values))
            return lambda rank, node: rank in ranks
        if op in ("and", "or", "not"):
            if not isinstance(values, list):
                raise ValueError(f"{op} operator value must be an array")
            if op == "not" and not values:
                raise ValueError("not operator needs at least one operand")
            terms = [self._compile(value) for value in values]
            if op == "or":
                return lambda r, n: not terms or any(t(r, n) for t in terms)
            if op == "and":
                return lambda r, n: all(t(r, n) for t in terms)
            return lambda r, n: not all(t(r, n) for t in terms)
        raise ValueError(f"unknown constraint operator: {op}")

    @staticmethod
    def _constraint_strings(values, what):
        """A constraint operand: one RFC 22/29 string or an array of them."""
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            raise ValueError(f"{what} value must be a string or an array")
        for value in values:
            if not isinstance(value, str):
                raise ValueError(f"invalid {what} {value!r} in {values}")
        return values

    @staticmethod
    def _parse_value(parse, value, what, values):
        try:
            return parse(value)
        except (ValueError, TypeError, OSError):
            raise ValueError(f"invalid {what} '{value}' in {values}") from None

    def _compile_properties(self, values):
        if not isinstance(values, list):
            raise ValueError("properties value must be an array")
        wanted = []
        for value in values:
            if not isinstance(value, str):
                raise ValueError("non-string property specified")
            bad = next((c for c in value if c in _QUERY_INVALID), None)
            if bad:
                raise ValueError(f"invalid character '{bad}' in property \"{value}\"")
            wanted.append((value[1:], True) if value.startswith("^") else (value, False))

        def has(rank, node, name):
            # as libflux, a node's hostname also counts as a property
            return rank in self._properties.get(name, ()) or node.hostname == name

        return lambda rank, node: all(has(rank, node, name) != negate
                                      for name, negate in wanted)
