"""flux.rpc.RPC: a request and the future of its response(s)."""

import json

from flux.constants import FLUX_NODEID_ANY
from flux.future import Future


def encode_payload(payload):
    """A payload for the wire: str and bytes as they are, else JSON."""
    if payload is None or isinstance(payload, (bytes, str)):
        return payload
    return json.dumps(payload, separators=(",", ":"))


class RPC(Future):
    """Send `topic` with `payload` (str, bytes or JSON-able) to `nodeid`."""

    def __init__(self, flux_handle, topic, payload=None, nodeid=FLUX_NODEID_ANY, flags=0):
        if not isinstance(topic, str):
            if isinstance(topic, bytes):
                topic = topic.decode("utf-8")
            else:
                raise TypeError("Topic must be a string, not {}".format(type(topic)))
        core = flux_handle._core.rpc(topic, encode_payload(payload), int(nodeid), int(flags))
        super().__init__(flux_handle, core)
        self.topic = topic

    def get_str(self):
        """The response payload as a string (None when it has none)."""
        self._fetch()
        if self._payload is None:
            return None
        return self._payload.decode("utf-8", errors="surrogateescape").rstrip("\0")

    def get(self):
        """The response payload decoded as JSON (None when it has none)."""
        text = self.get_str()
        if text is None or text == "":
            return None
        return json.loads(text)

    def __iter__(self):
        """Each response of a streaming RPC until its end (ENODATA)."""
        import errno

        while True:
            try:
                value = self.get()
            except OSError as exc:
                if exc.errno == errno.ENODATA:
                    return
                raise
            yield value
            self.reset()
