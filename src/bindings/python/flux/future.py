"""Futures as flux-core's flux.future: a value to come from the broker.

get() waits for it (raising OSError for an error response); then(cb)
calls cb(future, *args, **kwargs) from the handle's reactor once it is
ready; reset() moves a streaming future on to its next value (and arms its
callback again). Subclasses say how a value arrives (_core, a flux._core.Rpc)
and how it is decoded (get).
"""

import errno


class Future:
    """The future of one request's response(s), over a flux._core.Rpc."""

    def __init__(self, flux_handle, core):
        self.flux_handle = flux_handle
        self._core = core
        self._have = False  # a value (or error) is fetched and not yet reset
        self._payload = None
        self._error = None
        self._then = None  # (callback, args, kwargs)
        self._armed = False
        self._timer = None

    def get_flux(self):
        return self.flux_handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _fetch(self):
        if not self._have:
            try:
                self._payload = self._core.next()
            except OSError as exc:
                self._error = exc
            self._have = True
        if self._error is not None:
            raise self._error

    def get(self):
        """Wait for the value; raise OSError if the request failed."""
        self._fetch()

    def error_string(self):
        if not self._have:
            try:
                self._fetch()
            except OSError:
                pass
        return self._error.strerror if self._error is not None else None

    def is_ready(self):
        return self._have or self._core.ready()

    def wait_for(self, timeout=-1.0):
        """Wait for the value, at most `timeout` seconds (<0: forever)."""
        if timeout is not None and timeout >= 0 and not self.is_ready():
            if not self._core.wait_for(float(timeout)):
                raise OSError(errno.ETIMEDOUT, "Connection timed out")
        try:
            self._fetch()
        except OSError:
            pass
        return self

    def reset(self):
        """Drop the current value: the next get() waits for the next one."""
        self._have = False
        self._payload = None
        self._error = None
        if self._then is not None and not self._armed:
            self._arm()

    def then(self, callback, *args, timeout=-1.0, **kwargs):
        """Call callback(self, *args, **kwargs) once the value is ready."""
        if callback is None:
            raise ValueError("Callback cannot be None")
        self._then = (callback, args, kwargs, timeout)
        if not self._armed:
            self._arm()
        return self

    def stop(self):
        """Call the then() callback no more."""
        self._then = None
        self._disarm()

    def _arm(self):
        self._armed = True
        self.flux_handle._watcher_add(self)
        timeout = self._then[3]
        if timeout is not None and timeout >= 0 and not self._have:
            self._timer = self.flux_handle._core.timer(float(timeout), self._on_timeout)
        if self._have:
            self._timer = self.flux_handle._core.timer(0.0, self._on_ready)
        else:
            self._core.then(self._on_ready)

    def _disarm(self):
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._armed:
            self._armed = False
            self.flux_handle._watcher_del(self)

    def _on_timeout(self):
        if self._armed and not self._have:
            self._have = True
            self._error = OSError(errno.ETIMEDOUT, "Connection timed out")
            self._on_ready()

    def _on_ready(self):
        if not self._armed or self._then is None:
            return
        self._disarm()
        callback, args, kwargs, _ = self._then
        callback(self, *args, **kwargs)
