"""flux.job: submit, wait for, watch, list and signal jobs, as flux-core's."""

from flux.job.event import (
    MAIN_EVENTS,
    JobEventWatchFuture,
    JobException,
    event_wait,
    event_watch,
    event_watch_async,
)
from flux.eventlog import EventLogEvent
from flux.job.executor import FluxExecutor, FluxExecutorFuture
from flux.job.info import JobInfo
from flux.job.jobid import JobID, id_encode, id_parse
from flux.job.jobspec import Jobspec, JobspecV1, validate_jobspec
from flux.job.kill import cancel, cancel_async, job_raise, job_raise_async, kill, kill_async
from flux.job.list import JobList, get_job, job_list, job_list_id, job_list_inactive
from flux.job.submit import submit, submit_async, submit_get_id
from flux.job.wait import result, result_async, wait, wait_async, wait_get_status
