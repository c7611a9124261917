"""pid:PID -- the FLUX_URI in the environment of local process PID (for a
flux-broker, that of one of its children)."""

import os
from pathlib import PurePath

from flux.uri import URIResolverPlugin


def _command_name(pid):
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as status:
        first = status.readline()  # "Name:\tCOMMAND"
    return first.partition("\t")[2].strip()


def _parent_pid(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat:
        data = stat.read()
    # "PID (COMMAND) STATE PPID ...": COMMAND may hold spaces and parens
    return int(data[data.rindex(")") + 2:].split()[1])


def children(pid):
    """PID's child processes, by /proc/PID/task/*/children when the kernel
    has it, else by a scan of /proc."""
    pid = int(pid)
    found, have_children_files = [], False
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children", encoding="utf-8") as cfile:
                    have_children_files = True
                    found.extend(int(x) for x in cfile.read().split())
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        return []
    if have_children_files:
        return found
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid:
            try:
                if _parent_pid(entry) == pid:
                    found.append(int(entry))
            except (OSError, ValueError):
                pass  # gone meanwhile
    return found


def flux_uri_of(pid):
    """FLUX_URI in PID's environment, or None."""
    with open(f"/proc/{pid}/environ", "rb") as envfile:
        for var in envfile.read().split(b"\0"):
            name, _, value = var.partition(b"=")
            if name == b"FLUX_URI":
                return value.decode("utf-8", errors="replace")
    return None


class URIResolver(URIResolverPlugin):
    """FLUX_URI of a local process."""

    def describe(self):
        return "Get FLUX_URI for a given local PID"

    def resolve(self, uri):
        parts = PurePath(uri.path).parts
        if not parts or not parts[0].isdigit():
            raise ValueError(f"pid:{uri.path}: not a process id")
        pid = int(parts[0])
        # A broker's own environment holds its enclosing instance's URI
        # (if any): the instance's own is in its children's.
        if _command_name(pid) == "flux-broker":
            for child in children(pid):
                try:
                    found = flux_uri_of(child)
                except OSError:
                    continue  # exited, or not ours to read
                if found:
                    return found
            raise ValueError(f"PID {pid} is a flux-broker and no child with FLUX_URI found")
        found = flux_uri_of(pid)
        if not found:
            raise ValueError(f"PID {pid} doesn't seem to have a FLUX_URI")
        return found
