"""flux.hostlist: RFC 29 hostlists (libflux's Hostlist underneath)."""

import collections.abc
import numbers

from flux import _core


class Hostlist:
    """An ordered list of hostnames, made from an RFC 29 string
    ("foo[1-3],bar") or an iterable of such strings."""

    def __init__(self, arg=""):
        if isinstance(arg, _core.Hostlist):
            self._hl = arg
            return
        self._hl = _core.Hostlist()
        if isinstance(arg, str):
            if arg:
                self._append_str(arg)
        elif isinstance(arg, collections.abc.Iterable):
            for hosts in arg:
                if not isinstance(hosts, str):
                    raise TypeError(f"Hostlist(): expected string or Iterable, got {type(hosts)}")
                self._append_str(hosts)
        else:
            raise TypeError(f"Hostlist(): expected string or Iterable, got {type(arg)}")

    def _append_str(self, text):
        try:
            return self._hl.append(text)
        except OSError:
            raise ValueError(f"Invalid hostlist: '{text}'") from None

    def __str__(self):
        return self._hl.encode()

    def __repr__(self):
        return f"Hostlist('{self}')"

    def __len__(self):
        return len(self._hl)

    def count(self):
        return len(self._hl)

    def __eq__(self, other):
        if isinstance(other, str):
            other = Hostlist(other)
        return isinstance(other, Hostlist) and self._hl == other._hl

    def __getitem__(self, index):
        """A host by index (negative from the end), or a Hostlist for a
        slice or an iterable of indices."""
        if isinstance(index, numbers.Integral):
            if index < 0:
                index += len(self)
            if 0 <= index < len(self):
                return self._hl.nth(index)
            raise IndexError("Hostlist index out of range")
        if isinstance(index, slice):
            return Hostlist([self._hl.nth(i) for i in range(len(self))[index]])
        if isinstance(index, collections.abc.Iterable):
            hosts = []
            for i in index:
                if not isinstance(i, numbers.Integral):
                    raise TypeError(f"Invalid Hostlist index '{i}'")
                hosts.append(self[i])
            return Hostlist(hosts)
        raise TypeError("Hostlist index must be integer or slice")

    def __iter__(self):
        return iter(self._hl.expand())

    def __contains__(self, name):
        return self._hl.find(name) >= 0

    def encode(self):
        return self._hl.encode()

    def append(self, *args):
        """Append hostlists (Hostlist objects or anything Hostlist() takes);
        the number of hosts appended."""
        count = 0
        for arg in args:
            other = arg if isinstance(arg, Hostlist) else Hostlist(arg)
            self._hl.append_list(other._hl)
            count += len(other)
        return count

    def delete(self, hosts):
        """Remove every occurrence of each of `hosts`; how many were removed."""
        count = 0
        for host in Hostlist(str(hosts)):
            while self._hl.remove(host):
                count += 1
        return count

    def sort(self):
        self._hl.sort()
        return self

    def uniq(self):
        """Sort and drop duplicates."""
        self._hl.uniq()
        return self

    def expand(self):
        return self._hl.expand()

    def copy(self):
        return Hostlist(self._hl.copy())

    def find(self, host):
        """The index of host; FileNotFoundError if it is not there."""
        index = self._hl.find(host)
        if index < 0:
            raise FileNotFoundError(f"{host} not found")
        return index

    def index(self, hosts, ignore_nomatch=False):
        """The indices of `hosts`; FileNotFoundError naming the missing
        ones unless ignore_nomatch."""
        ids = []
        missing = Hostlist()
        for host in hosts if isinstance(hosts, Hostlist) else Hostlist(hosts):
            i = self._hl.find(host)
            if i >= 0:
                ids.append(i)
            else:
                missing.append(host)
        if len(missing) and not ignore_nomatch:
            suffix = "s" if len(missing) > 1 else ""
            raise FileNotFoundError(f"host{suffix} '{missing}' not found")
        return ids


def decode(arg):
    return Hostlist(arg)
