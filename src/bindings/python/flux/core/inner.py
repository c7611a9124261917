"""flux.core.inner: the few libflux C helpers flux-core's Python exposes
through cffi (``ffi``, ``raw``) that scripts and flux-core's test tools
call: job state and result names (RFC 21). Pure Python here: there is no
C ABI to bind, only the conversions."""

import errno

# RFC 21 job states (bits) with flux-core's long names and one-letter forms.
_STATES = [
    (1, "NEW", "N"),
    (2, "DEPEND", "D"),
    (4, "PRIORITY", "P"),
    (8, "SCHED", "S"),
    (16, "RUN", "R"),
    (32, "CLEANUP", "C"),
    (64, "INACTIVE", "I"),
]

# Job results with their abbreviations.
_RESULTS = [
    (1, "COMPLETED", "CD"),
    (2, "FAILED", "F"),
    (4, "CANCELED", "CA"),
    (8, "TIMEOUT", "TO"),
]


class _Ffi:
    """The part of cffi's ``ffi`` the callers use: ``new("T [1]")`` for an
    out-parameter, here a one-item list, and ``NULL``."""

    NULL = None

    @staticmethod
    def new(ctype, init=None):
        if ctype.replace(" ", "").endswith("[1]"):
            return [0 if init is None else init]
        raise TypeError(f"flux.core.inner.ffi.new: unsupported type {ctype!r}")


def _to_str(table, value, fmt):
    for bit, long_name, short_name in table:
        if bit == value:
            return (short_name if fmt == "S" else long_name).encode("utf-8")
    return b"?"


def _from_str(table, text, out):
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    for bit, long_name, short_name in table:
        if text.upper() in (long_name, short_name):
            out[0] = bit
            return 0
    raise OSError(errno.EINVAL, f"invalid name {text!r}")


class _Raw:
    """libflux's job name conversions, as flux-core's ``raw`` calls them."""

    @staticmethod
    def flux_job_statetostr(state, fmt="L"):
        return _to_str(_STATES, int(state), fmt)

    @staticmethod
    def flux_job_strtostate(text, out):
        return _from_str(_STATES, text, out)

    @staticmethod
    def flux_job_resulttostr(result, fmt="L"):
        return _to_str(_RESULTS, int(result), fmt)

    @staticmethod
    def flux_job_strtoresult(text, out):
        return _from_str(_RESULTS, text, out)


ffi = _Ffi()
raw = _Raw()
