"""IDset: a set of non-negative integers in RFC 22 form ("0-3,7")."""


class IDset:
    def __init__(self, arg=None):
        self._ids = set()
        if arg is None:
            return
        if isinstance(arg, IDset):
            self._ids = set(arg._ids)
            return
        text = str(arg).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        if not text:
            return
        for part in text.split(","):
            lo, sep, hi = part.partition("-")
            try:
                a = int(lo)
                b = int(hi) if sep else a
            except ValueError:
                raise ValueError(f"invalid idset: {arg}") from None
            if a < 0 or b < a:
                raise ValueError(f"invalid idset: {arg}")
            self._ids.update(range(a, b + 1))

    def set(self, lo, hi=None):
        """Add lo (or lo..hi); returns self, as flux-core's does."""
        self._ids.update(range(lo, (lo if hi is None else hi) + 1))
        return self

    def clear(self, lo, hi=None):
        self._ids.difference_update(range(lo, (lo if hi is None else hi) + 1))
        return self

    def test(self, i):
        return i in self._ids

    def count(self):
        return len(self._ids)

    def first(self):
        return min(self._ids) if self._ids else -1

    def last(self):
        return max(self._ids) if self._ids else -1

    def encode(self):
        out = []
        ids = sorted(self._ids)
        i = 0
        while i < len(ids):
            j = i
            while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
                j += 1
            out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
            i = j + 1
        return ",".join(out)

    def __str__(self):
        return self.encode()

    def __repr__(self):
        return f"IDset('{self.encode()}')"

    def __iter__(self):
        return iter(sorted(self._ids))

    def __len__(self):
        return len(self._ids)

    def __contains__(self, i):
        return i in self._ids

    def __eq__(self, other):
        return isinstance(other, IDset) and self._ids == other._ids

    def __or__(self, other):
        r = IDset(self)
        r._ids |= IDset(other)._ids
        return r

    def __and__(self, other):
        r = IDset(self)
        r._ids &= IDset(other)._ids
        return r

    def __sub__(self, other):
        r = IDset(self)
        r._ids -= IDset(other)._ids
        return r


def decode(text):
    return IDset(text)
