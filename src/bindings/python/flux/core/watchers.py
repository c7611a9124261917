"""Reactor watchers as flux-core's flux.core.watchers: each is created
stopped; start() arms it, stop() disarms it, and the handle's
reactor_run() goes on while any is started. A callback's exception stops
the reactor and is raised by reactor_run()."""

import errno
import signal


class Watcher:
    def __init__(self, flux_handle, callback, args=None):
        self.flux_handle = flux_handle
        self.callback = callback
        self.args = args
        self._started = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __del__(self):
        try:
            self.destroy()
        except Exception:  # interpreter shutdown: nothing left to stop
            pass

    def start(self):
        if not self._started:
            self._started = True
            self.flux_handle._watcher_add(self)
            self._arm()
        return self

    def stop(self):
        if self._started:
            self._started = False
            self.flux_handle._watcher_del(self)
            self._disarm()
        return self

    def destroy(self):
        self.stop()

    # Kept for flux-core's API; reactor_run() counts started watchers only.
    def ref(self):
        return self

    def unref(self):
        return self

    def _arm(self):
        pass

    def _disarm(self):
        pass


class TimerWatcher(Watcher):
    """callback(handle, watcher, revents, args) after `after` s, then each
    `repeat` s if repeat > 0."""

    def __init__(self, flux_handle, after, callback, repeat=0.0, args=None):
        if after < 0 or repeat < 0:
            raise OSError(errno.EINVAL, "timer values must not be negative")
        super().__init__(flux_handle, callback, args)
        self.after = float(after)
        self.repeat = float(repeat)
        self._next = self.after
        self._timer = None

    def _arm(self):
        self._timer = self.flux_handle._core.timer(self._next, self._fire)

    def _disarm(self):
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _fire(self):
        self._timer = None
        if self.repeat > 0:
            self._next = self.repeat
            self._arm()
        else:
            self.stop()
        self.callback(self.flux_handle, self, 0, self.args)

    def reset(self, after=None, repeat=None):
        """Re-arm from now with new (or the creation's) after and repeat."""
        self.after = float(self.after if after is None else after)
        self.repeat = float(self.repeat if repeat is None else repeat)
        self.stop()
        self._next = self.after
        self.start()


class FDWatcher(Watcher):
    """callback(handle, watcher, fd, revents, args) each time fd is ready
    for `events` (FLUX_POLLIN, FLUX_POLLOUT)."""

    def __init__(self, flux_handle, fd_int, events, callback, args=None):
        super().__init__(flux_handle, callback, args)
        self.fd_int = fd_int
        self.events = events
        self._watch = None

    def _arm(self):
        self._watch = self.flux_handle._core.fd_watch(self.fd_int, self.events & 3, self._fire)

    def _disarm(self):
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    def _fire(self, revents):
        self._disarm()
        if self._started:
            self._arm()
        self.callback(self.flux_handle, self, self.fd_int, revents, self.args)


class SignalWatcher(Watcher):
    """callback(handle, watcher, signum, args) on each delivery of signum."""

    def __init__(self, flux_handle, signum, callback, args=None):
        if not 0 < int(signum) < signal.NSIG:
            raise OSError(errno.EINVAL, f"invalid signal number {signum}")
        super().__init__(flux_handle, callback, args)
        self.signum = int(signum)
        self._watch = None

    def _arm(self):
        self._watch = self.flux_handle._core.signal_watch(self.signum, self._fire)

    def _disarm(self):
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    def _fire(self, signum):
        self._disarm()
        if self._started:
            self._arm()
        self.callback(self.flux_handle, self, signum, self.args)


class MessageWatcher(Watcher):
    """callback(handle, watcher, msg, args) for each message whose type is
    in type_mask and topic matches topic_glob. Requests from others than
    the instance owner need FLUX_ROLE_USER in rolemask."""

    def __init__(self, flux_handle, type_mask, callback, topic_glob="*", match_tag=0,
                 rolemask=None, args=None):
        super().__init__(flux_handle, callback, args)
        if isinstance(topic_glob, bytes):
            topic_glob = topic_glob.decode("utf-8")
        if topic_glob is not None and not isinstance(topic_glob, str):
            raise TypeError("Topic must be a string, not {}".format(type(topic_glob)))
        self.type_mask = type_mask
        self.topic_glob = topic_glob or "*"
        self.match_tag = match_tag
        self.rolemask = rolemask or 0

    def _arm(self):
        self.flux_handle._msg_watcher_start(self)

    def _disarm(self):
        self.flux_handle._msg_watcher_stop(self)

