"""flux.message: messages as message watchers receive them, and new ones
to send."""

import json
import os

from flux import _core

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
    """A message: one received by a watcher, or a new one of type_id to fill
    in (topic, payload, userid, rolemask) and send with h.send()."""

    def __init__(self, type_id=FLUX_MSGTYPE_REQUEST, handle=None):
        self._core = handle if handle is not None else _core.Message(int(type_id))

    @property
    def pimpl(self):
        """The C++ message (flux-core scripts reach for set_rolemask etc.)."""
        return self._core

    @classmethod
    def from_event_encode(cls, topic, payload=None):
        msg = cls(FLUX_MSGTYPE_EVENT)
        msg.topic = topic
        if payload is not None:
            msg.payload = payload
        return msg

    @property
    def topic(self):
        return self._core.topic

    @topic.setter
    def topic(self, value):
        self._core.topic = value

    @property
    def payload_str(self):
        data = self._core.payload
        if data is None:
            return None
        return data.decode("utf-8", errors="surrogateescape").rstrip("\0")

    @payload_str.setter
    def payload_str(self, value):
        self._core.payload = None if value is None else value.encode("utf-8")

    @property
    def payload(self):
        text = self.payload_str
        if text is None or text == "":
            return None
        return json.loads(text)

    @payload.setter
    def payload(self, value):
        self.payload_str = None if value is None else json.dumps(value)

    @property
    def type(self):
        return self._core.type

    @type.setter
    def type(self, value):
        self._core.type = int(value)

    @property
    def type_str(self):
        return msg_typestr(self._core.type)

    @property
    def userid(self):
        return self._core.userid

    @userid.setter
    def userid(self, value):
        self._core.userid = int(value)

    @property
    def rolemask(self):
        return self._core.rolemask

    @rolemask.setter
    def rolemask(self, value):
        self._core.rolemask = int(value)

    @property
    def matchtag(self):
        return self._core.matchtag

    @property
    def errnum(self):
        return self._core.errnum

    def decode(self):
        """(type, topic, payload_str), as flux-core's; an error response
        raises OSError."""
        if self.type == FLUX_MSGTYPE_RESPONSE and self.errnum:
            raise OSError(self.errnum, self._core.errstr or os.strerror(self.errnum))
        return self.type, self.topic, self.payload_str

    def __repr__(self):
        return "Message({}, {!r})".format(self.type_str, self.topic)
