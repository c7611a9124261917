"""flux.eventlog: RFC 18 eventlog entries, and a formatter that renders
them as flux-core's tools print them (text or JSON; raw, ISO 8601, offset
or human timestamps; optional color)."""

import json
import sys
from datetime import datetime, timedelta

__all__ = ["EventLogEvent", "EventLogFormatter", "decode"]


def _compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class EventLogEvent(dict):
    """One entry: {"timestamp", "name", "context"} from a dict or its JSON line."""

    def __init__(self, event):
        if isinstance(event, str):
            event = json.loads(event)
        super().__init__(event)
        self.setdefault("context", {})

    def __str__(self):
        return "{0.timestamp:<0.5f}: {0.name} {0.context}".format(self)

    @property
    def name(self):
        return self["name"]

    @property
    def timestamp(self):
        return self["timestamp"]

    @property
    def context(self):
        return self["context"]

    @property
    def context_string(self):
        """The context as compact JSON with sorted keys ("" if empty)."""
        if not self.context:
            return ""
        return json.dumps(self.context, ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True)


def decode(text):
    """Every entry of an eventlog's text (one JSON object per line)."""
    return [EventLogEvent(line) for line in text.splitlines() if line.strip()]


class EventLogFormatter:
    """Render eventlog entries one line each.

    format: "text" (timestamp name key=value ...) or "json" (the entry as
    compact JSON, an empty context left out).
    timestamp_format: "raw" (seconds since the epoch), "iso" (local time,
    ISO 8601, "Z" for UTC), "offset" (seconds since the first entry
    formatted) or "human" (alias "reltime": [MonDD HH:MM] at the first
    entry and whenever a minute has passed since the last such line, else
    [+seconds] since it).
    color: "always", "never" or "auto" (when stdout is a terminal).

    Timestamps of "offset" and "human" depend on the entries formatted
    before, so use one formatter per eventlog.
    """

    BOLD = "\033[1m"
    YELLOW = "\033[33m"
    GREEN = "\033[32m"
    BLUE = "\033[34m"
    MAGENTA = "\033[35m"
    GRAY = "\033[37m"
    RED = "\033[31m"
    RESET = "\033[0m"

    eventlog_colors = {
        "name": YELLOW,
        "time": GREEN,
        "timebreak": BOLD + GREEN,
        "key": BLUE,
        "value": MAGENTA,
        "number": GRAY,
        "exception": BOLD + RED,
    }

    def __init__(self, format="text", timestamp_format="raw", color="auto"):
        # pylint: disable=redefined-builtin
        if format not in ("text", "json"):
            raise ValueError(f"Invalid entry_fmt: {format}")
        if timestamp_format == "reltime":
            timestamp_format = "human"
        if timestamp_format not in ("raw", "human", "iso", "offset"):
            raise ValueError(f"Invalid timestamp_fmt: {timestamp_format}")
        if color not in ("always", "never", "auto"):
            raise ValueError(f"Invalid color: {color}")
        self.entry_format = format
        self.timestamp_format = timestamp_format
        self.color = color == "always" or (color == "auto" and sys.stdout.isatty())
        self.t0 = None  # first timestamp formatted (for "offset")
        self.last_dt = None  # datetime of the last [MonDD HH:MM] line (for "human")
        self.last_ts = None

    def _paint(self, kind, text):
        if not self.color:
            return text
        return self.eventlog_colors[kind] + text + self.RESET

    def _human(self, ts):
        dt = datetime.fromtimestamp(ts)
        if self.last_dt is not None and dt - self.last_dt < timedelta(minutes=1):
            return self._paint("time", f"[{(dt - self.last_dt).total_seconds():>+11.6f}]")
        self.last_dt, self.last_ts = dt, ts
        return self._paint("timebreak", dt.astimezone().strftime("[%b%d %H:%M]"))

    def _timestamp(self, ts):
        if self.t0 is None:
            self.t0 = ts
        if self.timestamp_format == "human":
            return self._human(ts)
        if self.timestamp_format == "iso":
            local = datetime.fromtimestamp(ts).astimezone()
            zone = local.strftime("%z")
            usec = int((ts - int(ts)) * 1e6)
            text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{usec:06d}"
            text += "Z" if zone == "+0000" else zone
        elif self.timestamp_format == "offset":
            text = f"{ts - self.t0:15.6f}"
        else:
            text = f"{ts:11.6f}"
        return self._paint("time", text)

    def _text(self, entry):
        words = [
            self._timestamp(entry.timestamp),
            self._paint("exception" if entry.name == "exception" else "name", entry.name),
        ]
        for key, val in entry.context.items():
            kind = "number" if type(val) in (int, float) else "value"
            words.append(self._paint("key", key) + "=" + self._paint(kind, _compact(val)))
        return " ".join(words)

    @staticmethod
    def _json(entry):
        if not entry.get("context", True):
            entry = {k: v for k, v in entry.items() if k != "context"}
        return _compact(dict(entry))

    def format(self, entry):
        """ENTRY (an RFC 18 dict, its JSON line, or an EventLogEvent) as
        one line of text."""
        if not isinstance(entry, EventLogEvent):
            entry = EventLogEvent(entry)
        if self.entry_format == "json":
            return self._json(entry)
        return self._text(entry)
