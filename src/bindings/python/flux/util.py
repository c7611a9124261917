"""Helpers shared by the flux package, as flux-core's flux.util names them:
Flux Standard Duration (RFC 23) parsing and formatting, dotted-key access
to nested dicts, RFC 37 file references, and datetime helpers."""

import base64
import math
import os
import re
import stat
from collections import abc
from datetime import datetime, timedelta

__all__ = [
    "Fileref",
    "UtilDatetime",
    "del_treedict",
    "fsd",
    "get_treedict",
    "parse_datetime",
    "parse_fsd",
    "set_treedict",
]

# RFC 23 unit suffixes other than "s", as timedelta keywords: like
# flux-core, scaled values are rounded to the microsecond by timedelta.
_FSD_UNITS = {"ms": "milliseconds", "m": "minutes", "h": "hours", "d": "days"}
_FSD_RE = re.compile(r"(.*?)(ms|s|m|h|d)?")
_FSD_INFINITY = ("inf", "infinity", "INF", "INFINITY")


def parse_fsd(fsd_string):
    """Seconds (float) in the Flux Standard Duration FSD_STRING, e.g. "1.5h".
    "inf"/"infinity" give math.inf; anything else negative, NaN, infinite
    or unparsable raises ValueError."""
    if fsd_string in _FSD_INFINITY:
        return math.inf
    number, unit = _FSD_RE.fullmatch(fsd_string).groups()
    try:
        seconds = float(number)
        if unit not in (None, "s"):
            seconds = timedelta(**{_FSD_UNITS[unit]: seconds}).total_seconds()
    except (ValueError, OverflowError):
        # timedelta rejects NaN and infinity, and overflows past ~2.7e6 years
        raise ValueError("invalid Flux standard duration") from None
    if seconds < 0 or math.isnan(seconds) or math.isinf(seconds):
        raise ValueError("invalid Flux standard duration")
    return seconds


def fsd(secs):
    """SECS as a short Flux Standard Duration string: millisecond precision
    below 10s, then 4 significant digits in the largest unit that fits."""
    if math.isinf(secs):
        return "inf"
    if secs < 1.0e-3:
        return "0s"  # sub-millisecond (and negative) values print as zero
    if secs < 10.0:
        return "%.03fs" % secs
    for limit, divisor, unit in ((60.0, 1.0, "s"), (3600.0, 60.0, "m"), (86400.0, 3600.0, "h")):
        if secs < limit:
            return "%.4g%s" % (secs / divisor, unit)
    return "%.4gd" % (secs / 86400.0)


def get_treedict(in_dict, key, default=None):
    """in_dict[a][b][c] for KEY "a.b.c", or DEFAULT if any level is missing."""
    for part in key.split("."):
        try:
            in_dict = in_dict[part]
        except (KeyError, TypeError):
            return default
    return in_dict


def set_treedict(in_dict, key, val):
    """in_dict[a][b][c] = VAL for KEY "a.b.c", creating missing levels."""
    *parents, last = key.split(".")
    for part in parents:
        in_dict = in_dict.setdefault(part, {})
    in_dict[last] = val


def del_treedict(in_dict, key, remove_empty=False):
    """del in_dict[a][b][c] for KEY "a.b.c" (KeyError if a level is missing).
    With REMOVE_EMPTY, parents left empty by the deletion are removed too."""
    first, dot, rest = key.partition(".")
    if not dot:
        del in_dict[first]
        return
    del_treedict(in_dict[first], rest, remove_empty=remove_empty)
    child = in_dict[first]
    if remove_empty and isinstance(child, abc.Mapping) and not child:
        del in_dict[first]


class Fileref(dict):
    """An RFC 37 file object (a dict, so it serializes straight to JSON).

    DATA is a dict (kept as JSON content), or with ENCODING ("utf-8" or
    "base64") the already-encoded content, or else the path of a local file
    whose contents, size and mode are loaded (utf-8 if it decodes, else
    base64)."""

    def __init__(self, data, perms=0o0600, encoding=None):
        ref = {"mode": perms | stat.S_IFREG}
        if isinstance(data, dict):
            ref["data"] = data
        elif encoding is not None:
            if encoding not in ("base64", "utf-8"):
                raise ValueError(f"invalid encoding: {encoding}")
            ref["data"] = data
            ref["encoding"] = encoding
        else:
            st = os.stat(data)
            with open(data, "rb") as f:
                content = f.read()
            ref["size"] = st.st_size
            ref["mode"] = st.st_mode
            try:
                ref["data"] = content.decode("utf-8")
                ref["encoding"] = "utf-8"
            except UnicodeError:
                ref["data"] = base64.b64encode(content).decode("ascii")
                ref["encoding"] = "base64"
        super().__init__(**ref)


def parse_datetime(string, now=None):
    """A datetime from "now", "+FSD"/"-FSD" (an offset from NOW, default the
    current local time) or an ISO 8601 date/time. flux-core also accepts
    free-form phrases ("tomorrow noon") through parsedatetime; those raise
    ValueError here."""
    if now is None:
        now = datetime.now().astimezone()
    if string == "now":
        return now
    if string[:1] in ("+", "-"):
        offset = parse_fsd(string[1:])
        stamp = now.timestamp() + (offset if string[0] == "+" else -offset)
        return datetime.fromtimestamp(stamp).astimezone()
    try:
        return datetime.fromisoformat(string).astimezone()
    except ValueError:
        raise ValueError(f'Invalid datetime: "{string}"') from None


class UtilDatetime(datetime):
    """A datetime whose format spec is "STRFTIME::PYSPEC", e.g.
    "{0:%b%d %R::>16}": strftime first (default "%FT%T"), then width and
    alignment. The epoch formats as "" (or "-" with an "h" spec suffix),
    since flux-core uses a zero timestamp for "not set"."""

    def __format__(self, fmt):
        timefmt, _, spec = fmt.partition("::")
        if self == datetime.fromtimestamp(0.0):
            result = ""
        else:
            result = self.strftime(timefmt or "%FT%T")
        if spec.endswith("h"):
            result = result or "-"
            spec = spec[:-1] + "s"
        return format(result, spec) if spec else result
