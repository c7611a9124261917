"""flux.message: messages as message watchers receive them."""

import json

from flux.constants import (
    FLUX_MSGTYPE_EVENT,
    FLUX_MSGTYPE_REQUEST,
    FLUX_MSGTYPE_RESPONSE,
)

_TYPE_NAMES = {
    FLUX_MSGTYPE_REQUEST: "request",
    FLUX_MSGTYPE_RESPONSE: "response",
    FLUX_MSGTYPE_EVENT: "event",
    8: "control",
}


def msg_typestr(msg_type):
    return _TYPE_NAMES.get(msg_type, "unknown")


class Message:
    """A received message (read-only): topic, payload, type, credentials."""

    def __init__(self, core):
        self._core = core

    @property
    def topic(self):
        return self._core.topic

    @property
    def payload_str(self):
        data = self._core.payload
        if data is None:
            return None
        return data.decode("utf-8", errors="surrogateescape").rstrip("\0")

    @property
    def payload(self):
        text = self.payload_str
        if text is None or text == "":
            return None
        return json.loads(text)

    @property
    def type(self):
        return self._core.type

    @property
    def type_str(self):
        return msg_typestr(self._core.type)

    @property
    def userid(self):
        return self._core.userid

    @property
    def rolemask(self):
        return self._core.rolemask

    @property
    def matchtag(self):
        return self._core.matchtag

    @property
    def errnum(self):
        return self._core.errnum

    def decode(self):
        """(type, topic, payload_str), as flux-core's."""
        return self.type, self.topic, self.payload_str

    def __repr__(self):
        return "Message({}, {!r})".format(self.type_str, self.topic)
