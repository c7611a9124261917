"""rc1 for `flux modprobe rc1`: what etc/rc1 does, as modprobe tasks.

Every rank loads content, kvs, kvs-watch and resource; rank 0 also the
backing store, heartbeat and the job services (ranks come from
modprobe.toml). FLUX_RC_EXTRA_MODULES (space separated, described in a
modprobe.toml) are loaded too. Sites add tasks in modprobe/rc1.d/*.py.
"""

import os

from flux.modprobe import task


def setup(context):
    context.load_modules(
        [
            "content",
            "content-backing",
            "kvs",
            "kvs-watch",
            "heartbeat",
            "resource",
            "job-manager",
            "job-info",
            "job-list",
            "job-ingest",
            "job-exec",
            "sched",
        ]
    )
    context.load_modules(os.environ.get("FLUX_RC_EXTRA_MODULES", "").split())


@task("post-start-event", ranks="0", after=["kvs"], needs=["kvs"])
def post_start_event(context):
    """admin.eventlog: a start with no finish before it is a crash."""
    context.bash("flux startlog --post-start-event")


@task("check-clean-shutdown", ranks="0", after=["post-start-event"], needs=["kvs"])
def check_clean_shutdown(context):
    context.bash(
        "flux startlog --check --quiet || flux logger --severity=warning"
        " 'the instance may have crashed: see flux startlog'"
    )
