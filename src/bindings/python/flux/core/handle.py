"""flux.Flux: a connection to an instance (FLUX_URI, or the URI given),
with flux-core's handle API: RPCs, events, services, watchers and a
reactor to run them."""

import errno
import fnmatch
import os
import sys
from collections import deque

from flux import _core
from flux.constants import (
    FLUX_MSGTYPE_ANY,
    FLUX_MSGTYPE_EVENT,
    FLUX_MSGTYPE_REQUEST,
    FLUX_NODEID_ANY,
    FLUX_POLLERR,
    FLUX_POLLIN,
    FLUX_POLLOUT,
    FLUX_ROLE_OWNER,
)
from flux.core.watchers import FDWatcher, MessageWatcher, SignalWatcher, TimerWatcher
from flux.message import Message
from flux.rpc import RPC, encode_payload

_NORESPONSE = 0x04  # message flag: the request wants no response


class Flux:
    """A handle: Flux() connects to FLUX_URI, Flux(uri) to that instance."""

    def __init__(self, url=None, flags=0, handle=None):
        self._core = _core.Handle(url or "")
        self.aux = {}
        self._active = set()  # started watchers and armed futures (kept alive)
        self._msg_watchers = []  # started message watchers, newest last
        self._events = deque()  # events no watcher took, for event_recv()
        self._dispatching = False
        self._stop = False
        self._running = 0  # reactor_run() depth
        self._stop_error = False
        self._cached_config = None
        self._rank = None

    # -- requests ---------------------------------------------------------

    def rpc(self, topic, payload=None, nodeid=FLUX_NODEID_ANY, flags=0):
        """Send a request; the returned future's get() waits for the answer."""
        return RPC(self, topic, payload, nodeid, flags)

    def respond(self, message, payload=None):
        """Answer a request received by a message watcher."""
        self._core.respond(message._core, encode_payload(payload))
        return 0

    def send(self, message, flags=0):
        """Send a Message as it is; a request's response comes to a
        message watcher (no RPC matches it)."""
        self._core.send(message._core)
        return 0

    def respond_error(self, message, errnum, errstr=None):
        self._core.respond_error(message._core, int(errnum), errstr or "")
        return 0

    def service_register(self, name):
        """Have requests NAME.* routed to this handle (see msg_watcher_create)."""
        self._ensure_dispatch()
        return self.rpc("service.add", {"service": name})

    def service_unregister(self, name):
        return self.rpc("service.remove", {"service": name})

    # -- attributes, configuration, log ----------------------------------

    def attr_get(self, attr_name):
        return self.rpc("attr.get", {"name": attr_name}).get()["value"]

    def attr_set(self, attr, value):
        if not isinstance(attr, str):
            raise ValueError("Attribute name must be a string")
        if not isinstance(value, str):
            raise ValueError("Attribute value must be a string")
        self.rpc("attr.set", {"name": attr, "value": value}).get()

    def attr_remove(self, attr):
        if not isinstance(attr, str):
            raise ValueError("Attribute name must be a string")
        self.rpc("attr.rm", {"name": attr}).get()

    def get_rank(self):
        if self._rank is None:
            self._rank = int(self.attr_get("rank"))
        return self._rank

    def conf_get(self, key=None, default=None, update=False):
        """The instance's configuration, or the value at dotted `key`."""
        if update or self._cached_config is None:
            self._cached_config = self.rpc("config.get").get()
        if key is None:
            return self._cached_config
        value = self._cached_config
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def log(self, level, fstring):
        """Add an entry to the broker log (level as syslog's, e.g. 6 info)."""
        appname = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
        self._core.log(int(level), str(self.get_rank()), appname or "python", str(fstring))

    # -- events -----------------------------------------------------------

    def event_subscribe(self, topic):
        if topic is None:
            raise OSError(errno.EINVAL, "topic must not be None")
        if isinstance(topic, bytes):
            topic = topic.decode("utf-8")
        if not isinstance(topic, str):
            raise TypeError("Topic must be a string, not {}".format(type(topic)))
        self._ensure_dispatch()
        self.rpc("local.sub", {"topic": topic}).get()
        return 0

    def event_unsubscribe(self, topic):
        if isinstance(topic, bytes):
            topic = topic.decode("utf-8")
        self.rpc("local.unsub", {"topic": topic}).get()
        return 0

    def event_send(self, topic, payload=None):
        """Publish an event (payload str or JSON-able) and wait for its sequence."""
        import base64

        if isinstance(topic, bytes):
            topic = topic.decode("utf-8")
        req = {"topic": topic, "flags": 0}
        if payload is not None:
            data = encode_payload(payload)
            if isinstance(data, str):
                data = data.encode("utf-8")
            data += b"\0"
            req["payload"] = base64.b64encode(data).decode()
        self.rpc("event.pub", req).get()
        return 0

    def event_recv(self, topic=None):
        """The next subscribed event (matching glob `topic`), waiting for it."""
        self._ensure_dispatch()
        while True:
            for i, msg in enumerate(self._events):
                if topic is None or fnmatch.fnmatchcase(msg.topic, topic):
                    del self._events[i]
                    return msg
            if not self._core.run_one():
                raise OSError(errno.ECONNRESET, "connection to broker lost")

    # -- watchers and the reactor ----------------------------------------

    def msg_watcher_create(self, callback, type_mask=FLUX_MSGTYPE_ANY, topic_glob="*",
                           args=None, match_tag=0, rolemask=None):
        return MessageWatcher(self, type_mask, callback, topic_glob, match_tag, rolemask, args)

    def timer_watcher_create(self, after, callback, repeat=0.0, args=None):
        return TimerWatcher(self, after, callback, repeat=repeat, args=args)

    def fd_watcher_create(self, fd_int, callback, events=None, args=None):
        if events is None:
            events = FLUX_POLLIN | FLUX_POLLOUT | FLUX_POLLERR
        return FDWatcher(self, fd_int, events, callback, args=args)

    def signal_watcher_create(self, signum, callback, args=None):
        return SignalWatcher(self, signum, callback, args)

    def add_watcher(self, watcher):
        self._active.add(watcher)
        return watcher

    def del_watcher(self, watcher):
        self._active.discard(watcher)

    def reactor_run(self, reactor=None, flags=0):
        """Run callbacks until no watcher is started and no future awaits
        its callback, or reactor_stop(). A callback's exception ends the
        run and is raised here."""
        self._stop = self._stop_error = False
        self._running += 1
        try:
            while self._active and not self._stop:
                if not self._core.run_one():
                    break
        finally:
            self._running -= 1
        if self._stop_error:
            self._stop_error = False
            raise OSError(errno.ECANCELED, "reactor stopped with an error")
        return 1 if self._active else 0  # as libev: still active watchers?

    def reactor_running(self):
        """True while reactor_run() is running (in a callback, say)."""
        return self._running > 0

    def reactor_stop(self, reactor=None):
        self._stop = True

    def reactor_stop_error(self, reactor=None):
        self._stop = self._stop_error = True

    def close(self):
        self._core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals: what the reactor counts, message dispatch --------------

    def _watcher_add(self, watcher):
        self._active.add(watcher)

    def _watcher_del(self, watcher):
        self._active.discard(watcher)

    def _msg_watcher_start(self, watcher):
        self._ensure_dispatch()
        self._msg_watchers.append(watcher)

    def _msg_watcher_stop(self, watcher):
        if watcher in self._msg_watchers:
            self._msg_watchers.remove(watcher)

    def _ensure_dispatch(self):
        if not self._dispatching:
            self._dispatching = True
            self._core.set_message_callback(self._dispatch)

    def _dispatch(self, core_msg):
        msg = Message(handle=core_msg)
        mtype = core_msg.type
        # The newest watcher first, as flux-core's dispatch matches.
        for w in reversed(self._msg_watchers):
            if not (w.type_mask & mtype) or not fnmatch.fnmatchcase(msg.topic, w.topic_glob):
                continue
            if mtype == FLUX_MSGTYPE_REQUEST and not (core_msg.rolemask & FLUX_ROLE_OWNER):
                if not (w.rolemask & core_msg.rolemask):
                    self._core.respond_error(core_msg, errno.EPERM,
                                             "Request requires owner credentials")
                    return
            w.callback(self, w, msg, w.args)
            return
        if mtype == FLUX_MSGTYPE_EVENT:
            self._events.append(msg)
            if len(self._events) > 10000:  # nobody reads them: keep memory bounded
                self._events.popleft()
        elif mtype == FLUX_MSGTYPE_REQUEST and not (core_msg.flags & _NORESPONSE):
            self._core.respond_error(core_msg, errno.ENOSYS, "")

