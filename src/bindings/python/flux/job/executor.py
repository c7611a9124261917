"""FluxExecutor: concurrent.futures for Flux jobs, as flux-core's.

The executor hands each worker thread (_FluxExecutorThread) packages on a
deque: _SubmitPackage (submit a jobspec) or _AttachPackage (follow a job
already submitted). A thread owns a Flux handle and runs its reactor; the
executor wakes it through a pipe when it queues a package or shuts down.
The thread submits, sets the future's job id, watches the job's eventlog
and completes the future with the job's exit code (or -signal) at
`finish`, or with JobException at a fatal exception. Callbacks run on the
worker thread.
"""

import collections
import concurrent.futures
import itertools
import logging
import os
import threading
import weakref

import flux
from flux.constants import FLUX_POLLIN
from flux.job.event import MAIN_EVENTS, JobException, event_watch_async
from flux.job.submit import submit_async, submit_get_id


class FluxExecutorFuture(concurrent.futures.Future):
    """A Future for one job: jobid(), add_jobid_callback(),
    add_event_callback(); result() is the job's exit code."""

    EVENTS = MAIN_EVENTS

    def __init__(self, owning_thread_id):
        super().__init__()
        self._owner = owning_thread_id
        self._jobid_ready = threading.Condition()
        self._jobid = None
        self._jobid_set = False
        self._jobid_error = None
        self._jobid_callbacks = []
        self._event_lock = threading.RLock()
        self._events = {name: [] for name in self.EVENTS}
        self._event_callbacks = {name: [] for name in self.EVENTS}

    def _call(self, callback, *args):
        try:
            callback(self, *args)
        except Exception:  # a user callback's failure is logged, not fatal
            logging.getLogger(__name__).exception("exception calling callback for %r", self)

    def _set_jobid(self, jobid, exc=None):
        if self._jobid_set:
            raise RuntimeError("invalid state: jobid already set")
        with self._jobid_ready:
            self._jobid = jobid
            self._jobid_set = True
            self._jobid_error = exc
            self._jobid_ready.notify_all()
            callbacks, self._jobid_callbacks = self._jobid_callbacks, []
        for callback in callbacks:
            self._call(callback)

    def jobid(self, timeout=None):
        """The job's id, waiting up to `timeout` s for it."""
        with self._jobid_ready:
            if not self._jobid_set:
                self._jobid_ready.wait(timeout)
            if not self._jobid_set:
                raise concurrent.futures.TimeoutError()
        if self._jobid_error is not None:
            raise self._jobid_error
        return self._jobid

    def add_jobid_callback(self, callback):
        with self._jobid_ready:
            if not self._jobid_set:
                self._jobid_callbacks.append(callback)
                return self
        self._call(callback)
        return self

    def add_done_callback(self, fn):
        super().add_done_callback(fn)
        return self

    def add_event_callback(self, event, callback):
        """callback(future, EventLogEvent) at each `event` (also past ones)."""
        if event not in self.EVENTS:
            raise ValueError(f"invalid event {event!r}")
        with self._event_lock:
            self._event_callbacks[event].append(callback)
            past = list(self._events[event])
        for entry in past:
            self._call(callback, entry)
        return self

    def _set_event(self, entry):
        if entry.name not in self.EVENTS:
            raise ValueError(f"invalid event {entry.name!r}")
        with self._event_lock:
            self._events[entry.name].append(entry)
            callbacks = list(self._event_callbacks[entry.name])
        for callback in callbacks:
            self._call(callback, entry)

    def _check_thread(self):
        if not self.done() and threading.get_ident() == self._owner:
            raise RuntimeError("Cannot wait for future from inside callback")

    def result(self, timeout=None):
        self._check_thread()
        return super().result(timeout)

    def exception(self, timeout=None):
        self._check_thread()
        return super().exception(timeout)

    def set_exception(self, exception):
        if not self._jobid_set:
            self._set_jobid(None, RuntimeError(f"job could not be submitted due to {exception!r}"))
        return super().set_exception(exception)

    def cancel(self):
        if self.cancelled():
            return True
        cancelled = super().cancel()
        if cancelled and not self._jobid_set:
            self._set_jobid(None, concurrent.futures.CancelledError())
        return cancelled


_SubmitPackage = collections.namedtuple("_SubmitPackage", ["submit_args", "submit_kwargs", "future"])


class _AttachPackage:
    """A job id to follow and its future (whose job id is set at once)."""

    __slots__ = ("jobid", "future")

    def __init__(self, jobid, fut):
        self.jobid = jobid
        self.future = fut
        fut._set_jobid(jobid)


def _exit_code(status):
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    raise ValueError(status)


class _FluxExecutorThread(threading.Thread):
    """The thread that talks to Flux for an executor: it takes packages
    from PACKAGES_TO_HANDLE until EXIT_EVENT is set and no package or job
    is left, and sets BROKEN_EVENT if it fails. The handle is opened here,
    with HANDLE_ARGS and HANDLE_KWARGS. POLL_INTERVAL is how often a broken
    thread looks for packages still to fail; a working one is woken by
    notify() instead."""

    def __init__(self, broken_event, exit_event, packages_to_handle, poll_interval,
                 handle_args, handle_kwargs, **kwargs):
        super().__init__(**kwargs)
        self.__broken_event = broken_event
        self.__exit_event = exit_event
        self.__packages_to_handle = packages_to_handle
        self.__poll_interval = poll_interval
        self.__flux_handle = flux.Flux(*handle_args, **handle_kwargs)
        self.__running_user_futures = set()  # futures whose jobs are not done
        self.__wake_r, self.__wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # closed with the thread object, never while an executor may write
        weakref.finalize(self, os.close, self.__wake_r)
        weakref.finalize(self, os.close, self.__wake_w)

    def notify(self):
        """Make the thread look at its packages and exit event."""
        try:
            os.write(self.__wake_w, b"x")
        except BlockingIOError:
            pass  # a wake-up is pending already

    def run(self):
        try:
            self.__run()
        except Exception as exc:
            self.__broken_event.set()
            for fut in self.__running_user_futures:
                if not fut.done():
                    fut.set_exception(exc)
            # fail what is queued now and what comes until shutdown
            while self.__packages_to_handle or not self.__exit_event.is_set():
                try:
                    package = self.__packages_to_handle.popleft()
                except IndexError:
                    self.__exit_event.wait(self.__poll_interval)
                else:
                    if not package.future.done():
                        package.future.set_exception(exc)
            raise

    def __run(self):
        waker = self.__flux_handle.fd_watcher_create(self.__wake_r, self.__on_wake,
                                                     events=FLUX_POLLIN)
        waker.start()
        try:
            while True:
                self.__submit_new_jobs()
                if not self.__work_remains():
                    break
                if self.__flux_handle.reactor_run() < 0:
                    raise RuntimeError("reactor start failed")
        finally:
            waker.stop()

    def __work_remains(self):
        """True while it is not safe to exit."""
        return (not self.__exit_event.is_set() or bool(self.__packages_to_handle)
                or bool(self.__running_user_futures))

    def __on_wake(self, handle, watcher, fd, revents, args):
        try:
            while os.read(fd, 4096):
                pass
        except BlockingIOError:
            pass
        self.__submit_new_jobs()
        self.__maybe_stop()

    def __maybe_stop(self):
        if not self.__work_remains():
            self.__flux_handle.reactor_stop()

    def __submit_new_jobs(self):
        while self.__packages_to_handle:
            try:
                package = self.__packages_to_handle.popleft()
            except IndexError:
                break
            if not package.future.set_running_or_notify_cancel():
                continue
            if isinstance(package, _SubmitPackage):
                self.__handle_submit(package)
            else:
                self.__handle_attach(package)

    def __handle_submit(self, package):
        try:
            submit_async(self.__flux_handle, *package.submit_args,
                         **package.submit_kwargs).then(self.__submission_callback,
                                                       package.future)
        except Exception as exc:  # a bad jobspec or argument fails this future only
            package.future.set_exception(exc)
        else:
            self.__running_user_futures.add(package.future)

    def __handle_attach(self, package):
        try:
            event_watch_async(self.__flux_handle, package.jobid).then(self.__event_update,
                                                                      package.future)
        except Exception as exc:
            package.future.set_exception(exc)
        else:
            self.__running_user_futures.add(package.future)

    def __finished(self, user_future, exc=None):
        if exc is not None and not user_future.done():
            user_future.set_exception(exc)
        self.__running_user_futures.discard(user_future)
        self.__maybe_stop()

    def __submission_callback(self, submission_future, user_future):
        try:
            jobid = submit_get_id(submission_future)
        except Exception as exc:
            self.__finished(user_future, exc)
            return
        user_future._set_jobid(jobid)
        event_watch_async(self.__flux_handle, jobid).then(self.__event_update, user_future)

    def __event_update(self, event_future, user_future):
        try:
            event = event_future.get_event()
        except FileNotFoundError:
            self.__finished(user_future, ValueError("job ID does not match any job"))
            return
        except Exception as exc:
            self.__finished(user_future, exc)
            return
        if event is None:  # the eventlog is complete
            self.__finished(user_future)
            return
        if event.name in user_future.EVENTS:
            user_future._set_event(event)
        if user_future.done():
            return
        if event.name == "finish":
            try:
                user_future.set_result(_exit_code(event.context["status"]))
            except ValueError as exc:
                user_future.set_exception(exc)
        elif event.name == "exception" and event.context["severity"] == 0:
            user_future.set_exception(JobException(event))


class FluxExecutor:
    """Submit jobspecs and get FluxExecutorFutures, as concurrent.futures
    does for callables; attach() follows a job submitted otherwise.

    threads: worker threads (each with its own Flux handle, opened with
    handle_args and handle_kwargs); thread_name_prefix names them;
    poll_interval: see _FluxExecutorThread."""

    _counter = itertools.count().__next__
    EVENTS = MAIN_EVENTS

    def __init__(self, threads=1, thread_name_prefix="", poll_interval=0.1, handle_args=(),
                 handle_kwargs=None):
        if threads < 1:
            raise ValueError("the number of threads must be > 0")
        self._submission_queues = [collections.deque() for _ in range(threads)]
        self._next_thread = 0
        self._shutdown_lock = threading.Lock()
        self._broken_event = threading.Event()
        self._shutdown_event = threading.Event()
        prefix = thread_name_prefix or f"{type(self).__name__}-{self._counter()}"
        self._executor_threads = [
            _FluxExecutorThread(self._broken_event, self._shutdown_event, deque, poll_interval,
                                handle_args, handle_kwargs or {}, name=f"{prefix}-{i}",
                                daemon=True)
            for i, deque in enumerate(self._submission_queues)
        ]
        for thread in self._executor_threads:
            thread.start()
        self._finalizer = weakref.finalize(self, self._shutdown_threads, self._shutdown_event,
                                           self._executor_threads)

    @staticmethod
    def _shutdown_threads(event, threads):
        event.set()
        for thread in threads:
            thread.notify()
        for thread in threads:
            thread.join()

    def _create_future(self, factory, *factory_args):
        if self._broken_event.is_set():
            raise RuntimeError("Executor is broken, new futures cannot be scheduled")
        with self._shutdown_lock:
            if self._shutdown_event.is_set():
                raise RuntimeError("cannot schedule new futures after shutdown")
            i = self._next_thread
            thread = self._executor_threads[i]
            fut = FluxExecutorFuture(thread.ident)
            self._submission_queues[i].append(factory(*factory_args, fut))
            self._next_thread = (i + 1) % len(self._executor_threads)
        thread.notify()
        return fut

    def submit(self, *args, **kwargs):
        """A future for a new job: args/kwargs as flux.job.submit's after
        the handle (a jobspec first, then urgency, waitable, ...)."""
        return self._create_future(_SubmitPackage, args, kwargs)

    def attach(self, jobid):
        """A future for a job already submitted (its exception is set if
        Flux does not know the id)."""
        return self._create_future(_AttachPackage, jobid)

    def shutdown(self, wait=True, *, cancel_futures=False):
        """No new futures; with cancel_futures, cancel those not started;
        with wait, return once every job is done."""
        with self._shutdown_lock:
            self._shutdown_event.set()
        if cancel_futures:
            for deque in self._submission_queues:
                while deque:
                    try:
                        package = deque.popleft()
                    except IndexError:
                        break
                    package.future.cancel()
                    package.future.set_running_or_notify_cancel()
        for thread in self._executor_threads:
            thread.notify()
        if wait:
            for thread in self._executor_threads:
                thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown(wait=True)
        return False
