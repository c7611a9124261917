"""jobid:ID[/ID...] -- the URI of the instance a job runs, from the "uri"
its broker posts as a memo; "/" is the root instance and ".." the parent.
A path resolves one level at a time, each in the instance before it.

Query: "wait" waits for the memo (or the job's end) instead of requiring
a running job; "local" (or FLUX_URI_RESOLVE_LOCAL) opens nested instances
by local URIs.
"""

import os
import platform
from pathlib import PurePosixPath

import flux
from flux.job import JobID, event_watch, job_list_id
from flux.uri import JobURI, URIResolverPlugin


def wait_for_uri(flux_handle, jobid):
    """The uri of the job's memo, waiting for it; None if the job finishes
    first."""
    for event in event_watch(flux_handle, jobid):
        if event.name == "memo" and "uri" in event.context:
            return event.context["uri"]
        if event.name == "finish":
            return None
    return None


def resolve_parent(handle):
    """The enclosing instance's URI (this one's at the top level)."""
    if int(handle.attr_get("instance-level")) > 0:
        return handle.attr_get("parent-uri")
    return handle.attr_get("local-uri")


def resolve_root(handle):
    """The URI of the top level instance."""
    while int(handle.attr_get("instance-level")) > 0:
        handle = flux.Flux(handle.attr_get("parent-uri"))
    return handle.attr_get("local-uri")


def resolve_jobid(flux_handle, arg, wait):
    """The URI of job ARG of FLUX_HANDLE's instance."""
    try:
        jobid = JobID(arg)
    except (ValueError, OSError, TypeError):
        raise ValueError(f"{arg} is not a valid jobid") from None
    try:
        if wait:
            uri = wait_for_uri(flux_handle, jobid)
        else:
            rpc = job_list_id(flux_handle, jobid, attrs=["state", "annotations"])
            if rpc.get_jobinfo().state != "RUN":
                raise ValueError(f"jobid {arg} is not running")
            annotations = rpc.get_job().get("annotations") or {}
            uri = (annotations.get("user") or {}).get("uri")
    except FileNotFoundError as exc:
        raise ValueError(f"jobid {arg} not found") from exc
    if not uri:
        raise ValueError(f"URI not found for job {arg}")
    return str(uri)


def _open(uri, force_local):
    """A handle on URI: by its local form when asked to or when it is on
    this host (remote connectors may not exist)."""
    juri = JobURI(uri)
    if juri.scheme == "ssh" and (force_local or juri.netloc == platform.uname()[1]):
        return flux.Flux(juri.local)
    return flux.Flux(uri)


class URIResolver(URIResolverPlugin):
    """The URI of a Flux instance running as a job."""

    def describe(self):
        return "Get URI for a given Flux JOBID"

    def _resolve(self, parts, handle, force_local, wait, hostname=None):
        if not parts:
            return handle.attr_get("local-uri")
        arg, rest = parts[0], parts[1:]
        if arg == "/":
            uri = resolve_root(handle)
        elif arg == "..":
            uri = resolve_parent(handle)
            # after a job on HOSTNAME, its parent is named from that host
            if hostname:
                uri = JobURI(uri, remote_hostname=hostname).remote
        else:
            uri = resolve_jobid(handle, arg, wait)
            hostname = JobURI(uri).netloc
        if not rest:
            return uri
        if force_local:
            uri = JobURI(uri).local
        return self._resolve(rest, _open(uri, force_local), force_local, False, hostname)

    def resolve(self, uri):
        force_local = "local" in uri.query_dict or "FLUX_URI_RESOLVE_LOCAL" in os.environ
        wait = "wait" in uri.query_dict
        parts = list(PurePosixPath(uri.path).parts) if uri.path else []
        return self._resolve(parts, flux.Flux(), force_local, wait)
