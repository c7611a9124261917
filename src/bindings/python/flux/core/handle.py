"""flux.Flux: a connection to an instance (FLUX_URI, or the URI given)."""

import json

from flux import _core
from flux.constants import FLUX_NODEID_ANY, FLUX_RPC_STREAMING


def _encode(payload):
    if payload is None:
        return None
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="surrogateescape")
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, separators=(",", ":"))


class RPC:
    """The future of one request: get() waits for the (next) response."""

    def __init__(self, core_rpc, streaming):
        self._rpc = core_rpc
        self._streaming = streaming
        self._payload = None
        self._have = False
        self._done = False

    def _fetch(self):
        if not self._have:
            self._payload = self._rpc.next()
            self._have = True
            if self._payload is None:
                self._done = True

    def get_str(self):
        """The payload as a string (None when there is none)."""
        self._fetch()
        if self._payload is None:
            return None
        return self._payload.decode("utf-8", errors="surrogateescape").rstrip("\0")

    def get(self):
        """The payload decoded as JSON (None when there is none)."""
        s = self.get_str()
        if s is None or s == "":
            return None
        return json.loads(s)

    def reset(self):
        """For a streaming RPC: move on to the next response."""
        self._have = False
        self._payload = None

    def __iter__(self):
        """Each response of a streaming RPC, until its end."""
        while True:
            self.reset()
            value = self.get()
            if self._done:
                return
            yield value

    def wait_for(self, timeout=-1.0):
        self._fetch()
        return self


class Flux:
    """A handle: Flux() connects to FLUX_URI, Flux(uri) to that instance."""

    def __init__(self, url=None, flags=0):
        self._core = _core.Handle(url or "")
        self.aux = {}

    def rpc(self, topic, payload=None, nodeid=FLUX_NODEID_ANY, flags=0):
        """Send a request; the returned future's get() waits for the answer."""
        core = self._core.rpc(topic, _encode(payload), int(nodeid), int(flags))
        return RPC(core, bool(flags & FLUX_RPC_STREAMING))

    def attr_get(self, name):
        return self.rpc("attr.get", {"name": name}).get()["value"]

    def attr_set(self, name, value):
        self.rpc("attr.set", {"name": name, "value": str(value)}).get()

    def get_rank(self):
        return int(self.attr_get("rank"))

    def log(self, level, message):
        """Add an entry to the broker log (level as syslog's, e.g. 6 info)."""
        import os
        import sys

        appname = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
        self._core.log(int(level), str(self.get_rank()), appname, str(message))

    def close(self):
        self._core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
