"""flux.idset: RFC 22 sets of non-negative integers ("0-3,7").

libflux's range-based Idset underneath, so "0-4000000000" costs a few bytes,
with the API flux-core's Python IDset offers.
"""

import collections.abc
import numbers

from flux import _core

IDSET_FLAG_BRACKETS = _core.IDSET_FLAG_BRACKETS
IDSET_FLAG_RANGE = _core.IDSET_FLAG_RANGE
IDSET_INVALID_ID = _core.IDSET_INVALID_ID


def _decode(text):
    try:
        return _core.Idset.decode(text)
    except ValueError:
        raise ValueError(f"IDset(): Invalid argument: {text}") from None


def _as_idset(arg):
    return arg if isinstance(arg, IDset) else IDset(arg)


class IDset:
    """A set of non-negative integers, made from an RFC 22 string ("0-3",
    "[0,5,7]"), an int, another IDset, or an iterable of ints."""

    def __init__(self, arg="", flags=IDSET_FLAG_RANGE, handle=None):
        self.default_flags = flags
        if handle is not None:
            self._ids = handle
        elif isinstance(arg, IDset):
            self._ids = arg._ids.copy()
        elif isinstance(arg, str):
            self._ids = _decode(arg)
        elif isinstance(arg, numbers.Integral):
            self._ids = _decode(str(arg))
        elif isinstance(arg, collections.abc.Iterable):
            self._ids = _core.Idset()
            for i in arg:
                self.set(i)
        elif arg is None:
            self._ids = _core.Idset()
        else:
            raise TypeError(f"IDset() expected an idset string or iterable, got {type(arg)}")

    def __str__(self):
        return self.encode()

    def __repr__(self):
        return f"IDset('{self.encode(flags=IDSET_FLAG_RANGE)}')"

    def __len__(self):
        return self._ids.count()

    def __iter__(self):
        i = self._ids.first()
        while i != IDSET_INVALID_ID:
            yield i
            i = self._ids.next(i)

    def __contains__(self, i):
        return self.test(i)

    def __getitem__(self, i):
        return self.test(i)

    def __setitem__(self, i, value):
        if value in (0, 1):
            value = bool(value)
        if not isinstance(value, bool):
            raise TypeError(f"IDset setitem must be bool or 0,1 not {type(value)}")
        if value:
            self.set(i)
        else:
            self.clear(i)

    def __eq__(self, other):
        # flux-core's IDset refuses to compare with anything else
        return self.equal(other)

    def __add__(self, arg):
        return self.union(arg)

    def __or__(self, arg):
        return self.union(arg)

    def __sub__(self, arg):
        return self.difference(arg)

    def __and__(self, arg):
        return self.intersect(arg)

    def __iadd__(self, arg):
        return self.add(arg)

    def __isub__(self, arg):
        return self.subtract(arg)

    def equal(self, other):
        if not isinstance(other, IDset):
            raise TypeError
        return self._ids == other._ids

    def set_flags(self, flags):
        """Set the default encoding flags (IDSET_FLAG_RANGE, _BRACKETS)."""
        self.default_flags = flags

    @staticmethod
    def _check_index(i, name):
        if not isinstance(i, numbers.Integral):
            raise TypeError(f"IDset.{name} supports integers, not {type(i)}")
        if i < 0:
            raise ValueError(f"negative index passed to IDset.{name}")

    def _range(self, start, end, name):
        self._check_index(start, name)
        if end is None:
            return start, start
        self._check_index(end, name)
        if end < start:
            raise ValueError(f"can't set range with {start} > {end}")
        return start, end

    def test(self, i):
        """True if id i is in the set."""
        self._check_index(i, "test")
        return i <= 0xFFFFFFFF and self._ids.test(i)

    def set(self, start, end=None):
        """Add id start (or start..end); returns self so calls chain."""
        self._ids.set(*self._range(start, end, "set"))
        return self

    def clear(self, start, end=None):
        """Remove id start (or start..end); returns self so calls chain."""
        self._ids.clear(*self._range(start, end, "clear"))
        return self

    def expand(self):
        """The ids as a list of ints."""
        return list(self)

    def count(self):
        return self._ids.count()

    def copy(self):
        return IDset(handle=self._ids.copy(), flags=self.default_flags)

    def encode(self, flags=None):
        """RFC 22 text; flags default to the set's (ranges, no brackets)."""
        return self._ids.encode(self.default_flags if flags is None else flags)

    def first(self):
        """The smallest id, or IDSET_INVALID_ID if empty."""
        return self._ids.first()

    def next(self, i):
        """The smallest id greater than i, or IDSET_INVALID_ID."""
        self._check_index(i, "next")
        return self._ids.next(i)

    def last(self):
        """The largest id, or IDSET_INVALID_ID if empty."""
        return self._ids.last()

    def add(self, arg):
        """Add every id of arg (IDset, string or iterable) in place."""
        self._ids.add(_as_idset(arg)._ids)
        return self

    def subtract(self, arg):
        """Remove every id of arg (IDset, string or iterable) in place."""
        self._ids.subtract(_as_idset(arg)._ids)
        return self

    def union(self, *args):
        result = self._ids.copy()
        for arg in args:
            result = result.union(_as_idset(arg)._ids)
        return IDset(handle=result, flags=self.default_flags)

    def intersect(self, *args):
        result = self._ids.copy()
        for arg in args:
            result = result.intersect(_as_idset(arg)._ids)
        return IDset(handle=result, flags=self.default_flags)

    def difference(self, *args):
        result = self._ids.copy()
        for arg in args:
            result = result.difference(_as_idset(arg)._ids)
        return IDset(handle=result, flags=self.default_flags)


def decode(string):
    """An IDset from RFC 22 text."""
    return IDset(string)
