"""Helpers shared by the flux package and the tools built on it, as
flux-core's flux.util names them: error and payload helpers for futures and
messages, argparse actions and help formatting for flux commands, Flux
Standard Duration (RFC 23) parsing and formatting, dotted-key access to
nested dicts, RFC 37 file references, datetime helpers, the OutputFormat
class behind the format strings of flux jobs/flux resource (with
Deduplicator and Tree for its callers), and per-user tool configuration
(UtilConfig)."""

import argparse
import base64
import copy
import errno
import functools
import glob
import json
import logging
import math
import os
import re
import shutil
import signal
import stat
import sys
import threading
import traceback
from collections import abc, namedtuple
from datetime import datetime, timedelta
from operator import attrgetter
from pathlib import Path
from string import Formatter

from flux.utils import nldate

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

__all__ = [
    "AltField",
    "CLIMain",
    "ColorAction",
    "Deduplicator",
    "DisplayValue",
    "Fileref",
    "FilterAction",
    "FilterActionSetUpdate",
    "FilterActionUser",
    "FilterTrueAction",
    "OutputFormat",
    "Tree",
    "TreedictAction",
    "UtilConfig",
    "UtilDatetime",
    "UtilFormatter",
    "YesNoAction",
    "check_future_error",
    "del_treedict",
    "dict_merge",
    "empty_outputs",
    "encode_payload",
    "encode_topic",
    "fsd",
    "get_treedict",
    "help_formatter",
    "interruptible",
    "parse_datetime",
    "parse_fsd",
    "set_treedict",
    "xdg_searchpath",
]


def check_future_error(func):
    """Decorate FUNC(obj, ...) so that an OSError it raises carries the
    error text of the failed future: obj itself, or obj.handle when obj
    wraps one. The errno is kept; without a text the error passes as is."""

    @functools.wraps(func)
    def wrapper(obj, *args, **kwargs):
        try:
            return func(obj, *args, **kwargs)
        except OSError as error:
            target = getattr(obj, "handle", obj)
            errmsg = None
            if callable(getattr(target, "error_string", None)):
                try:
                    errmsg = target.error_string()
                except OSError:
                    pass
            if isinstance(errmsg, bytes):
                errmsg = errmsg.decode("utf-8", errors="replace")
            if not errmsg:
                raise error from None
            raise OSError(error.errno, errmsg) from None

    return wrapper


def interruptible(func):
    """Decorate a blocking Future method FUNC so that Ctrl-C ends the
    program while it waits: SIGINT gets its default action for the call,
    when in the main thread and outside the handle's reactor (whose own
    loop must keep Python's handler)."""

    @functools.wraps(func)
    def wrapper(future, *args, **kwargs):
        handle = future.get_flux()
        in_reactor = getattr(handle, "reactor_running", None)
        if (
            handle is None
            or threading.current_thread() is not threading.main_thread()
            or (callable(in_reactor) and in_reactor())
        ):
            return func(future, *args, **kwargs)
        saved = signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            return func(future, *args, **kwargs)
        finally:
            signal.signal(signal.SIGINT, saved)

    return wrapper


def encode_payload(payload):
    """A message payload as bytes: None stays None (no payload), str is
    UTF-8 encoded, bytes pass, anything else is encoded as JSON."""
    if payload is None or isinstance(payload, bytes):
        return payload
    if not isinstance(payload, str):
        payload = json.dumps(payload, ensure_ascii=False)
    return payload.encode("utf-8", errors="surrogateescape")


def encode_topic(topic):
    """A message topic as UTF-8 bytes; OSError(EINVAL) for None, TypeError
    for other than str or bytes."""
    if topic is None:
        raise OSError(errno.EINVAL, "Topic must not be None/NULL")
    if isinstance(topic, str):
        return topic.encode("utf-8")
    if not isinstance(topic, bytes):
        raise TypeError(errno.EINVAL, f"Topic must be a string, not {type(topic)}")
    return topic


class _FluxHelpFormatter(argparse.HelpFormatter):
    """Options listed as "-l, --long=ARG"; a long option without a short
    one is indented to line up with those that have one. Option strings in
    an action's hidden_option_strings are left out."""

    def _format_action_invocation(self, action):
        if not action.option_strings:
            return super()._format_action_invocation(action)
        hidden = getattr(action, "hidden_option_strings", ())
        opts = [opt for opt in action.option_strings if opt not in hidden]
        text = ", ".join(opts)
        if len(opts) == 1 and len(opts[0]) > 2:
            text = "    " + text
        if action.nargs == 0:
            return text
        return text + "=" + self._format_args(action, action.dest.upper())


class _FluxRawDescriptionHelpFormatter(_FluxHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The above, with the description printed as written."""


def help_formatter(argwidth=40, raw_description=False):
    """A formatter_class for argparse.ArgumentParser in the style of flux
    commands, with option help starting at column ARGWIDTH at most."""
    cls = _FluxRawDescriptionHelpFormatter if raw_description else _FluxHelpFormatter
    return lambda prog: cls(prog, max_help_position=argwidth)


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


class TreedictAction(argparse.Action):
    """Option values "KEY=VALUE" (nargs > 0) collected into a dict, with
    dotted keys nested as set_treedict does: "a.b=1" gives {"a": {"b": 1}}.
    A VALUE that parses as JSON is stored decoded, else as the string."""

    def __call__(self, parser, namespace, values, option_string=None):
        result = {}
        for arg in values:
            key, sep, text = arg.partition("=")
            if not sep:
                raise ValueError(f"Missing required value for key {arg}")
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
            set_treedict(result, key, value)
        setattr(namespace, self.dest, result)


# The filter actions mark that the user asked to narrow a listing, as
# namespace.filtered = True (and FilterActionUser: filtereduser = True).


class FilterAction(argparse.Action):
    """Store the value and mark the namespace filtered."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.filtered = True


class FilterActionSetUpdate(argparse.Action):
    """Add the comma-separated items of the value to the set in dest (its
    default must be a set), and mark the namespace filtered."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.filtered = True
        getattr(namespace, self.dest).update(values.split(","))


class FilterActionUser(argparse.Action):
    """Store the value (a user) and mark the namespace filtered by user."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.filtered = True
        namespace.filtereduser = True
        setattr(namespace, self.dest, values)


class FilterTrueAction(argparse.Action):
    """A flag (no argument) storing CONST (True) and marking the namespace
    filtered."""

    def __init__(self, option_strings, dest, const=True, default=False,
                 required=False, help=None, metavar=None):  # pylint: disable=redefined-builtin
        super().__init__(option_strings=option_strings, dest=dest, nargs=0,
                         const=const, default=default, required=required, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, self.const)
        namespace.filtered = True


class YesNoAction(argparse.Action):
    """An option taking "yes" or "no", stored as True or False (anything
    else raises ValueError)."""

    def __init__(self, option_strings, dest, help=None, metavar="[yes|no]"):  # pylint: disable=redefined-builtin
        super().__init__(option_strings=option_strings, dest=dest, help=help, metavar=metavar)

    def __call__(self, parser, namespace, values, option_string=None):
        if values not in ("yes", "no"):
            raise ValueError(f"{option_string} requires either 'yes' or 'no'")
        setattr(namespace, self.dest, values == "yes")


class ColorAction(argparse.Action):
    """The standard --color[=WHEN] option: WHEN is "always", "never" or
    "auto"; a bare --color means "always". Unused, it is "auto", or "never"
    if NO_COLOR is set non-empty. The value is a ColorAction.ColorWhen, a
    str with an `enabled` property ("auto": whether stdout is a terminal)."""

    class ColorWhen(str):
        """A --color value that knows whether color is on."""

        @property
        def enabled(self):
            if self == "auto":
                return sys.stdout.isatty()
            return self == "always"

    def __init__(self, option_strings, dest, nargs="?", default="auto", metavar="WHEN",
                 help="Use color; WHEN can be 'never', 'always' or 'auto' (default)",  # pylint: disable=redefined-builtin
                 **kwargs):
        if default == "auto" and os.environ.get("NO_COLOR"):
            default = "never"
        super().__init__(option_strings, dest, nargs=nargs, default=self.ColorWhen(default),
                         metavar=metavar, help=help, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        when = "always" if values is None else values
        if when not in ("auto", "always", "never"):
            parser.error(f"Invalid argument to --color: '{when}'")
        setattr(namespace, self.dest, self.ColorWhen(when))


class CLIMain:
    """Run a command's main function the way flux's Python commands do:
    CLIMain(logger)(main) sets up logging (level from FLUX_PYCLI_LOGLEVEL,
    default INFO; lines "name: LEVEL: message"), calls main(), and exits
    with its sys.exit() code, 0 on return, 130 on Ctrl-C, or 1 after logging
    an uncaught exception (its strerror and filename for an OSError, the
    traceback at debug level)."""

    def __init__(self, logger=None):
        self.logger = logger if logger is not None else logging.getLogger()

    def __call__(self, main_func):
        level = int(os.environ.get("FLUX_PYCLI_LOGLEVEL", logging.INFO))
        logging.basicConfig(level=level, format="%(name)s: %(levelname)s: %(message)s")
        code = 0
        try:
            main_func()
        except SystemExit as exc:
            code = exc.code
        except KeyboardInterrupt:
            code = 128 + signal.SIGINT  # quietly, as a shell reports Ctrl-C
        except Exception as exc:  # pylint: disable=broad-except
            code = 1
            message = getattr(exc, "strerror", None) or str(exc)
            if getattr(exc, "filename", None):
                message += f": '{exc.filename}'"
            self.logger.error(message)
            self.logger.debug(traceback.format_exc())
        finally:
            logging.shutdown()
        sys.exit(code)


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
    """A local datetime from STRING: "now"; "+FSD"/"-FSD", an offset from
    NOW (default the current time); an ISO 8601 date/time; or a phrase such
    as "tomorrow noon", "last wed", "Jun 10, 2021 8am", "6/10/2021 08:00",
    "in 10 min" or "a year ago" (see flux.utils.nldate). ValueError if
    STRING is none of these."""
    if now is None:
        now = datetime.now().astimezone()
    if string == "now":
        return now
    if string[:1] in ("+", "-"):
        offset = parse_fsd(string[1:])
        stamp = now.timestamp() + (offset if string[0] == "+" else -offset)
        return datetime.fromtimestamp(stamp).astimezone()
    if ":" in string:  # an ISO 8601 date and time (a bare date is a phrase)
        try:
            return datetime.fromisoformat(string).astimezone()
        except ValueError:
            pass
    local_now = now.astimezone().replace(tzinfo=None) if now.tzinfo else now
    try:
        return nldate.parse(string, local_now).astimezone()
    except (ValueError, OverflowError):
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


def empty_outputs():
    """Formatted values that mean "not set": a "?:" field showing only these
    is dropped, and an "h" spec shows them as "-"."""
    local_epoch = datetime.fromtimestamp(0.0).strftime("%FT%T")
    return ("", "0s", "0.0", "0:00:00", "1970-01-01T00:00:00", local_epoch)


def _to_datetime(value):
    return UtilDatetime.fromtimestamp(value)


def _to_iso(value):
    # 0 is how job records say "no such time": show nothing
    return datetime.fromtimestamp(value).strftime("%FT%T") if value else ""


def _to_hms(value):
    # a nonzero duration under a second still shows as 0:00:01
    return str(timedelta(seconds=round(1 if 0 < value < 1 else value)))


def _to_percent(value):
    pct = value * 100
    return f"{pct:.2f}%" if 0 < pct < 1 else f"{pct:.3g}%"


class UtilFormatter(Formatter):
    """string.Formatter with flux-core's extras for tool output.

    Conversions: !d datetime (for strftime specs, see UtilDatetime), !D ISO
    8601 string, !F Flux Standard Duration, !H H:MM:SS, !P percentage; an
    empty-string value (a field not known yet) converts to empty. Spec
    suffixes: "h" shows an empty value (see empty_outputs) as "-", "+"
    marks a value cut short by the precision with a trailing "+"."""

    _conversions = {
        "d": (_to_datetime, lambda: UtilDatetime.fromtimestamp(0.0)),
        "D": (_to_iso, str),
        "F": (fsd, str),
        "H": (_to_hms, str),
        "P": (_to_percent, str),
    }

    def convert_field(self, value, conversion):
        if conversion not in self._conversions:
            return super().convert_field(value, conversion)
        convert, empty = self._conversions[conversion]
        try:
            return convert(value)
        except (TypeError, ValueError):
            if str(value) == "":
                return empty()
            raise

    def format_field(self, value, format_spec):
        mark_truncation = format_spec.endswith("+")
        if mark_truncation:
            format_spec = format_spec[:-1]
        # UtilDatetime handles "h" itself, after its strftime part
        if format_spec.endswith("h") and not isinstance(value, UtilDatetime):
            value = str(value)
            if value in empty_outputs():
                value = "-"
            format_spec = format_spec[:-1] + "s"
        result = super().format_field(value, format_spec)
        if mark_truncation and len(result) < len(str(value)):
            result = result[:-1] + "+"
        return result


class AltField:
    """A field value with a plain-ASCII alternative, {field.ascii}, for
    output that must avoid e.g. unicode check marks."""

    def __init__(self, default, ascii):
        self.default = default
        self.ascii = ascii

    def __str__(self):
        return self.default

    def __format__(self, spec):
        return format(str(self), spec)


@functools.total_ordering
class DisplayValue:
    """A sort key that orders the mixed values of a display column: unset
    (None, "" or "-") first, then numbers (numeric strings included, so "10"
    sorts after 9), then other strings."""

    __slots__ = ("value", "_type_order", "_sort_value")

    EMPTY = 0
    NUMERIC = 1
    STRING = 2

    def __init__(self, value):
        self.value = value
        if value is None or value in ("", "-"):
            self._type_order, self._sort_value = self.EMPTY, 0
            return
        try:
            number = float(value)
        except (TypeError, ValueError):
            try:
                number = float(str(value))
            except ValueError:
                self._type_order, self._sort_value = self.STRING, str(value)
                return
        self._type_order, self._sort_value = self.NUMERIC, number

    def _key(self):
        return (self._type_order, self._sort_value)

    def __eq__(self, other):
        return self._key() == other._key()

    def __lt__(self, other):
        return self._key() < other._key()

    def __repr__(self):
        return f"DisplayValue({self.value!r})"


class OutputFormat:
    """A parsed output format for flux tools: "{name:spec}" fields as
    str.format takes, checked against the `headings` dict (field -> column
    heading), each field prefixed with `prepend` ("0." by default, so that
    format(obj) reads obj.name).

    Extensions, as flux-core's:
      "?:{f}"   drop the field (and this prefix text) if it is empty for
                every item printed
      "+:{f}"   widen the field to its widest value (or heading)
      "?+:{f}"  both
      "sort:k1,-k2 FMT"  sort keys (leading "-": descending) for print_items
    """

    formatter = UtilFormatter
    headings = {}
    prepend = "0."

    _sentinels = ("?+:", "+:", "?:")  # longest first, so "?+:" is not read as "+:"
    _sort_re = re.compile(r"sort:([^{\s]+)")

    class HeaderFormatter(UtilFormatter):
        """Looks field names up as literal keys (headings), not attributes."""

        def get_field(self, field_name, args, kwargs):
            if field_name in kwargs:
                return kwargs[field_name], None
            return super().get_field(field_name, args, kwargs)

    class FormatSpec:
        """A format spec split into its parts (as Python's mini-language,
        plus flux's "h" and "+" suffixes), so the width can be changed.
        A datetime spec "STRFTIME::SPEC" is reduced to SPEC."""

        components = (
            "fill", "align", "sign", "pos_zero", "alt", "zero_pad", "width_str",
            "grouping", "decimal", "precision_str", "type", "hyphen", "truncate",
        )
        _spec_re = re.compile(
            r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?(?P<pos_zero>z)?"
            r"(?P<alt>#)?(?P<zero_pad>0)?(?P<width_str>\d+)?(?P<grouping>[_,])?"
            r"(?:(?P<decimal>\.)(?P<precision_str>\d+))?(?P<type>[bcdeEfFgGnosxX%])?"
            r"(?P<hyphen>h)?(?P<truncate>\+)?",
            re.DOTALL,
        )

        def __init__(self, spec):
            spec = spec or ""
            if "::" in spec:
                spec = spec.split("::", 1)[1]
            match = self._spec_re.fullmatch(spec)
            parts = match.groupdict() if match else {}
            for name in self.components:
                setattr(self, name, parts.get(name) or "")

        @property
        def width(self):
            return int(self.width_str) if self.width_str else ""

        @width.setter
        def width(self, value):
            self.width_str = str(value)
            # a string's precision caps its width: widen it too
            if self.type in ("", "s") and self.precision and self.precision < value:
                self.precision = value

        @property
        def precision(self):
            return int(self.precision_str) if self.precision_str else 0

        @precision.setter
        def precision(self, value):
            self.decimal = "."
            self.precision_str = str(value)

        def __str__(self):
            return "".join(getattr(self, name) for name in self.components)

    def __init__(self, fmt, headings=None, prepend="0.", nullify_expansion_sentinel=False):
        """Parse FMT; ValueError names a field missing from headings (or an
        unknown sort key). With nullify_expansion_sentinel, "+:{f:spec}"
        fields become plain "{f}"."""
        if headings is not None:
            self.headings = headings
        if prepend is not None:
            self.prepend = prepend
        self.format_list = [[part or "" for part in entry] for entry in Formatter().parse(fmt)]
        self.sort_keys = []
        self._sort_space = True
        if self.format_list and self.format_list[0][0].startswith("sort:"):
            fmt = self._strip_sort_prefix(fmt)
        if nullify_expansion_sentinel:
            for entry in self.format_list:
                if entry[0].endswith("+:"):
                    entry[0], entry[2] = "", ""
            fmt = "".join(self._fmt_tuple(*entry) for entry in self.format_list)
        self.fmt_orig = fmt
        self._fields = [entry[1] for entry in self.format_list if entry[1]]
        for field in self._fields:
            name = field[2:] if field.startswith("0.") else field
            if name not in self.headings:
                raise ValueError("Unknown format field: " + name)
        self.fmt = fmt
        if self.prepend:
            self.fmt = self.get_format_prepended(self.prepend, include_sort_prefix=False)

    def _strip_sort_prefix(self, fmt):
        """Take "sort:KEYS" (and one space after it) off the format."""
        text = self.format_list[0][0]
        match = self._sort_re.match(text)
        if not match:
            return fmt
        self.set_sort_keys(match.group(1))
        cut = match.end()
        self._sort_space = text[cut:cut + 1] == " "
        if self._sort_space:
            cut += 1
        self.format_list[0][0] = text[cut:]
        return fmt[cut:]

    @property
    def fields(self):
        """The fields the format (and its sort keys) use, each once."""
        return list(set(self._fields) | {key for key, _ in self.sort_keys})

    @staticmethod
    def _calculate_width(width):
        """0 means the terminal's width (unlimited if there is none)."""
        if width == 0:
            try:
                return os.get_terminal_size().columns
            except OSError:
                return -1
        return width

    def _fmt_tuple(self, text, field, spec, conv):
        """Rebuild one parsed entry as format-string text."""
        if not field:
            return text
        conv = f"!{conv}" if conv else ""
        spec = f":{spec}" if spec else ""
        return f"{text}{{{field}{conv}{spec}}}"

    def header_format(self):
        """The format with each spec cut to its alignment and width, and
        conversions dropped: headings are plain strings."""
        parts = []
        for text, field, spec, _ in self.format_list:
            spec = self.FormatSpec(spec)
            parts.append(self._fmt_tuple(text, field, f"{spec.align}{spec.width}", None))
        return "".join(parts)

    def header(self, width=-1):
        """The heading row; cut to WIDTH columns (ending in "+") if > 0,
        or to the terminal's width if 0."""
        result = self.HeaderFormatter().format(self.header_format(), **self.headings)
        return self._truncate(result, self._calculate_width(width))

    @staticmethod
    def _truncate(line, width):
        if width > 0 and len(line) > width:
            return line[: width - 1] + "+"
        return line

    def get_format_prepended(self, prepend, except_fields=None, include_sort_prefix=True,
                             nullify_expansion_sentinel=False):
        """The format with PREPEND before each field name, leaving out
        except_fields (their text too, unless it is more than spacing or a
        sentinel), and "+:{f:spec}" reduced to "{f}" if asked."""
        except_fields = except_fields or []
        parts = []
        for text, field, spec, conv in self.format_list:
            if field in except_fields:
                if text.strip() not in ("", *self._sentinels):
                    parts.append(text)
                continue
            if field and not field.startswith(prepend):
                field = prepend + field
            if nullify_expansion_sentinel and text.endswith("+:"):
                text, spec = "", ""
            parts.append(self._fmt_tuple(text, field, spec, conv))
        prefix = self._sort_prefix() if include_sort_prefix else ""
        return prefix + "".join(parts)

    def _sort_prefix(self):
        if not self.sort_keys:
            return ""
        keys = ",".join(("-" if reverse else "") + key for key, reverse in self.sort_keys)
        return f"sort:{keys}" + (" " if self._sort_space else "")

    def get_format(self, orig=False, include_sort_prefix=True):
        """The format (as given if ORIG, else with fields prepended)."""
        fmt = self.fmt_orig if orig else self.fmt
        return (self._sort_prefix() if include_sort_prefix else "") + fmt

    def copy(self, except_fields=None, nullify_expansion=False):
        """A new formatter of this class, less except_fields."""
        fmt = self.get_format_prepended("", except_fields,
                                        nullify_expansion_sentinel=nullify_expansion)
        return self.__class__(fmt, headings=self.headings, prepend=self.prepend)

    def format(self, obj):
        """OBJ formatted as one line; KeyError for a field OBJ lacks."""
        try:
            return self.formatter().format(self.get_format(include_sort_prefix=False), obj)
        except KeyError as exc:
            raise KeyError(f"Invalid format field {exc} for {type(obj)}") from None

    def filter(self, items, no_header=False):
        """The format string to print ITEMS with: "?:" fields empty for all
        items removed, "+:" fields widened to the widest value (and heading,
        unless no_header), sentinels stripped."""
        kinds = {"?:": (True, False), "+:": (False, True), "?+:": (True, True)}
        watched = []  # [index, may_drop, widen, spec, widest, widest_value]
        for index, (text, field, spec, conv) in enumerate(self.format_list):
            sentinel = next((s for s in self._sentinels if text.endswith(s)), None)
            if sentinel is None or not field:
                continue
            may_drop, widen = kinds[sentinel]
            spec = self.FormatSpec(spec)
            widest = spec.width or 0
            if widen and not no_header:
                widest = max(widest, len(self.headings.get(field, "")))
            bare = self._fmt_tuple("", "0." + field, None, conv)
            watched.append([index, may_drop, widen, spec, widest, 0, bare])
        if not watched:
            return self.get_format(orig=True)

        formatter = self.formatter()
        empty = empty_outputs()
        for item in items:
            for entry in watched:
                value = formatter.format(entry[6], item)
                width = 0 if value in empty else len(value)
                entry[4] = max(entry[4], width)
                entry[5] = max(entry[5], width)

        format_list = [list(entry) for entry in self.format_list]
        dropped = set()
        for index, may_drop, widen, spec, widest, widest_value, _ in watched:
            if may_drop and widest_value == 0:
                dropped.add(index)
            elif widen:
                spec.width = widest
                format_list[index][2] = str(spec)
        kept = [entry for i, entry in enumerate(format_list) if i not in dropped]
        for entry in kept:
            for sentinel in self._sentinels:
                entry[0] = entry[0].replace(sentinel, "")
        return self._sort_prefix() + "".join(self._fmt_tuple(*entry) for entry in kept)

    def set_sort_keys(self, sort_keys):
        """Sort print_items() output by the comma-separated SORT_KEYS (a
        leading "-" reverses one), replacing any "sort:" prefix."""
        keys = []
        for key in sort_keys.split(","):
            key = key.strip()
            if not key:
                continue
            reverse = key.startswith("-")
            if reverse:
                key = key[1:]
            if key not in self.headings:
                raise ValueError("Invalid sort key: " + key)
            keys.append((key, reverse))
        self.sort_keys = keys

    def sort_items(self, items):
        """Sort the list ITEMS in place by the sort keys (first key most
        significant) and return it."""
        for key, reverse in reversed(self.sort_keys):
            getter = attrgetter(key)
            items.sort(key=lambda item: DisplayValue(getter(item)), reverse=reverse)
        return items

    def print_items(self, items, no_header=False, width=-1, pre=None, post=None):
        """Print ITEMS, one line each (blank lines skipped), after a heading
        unless no_header: filtered (see filter()) and sorted first. WIDTH as
        header()'s; pre(item)/post(item) are called around each line."""
        items = items if isinstance(items, list) else list(items)
        fmt = self.__class__(self.filter(items, no_header=no_header),
                             headings=self.headings, prepend=self.prepend)
        self.sort_items(items)
        width = self._calculate_width(width)
        if not no_header:
            print(fmt.header(width=width))
        for item in items:
            line = fmt.format(item)
            if not line or line.isspace():
                continue
            line = self._truncate(line, width)
            if callable(pre):
                pre(item)
            try:
                print(line)
            except UnicodeEncodeError:
                print(line.encode("utf-8", errors="surrogateescape").decode())
            if callable(post):
                post(item)


class Deduplicator:
    """Items merged when they print alike: two items whose lines under
    FORMATTER (an OutputFormat, less EXCEPT_FIELDS and any "+:" widths)
    are equal are one entry; COMBINE(kept, new), if given, folds the new
    item into the kept one (e.g. adding up node counts). Iterating gives
    the kept items in the order they first came."""

    def __init__(self, formatter, except_fields=None, combine=None):
        self.formatter = formatter.copy(except_fields=except_fields, nullify_expansion=True)
        self.combine = combine
        self.hash = {}
        self.items = []

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def append(self, item):
        """Add ITEM, or combine it into the kept item that prints alike."""
        key = self.formatter.format(item)
        kept = self.hash.get(key)
        if kept is None:
            self.hash[key] = item
            self.items.append(item)
        elif self.combine is not None:
            self.combine(kept, item)


class Tree:
    """A tree printed as pstree(1) does: each node a LABEL, its children
    below it joined by connector lines. PREFIX is text printed before the
    connectors on the node's line (a column of details, say). With
    COMBINE_CHILDREN, leaf children with the same prefix and label are
    shown once, as "N*[label]"."""

    Connectors = namedtuple("Connectors", ["PIPE", "TEE", "ELBOW", "BLANK"])

    connector_styles = {
        "ascii": Connectors("|   ", "|-- ", "`-- ", "    "),
        "box": Connectors("│   ", "├── ", "└── ", "    "),
        "compact": Connectors("│ ", "├─", "└─", "  "),
    }

    def __init__(self, label, prefix="", combine_children=False):
        self.label = label
        self.prefix = f"{prefix} " if prefix else ""
        self.children = []
        self.combine_children = combine_children
        self.duplicates = {}  # prefix+label -> the child standing for all
        self.duplicate_count = 1

    def _combined(self, key, make):
        """The child for KEY, counted once more if it exists, else make()."""
        if key in self.duplicates:
            self.duplicates[key].increment()
        else:
            self.duplicates[key] = make()
        return self.duplicates[key]

    def append(self, label, prefix=""):
        """Add a child LABEL (combined with a like one if this tree combines
        children); return it, or the existing child it was combined with."""
        if not self.combine_children:
            return self.add(label, prefix)
        return self._combined(f"{prefix}{label}",
                              lambda: self.add(label, prefix, combine_children=True))

    def append_tree(self, tree):
        """Add the Tree TREE as a child (combined with a like one only if it
        has no children); return it or the child it was combined with."""
        if not self.combine_children or tree.children:
            self.children.append(tree)
            return tree

        def add():
            self.children.append(tree)
            return tree

        return self._combined(f"{tree.prefix}{tree.label}", add)

    def add(self, label, prefix="", combine_children=False):
        """Add and return a new child, never combined."""
        tree = Tree(label, prefix=prefix, combine_children=combine_children)
        self.children.append(tree)
        return tree

    def increment(self):
        self.duplicate_count += 1

    def _lines(self, style, level, indent="", connector="", below="", depth=0):
        """This node's lines. INDENT is the connector columns of its
        ancestors, CONNECTOR joins it to its parent, BELOW is the column its
        children add under it (a pipe if siblings follow it)."""
        if level is not None and depth > level:
            return
        label = self.label
        if self.duplicate_count > 1:
            label = f"{self.duplicate_count}*[{label}]"
        yield f"{self.prefix}{indent}{connector}{label}"
        lines = self.connector_styles[style]
        for index, child in enumerate(self.children):
            last = index == len(self.children) - 1
            yield from child._lines(
                style,
                level,
                indent + below,
                lines.ELBOW if last else lines.TEE,
                lines.BLANK if last else lines.PIPE,
                depth + 1,
            )

    def render(self, style="box", level=None, skip_root=False, truncate=True):
        """Print the tree. STYLE is "box" (unicode lines), "ascii" or
        "compact"; LEVEL stops at that depth (the root is 0); SKIP_ROOT
        prints each child as a tree of its own instead; TRUNCATE cuts lines
        at the terminal width (COLUMNS, else 132), ending them with "+"."""
        if skip_root:
            for child in self.children:
                child.render(style=style, level=level, truncate=truncate)
            return
        width = shutil.get_terminal_size((132, 25)).columns if truncate else 0
        for line in self._lines(style, level):
            if width and len(line) > width:
                line = line[: width - 1] + "+"
            print(line)


def dict_merge(src, new):
    """Merge dict NEW into dict SRC (changed in place and returned): nested
    dicts merge key by key, any other value in NEW replaces SRC's."""
    for key, value in new.items():
        if isinstance(src.get(key), dict) and isinstance(value, dict):
            dict_merge(src[key], value)
        else:
            src[key] = value
    return src


def xdg_searchpath(subdir=""):
    """The directories to look for flux configuration in, most important
    first, per the XDG base directory spec: $XDG_CONFIG_HOME (or
    ~/.config), then each of $XDG_CONFIG_DIRS (or /etc/xdg), each with
    flux/SUBDIR appended, as Paths."""
    dirs = [os.getenv("XDG_CONFIG_HOME") or str(Path.home() / ".config")]
    dirs += (os.getenv("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")
    return [Path(directory, "flux", subdir) for directory in dirs]


def _load_toml(file):
    if tomllib is None:
        raise ValueError("TOML config needs Python 3.11 (tomllib)")
    return tomllib.load(file)


def _load_yaml(file):
    import yaml  # only when a YAML config exists

    try:
        return yaml.safe_load(file)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


class UtilConfig:
    """Configuration of a flux Python tool: a dict built from INITIAL_DICT
    and then the files NAME.toml, NAME.json and NAME.yaml found in the XDG
    search path (see xdg_searchpath), least important directory first, so
    ~/.config/flux wins. Nested tables merge (see dict_merge).

    With SUBCOMMAND, `config` is that table of the result (when present).
    Its keys read as attributes: UtilConfig("flux-jobs").load().formats.
    TOOLNAME (default NAME) names the environment variable that may give
    the default format: TOOLNAME[_SUBCOMMAND]_FORMAT_DEFAULT, upper case,
    "-" as "_". Subclasses set builtin_formats and may override validate()."""

    extension_handlers = {
        ".toml": _load_toml,
        ".json": json.load,
        ".yaml": _load_yaml,
    }

    builtin_formats = {}

    def __init__(self, name, toolname=None, subcommand=None, initial_dict=None):
        self.name = name
        self.toolname = toolname
        self.subtable = subcommand
        self.dict = copy.deepcopy(initial_dict) if initial_dict else {}
        self.config = self.dict
        self.searchpath = list(reversed(xdg_searchpath()))

    def load(self):
        """Read the config files (ValueError, naming the file, for one that
        does not parse or validate). Returns self."""
        for directory in self.searchpath:
            for path in sorted(glob.glob(f"{glob.escape(str(directory))}/{self.name}.*")):
                loader = self.extension_handlers.get(os.path.splitext(path)[1])
                if loader is None:
                    continue
                try:
                    with open(path, "rb") as file:
                        conf = loader(file)
                except ValueError as exc:  # JSON and TOML errors are ValueErrors
                    raise ValueError(f"{path}: {exc}") from exc
                self.validate(path, conf)
                dict_merge(self.dict, conf or {})
        if self.subtable and self.subtable in self.dict:
            self.config = self.dict[self.subtable]
        return self

    def validate_formats(self, path, formats):
        """Check FORMATS, from the file PATH, as a "formats" table: names
        mapping to tables with a string "format" (and a "description"),
        none redefining a builtin format. ValueError if not."""
        builtin = self.builtin_formats
        if self.subtable and self.subtable in builtin:
            builtin = builtin[self.subtable]
        if not isinstance(formats, dict):
            raise ValueError(f"{path}: the 'formats' key must be a mapping")
        for name, entry in formats.items():
            if name in builtin:
                raise ValueError(f"{path}: override of builtin format '{name}' not permitted")
            if not isinstance(entry, dict):
                raise ValueError(f"{path}: 'formats.{name}' must be a mapping")
            if "format" not in entry:
                raise ValueError(f"{path}: formats.{name}: required key 'format' missing")
            if not isinstance(entry["format"], str):
                raise ValueError(f"{path}: formats.{name}: 'format' key must be a string")

    def validate(self, path, conf):
        """Check the config CONF read from PATH before it is merged; raise
        ValueError to reject it. Accepts anything here."""

    def _default_env_name(self):
        name = (self.toolname or self.name).upper().replace("-", "_")
        if self.subtable:
            name += "_" + self.subtable.upper().replace("-", "_")
        return name + "_FORMAT_DEFAULT"

    def get_format_string(self, format_name):
        """The format string for --format=FORMAT_NAME: FORMAT_NAME itself if
        it holds a "{", else the named entry of the config's formats
        ("default" may be replaced by the environment, see above). "help"
        prints the named formats and exits; "get-config=NAME" prints NAME's
        entry as TOML and exits. ValueError for an unknown name."""
        if "{" in format_name:
            return format_name
        formats = self.formats
        if format_name == "help":
            print(f"\nConfigured {self.name} output formats:\n")
            for name, entry in formats.items():
                description = entry.get("description")
                print(f"  {name:<12}" + (f" {description}" if description is not None else ""))
            sys.exit(0)
        if format_name.startswith("get-config="):
            name = format_name.split("=", 1)[1]
            if name not in formats:
                raise ValueError(f"--format: No such format {name}")
            entry = formats[name]
            table = f"{self.subtable}.formats" if self.subtable else "formats"
            print(f"[{table}.{name}]")
            if "description" in entry:
                print(f'description = "{entry["description"]}"')
            print(f'format = "{entry["format"]}"')
            sys.exit(0)
        if format_name == "default":
            from_env = os.environ.get(self._default_env_name(), "")
            if "{" in from_env:
                return from_env
            format_name = from_env or format_name
        try:
            return formats[format_name]["format"]
        except KeyError:
            hint = re.sub(r"\w+", r"{\g<0>}", format_name)
            raise ValueError(
                f"--format: No such format {format_name} (Did you mean '{hint}'?)"
            ) from None

    def __getattr__(self, attr):
        # only called for names not set on the instance: config keys
        if attr.startswith("__") or attr == "config":
            raise AttributeError(attr)
        return self.config[attr]
