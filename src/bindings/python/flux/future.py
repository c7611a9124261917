"""Futures as flux-core's flux.future: a value to come from the broker.

get() waits for it (raising OSError for an error response); then(cb)
calls cb(future, *args, **kwargs) from the handle's reactor once it is
ready; reset() moves a streaming future on to its next value (and arms its
callback again). Subclasses say how a value arrives (_core, a flux._core.Rpc)
and how it is decoded (get).
"""

import collections
import errno
import os


class Future:
    """The future of one request's response(s), over a flux._core.Rpc.
    Future(other_future) is another view of the same responses."""

    def __init__(self, flux_handle, core=None):
        if isinstance(flux_handle, Future):
            flux_handle, core = flux_handle.flux_handle, flux_handle._core
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

    def set_flux(self, flux_handle):
        self.flux_handle = flux_handle

    def get_reactor(self):
        """The reactor callbacks run on (the handle's: reactor_stop takes it)."""
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
        if not self._have and self._core is not None and self._core.ready():
            try:
                self._core.next()  # a value the callback never read is dropped too
            except OSError:
                pass
        self._have = False
        self._payload = None
        self._error = None
        if self._then is not None and not self._armed:
            self._arm()

    def then(self, callback, *args, timeout=-1.0, **kwargs):
        """Call callback(self, *args, **kwargs) once the value is ready."""
        if callback is None:
            raise ValueError("Callback cannot be None")
        if self._then is not None:
            raise OSError(errno.EEXIST, "future already has a continuation")
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


class _FulfilledValues:
    """The values of a FutureExt: put there from Python (fulfill), read
    with the same calls as a flux._core.Rpc. Waiting runs the handle's
    reactor, so the RPCs an init callback started make progress."""

    def __init__(self, future, start):
        self._future = future
        self._start = start  # the init callback, run at first use
        self._values = collections.deque()  # (value, OSError or None)
        self._waiter = None
        self._post = None

    def push(self, value, error):
        self._values.append((value, error))
        if self._waiter is not None:
            self._wake()

    def _begin(self):
        if self._start is not None:
            start, self._start = self._start, None
            start()

    def _handle(self):
        h = self._future.flux_handle
        if h is None:
            raise OSError(errno.EINVAL, "FutureExt has no flux handle (see set_flux)")
        return h

    def _wake(self):
        fn, self._waiter = self._waiter, None
        self._post = self._handle()._core.timer(0.0, fn)

    def ready(self):
        return bool(self._values)

    def matchtag(self):
        return 0

    def next(self):
        self._begin()
        while not self._values:
            if not self._handle()._core.run_one():
                raise OSError(errno.EDEADLK, "FutureExt can never be fulfilled")
        value, error = self._values.popleft()
        if error is not None:
            raise error
        return value

    def wait_for(self, seconds):
        self._begin()
        expired = []
        core = self._handle()._core
        timer = core.timer(seconds, lambda: expired.append(True))
        while not self._values and not expired:
            if not core.run_one():
                break
        timer.stop()
        return bool(self._values)

    def then(self, fn):
        self._waiter = fn
        self._begin()
        if self._values and self._waiter is not None:
            self._wake()


class FutureExt(Future):
    """A future fulfilled from Python: init_cb(future, *args, **kwargs)
    runs when the future is first waited for (get, wait_for or then) and
    arranges for fulfill(value) or fulfill_error(errnum, errstr), perhaps
    from RPC callbacks on future.get_flux()."""

    def __init__(self, init_cb, *args, flux_handle=None, **kwargs):
        super().__init__(flux_handle, _FulfilledValues(self, lambda: init_cb(self, *args, **kwargs)))

    def fulfill(self, result=None):
        self._core.push(result, None)

    def fulfill_error(self, errnum=0, errstr=None):
        self._core.push(None, OSError(errnum, errstr or os.strerror(errnum)))

    def get(self):
        self._fetch()
        return self._payload
