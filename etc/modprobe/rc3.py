"""rc3 for `flux modprobe rc3`, which removes every loaded module (each
after the modules loaded after it): what etc/rc3 does, as modprobe tasks.
Sites add tasks in modprobe/rc3.d/*.py.
"""

from flux.modprobe import task


@task("post-finish-event", ranks="0", before=["kvs"], needs=["kvs"])
def post_finish_event(context):
    """admin.eventlog: this instance stopped cleanly."""
    context.bash("flux startlog --post-finish-event")


@task(
    "content-flush",
    ranks="0",
    after=["kvs"],
    before=["content-backing"],
    needs=["content-backing"],
)
def content_flush(context):
    """Write the cache back before its backing store goes."""
    context.rpc("content.flush").get()
