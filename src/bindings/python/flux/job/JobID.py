"""Job ids (RFC 19 FLUIDs) in every encoding flux-core knows."""

from flux import _core


def id_parse(jobid_str):
    """The integer id of any encoding (dec, hex, dothex, kvs, words, f58, emoji)."""
    return _core.jobid_parse(str(jobid_str))


def id_encode(jobid, encoding="f58"):
    """`jobid` as dec, hex, dothex, kvs, words, f58, f58plain or emoji."""
    return _core.jobid_encode(int(jobid), encoding)


class JobID(int):
    """An int made from any FLUID encoding, with a property per encoding."""

    def __new__(cls, value):
        if isinstance(value, JobID):
            return cls(value.orig_str)
        if isinstance(value, int):
            jobid = value
        else:
            try:
                jobid = id_parse(value)
            except OSError:
                raise ValueError(f"{value} is not a valid Flux jobid") from None
        self = super().__new__(cls, jobid)
        self.orig_str = str(value)
        return self

    def encode(self, encoding="dec"):
        return id_encode(self, encoding)

    dec = property(lambda self: self.encode("dec"))
    f58 = property(lambda self: self.encode("f58"))
    f58plain = property(lambda self: self.encode("f58plain"))
    hex = property(lambda self: self.encode("hex"))
    dothex = property(lambda self: self.encode("dothex"))
    words = property(lambda self: self.encode("words"))
    emoji = property(lambda self: self.encode("emoji"))
    kvs = property(lambda self: self.encode("kvs"))
    orig = property(lambda self: self.orig_str)

    def __str__(self):
        return self.f58

    def __repr__(self):
        return f"JobID({int(self)})"
