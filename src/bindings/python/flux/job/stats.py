"""JobStats: the job counts job-list.job-stats answers, for the whole
instance or summed over some queues."""

import itertools

from flux.rpc import RPC


class JobStats:
    """Counts of jobs per state and per outcome. Every count is -1 until
    update() or update_sync() has fetched them.

    States: depend priority sched run cleanup inactive total.
    Outcomes: successful failed timeout canceled inactive_purged (failed
    counts every unsuccessful job: timeouts and cancellations too).
    Derived: pending (depend+priority+sched), running (run+cleanup),
    active (total-inactive).

    With QUEUE (a name or several) the counts are those queues' summed;
    ValueError at update if the instance has no stats for one of them."""

    states = ("depend", "priority", "sched", "run", "cleanup", "inactive", "total")
    stats = ("successful", "failed", "timeout", "canceled", "inactive_purged")
    derived_stats = ("pending", "running", "active")

    class QueueStats:
        """One job-stats entry (the instance's or a queue's) as attributes;
        queue_name is "all" for the instance. += adds another's counts."""

        def __init__(self, stats=None):
            self.queue_name = ""
            for name in itertools.chain(JobStats.states, JobStats.stats):
                setattr(self, name, 0)
            if stats is not None:
                self.queue_name = stats.get("name", "all")
                for name in JobStats.states:
                    setattr(self, name, stats["job_states"][name])
                for name in JobStats.stats:
                    setattr(self, name, stats[name])

        def __iadd__(self, other):
            self.queue_name += "," + other.queue_name
            for name in itertools.chain(JobStats.states, JobStats.stats):
                setattr(self, name, getattr(self, name) + getattr(other, name))
            return self

    def __init__(self, handle, queue=None):
        self.handle = handle
        if queue is None:
            self.queues = []
        elif isinstance(queue, str):
            self.queues = [queue]
        else:
            self.queues = list(queue)
        self.callback = None
        self.cb_kwargs = {}
        for name in itertools.chain(self.states, self.stats, self.derived_stats):
            setattr(self, name, -1)

    def _query(self):
        return RPC(self.handle, "job-list.job-stats", {})

    def _update_cb(self, rpc):
        resp = rpc.get()
        if self.queues:
            by_name = {q["name"]: q for q in resp.get("queues", [])}
            counts = self.QueueStats()
            for name in self.queues:
                if name not in by_name:
                    raise ValueError(f"no stats available for queue {name}")
                counts += self.QueueStats(by_name[name])
        else:
            counts = self.QueueStats(resp)
        for name in itertools.chain(self.states, self.stats):
            setattr(self, name, getattr(counts, name))
        self.pending = self.depend + self.priority + self.sched
        self.running = self.run + self.cleanup
        self.active = self.total - self.inactive
        self.failed += self.timeout + self.canceled
        if self.callback:
            self.callback(self, **self.cb_kwargs)

    def update(self, callback=None, **kwargs):
        """Fetch the counts in the background (the reactor must run);
        then call CALLBACK(self, **KWARGS) if given."""
        self.callback = callback
        self.cb_kwargs = kwargs
        self._query().then(self._update_cb)

    def update_sync(self):
        """Fetch the counts now; returns self."""
        self._update_cb(self._query())
        return self
