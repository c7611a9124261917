"""flux.eventlog: RFC 18 eventlog entries."""

import json


class EventLogEvent(dict):
    """One entry: {"timestamp", "name", "context"} from a dict or its JSON line."""

    def __init__(self, event):
        if isinstance(event, str):
            event = json.loads(event)
        super().__init__(event)
        self.setdefault("context", {})

    def __str__(self):
        return "{0.timestamp:f}: {0.name} {0.context}".format(self)

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
        if not self.context:
            return ""
        return json.dumps(self.context, ensure_ascii=False, separators=(",", ":"))


def decode(text):
    """Every entry of an eventlog's text (one JSON object per line)."""
    return [EventLogEvent(line) for line in text.splitlines() if line.strip()]
