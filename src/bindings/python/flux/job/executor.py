"""FluxExecutor: concurrent.futures for Flux jobs.

A worker thread owns its own handle and reactor. submit() queues the
jobspec and wakes the thread through a pipe; the thread submits it, sets
the future's job id, watches the job's eventlog and completes the future
with the job's exit code (or -signal) at `finish`, or with JobException at
a fatal exception. Callbacks run on the worker thread.
"""


import concurrent.futures
import logging
import os
import queue
import threading

from flux.constants import FLUX_POLLIN
from flux.job.event import MAIN_EVENTS, JobException, event_watch_async
from flux.job.jobid import JobID
from flux.job.submit import submit_async


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
            raise ValueError(f"{event} not in {self.EVENTS}")
        with self._event_lock:
            self._event_callbacks[event].append(callback)
            past = list(self._events[event])
        for entry in past:
            self._call(callback, entry)
        return self

    def _set_event(self, entry):
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


def _exit_code(status):
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    raise ValueError(status)


class _Worker(threading.Thread):
    """The thread that talks to Flux for an executor."""

    def __init__(self, handle_args, handle_kwargs, name):
        super().__init__(name=name, daemon=True)
        self.work = queue.SimpleQueue()  # ("submit", future, args, kwargs) / ("attach", ...)
        self.wake_r, self.wake_w = os.pipe()
        self.shutting_down = False
        self.running = set()  # futures whose jobs are not done yet
        self.handle_args = handle_args
        self.handle_kwargs = handle_kwargs
        self.ready = threading.Event()
        self.start_error = None

    def post(self, item):
        self.work.put(item)
        os.write(self.wake_w, b"x")

    def run(self):
        import flux

        try:
            self.h = flux.Flux(*self.handle_args, **self.handle_kwargs)
        except Exception as exc:  # reported by every submit
            self.start_error = exc
            self.ready.set()
            return
        self.ready.set()
        waker = self.h.fd_watcher_create(self.wake_r, self._on_wake, events=FLUX_POLLIN)
        waker.start()
        try:
            while not (self.shutting_down and not self.running and self.work.empty()):
                self.h.reactor_run()
                if self.shutting_down and not self.running and self.work.empty():
                    break
        finally:
            waker.stop()
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _on_wake(self, h, watcher, fd, revents, args):
        os.read(fd, 4096)
        while True:
            try:
                item = self.work.get_nowait()
            except queue.Empty:
                break
            if item[0] == "shutdown":
                self.shutting_down = True
                continue
            kind, fut = item[0], item[1]
            if not fut.set_running_or_notify_cancel():
                continue
            self.running.add(fut)
            if kind == "submit":
                try:
                    submit_async(h, *item[2], **item[3]).then(self._on_submit, fut)
                except Exception as exc:
                    self._fail(fut, exc)
            else:
                fut._set_jobid(JobID(item[2]))
                self._watch(fut, item[2])
        if self.shutting_down and not self.running:
            h.reactor_stop()

    def _fail(self, fut, exc):
        if not fut.done():
            fut.set_exception(exc)
        self._finished(fut)

    def _finished(self, fut):
        self.running.discard(fut)
        if self.shutting_down and not self.running and self.work.empty():
            self.h.reactor_stop()

    def _on_submit(self, sub, fut):
        try:
            jobid = sub.get_id()
        except Exception as exc:
            self._fail(fut, exc)
            return
        fut._set_jobid(jobid)
        self._watch(fut, jobid)

    def _watch(self, fut, jobid):
        event_watch_async(self.h, jobid).then(self._on_event, fut)

    def _on_event(self, watch, fut):
        try:
            event = watch.get_event(autoreset=False)
        except FileNotFoundError:
            self._fail(fut, ValueError("job ID does not match any job"))
            return
        except Exception as exc:
            self._fail(fut, exc)
            return
        if event is None:
            self._finished(fut)
            return
        if event.name in fut.EVENTS:
            fut._set_event(event)
        if not fut.done():
            if event.name == "finish":
                try:
                    fut.set_result(_exit_code(event.context["status"]))
                except ValueError as exc:
                    fut.set_exception(exc)
            elif event.name == "exception" and event.context["severity"] == 0:
                fut.set_exception(JobException(event))
        watch.reset()


class FluxExecutor:
    """Submit jobspecs and get FluxExecutorFutures, as concurrent.futures.

    threads: worker threads (each with its own Flux handle); handle_args
    and handle_kwargs: what flux.Flux() is opened with."""

    EVENTS = MAIN_EVENTS

    def __init__(self, threads=1, thread_name_prefix="", poll_interval=0.1, handle_args=(),
                 handle_kwargs=None):
        if threads < 1:
            raise ValueError("threads must be positive")
        self._workers = []
        for i in range(threads):
            w = _Worker(handle_args, handle_kwargs or {},
                        f"{thread_name_prefix or 'FluxExecutor'}-{i}")
            w.start()
            self._workers.append(w)
        for w in self._workers:
            w.ready.wait()
        self._next = 0
        self._lock = threading.Lock()
        self._shutdown = False

    def _pick(self):
        w = self._workers[self._next % len(self._workers)]
        self._next += 1
        if w.start_error is not None:
            raise w.start_error
        return w

    def submit(self, *args, **kwargs):
        """A future for the job: args/kwargs as flux.job.submit_async's
        after the handle (a Jobspec first)."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            w = self._pick()
            fut = FluxExecutorFuture(w.ident)
            w.post(("submit", fut, args, kwargs))
        return fut

    def attach(self, jobid):
        """A future for a job already submitted."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            w = self._pick()
            fut = FluxExecutorFuture(w.ident)
            w.post(("attach", fut, int(jobid)))
        return fut

    def shutdown(self, wait=True, *, cancel_futures=False):
        """No new futures; with wait, return once every job is done."""
        with self._lock:
            if not self._shutdown:
                self._shutdown = True
                for w in self._workers:
                    if cancel_futures:
                        pending = []
                        while True:
                            try:
                                pending.append(w.work.get_nowait())
                            except queue.Empty:
                                break
                        for item in pending:
                            if item[0] != "shutdown":
                                item[1].cancel()
                    if w.is_alive():
                        w.post(("shutdown",))
        if wait:
            for w in self._workers:
                w.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown(wait=True)
        return False



