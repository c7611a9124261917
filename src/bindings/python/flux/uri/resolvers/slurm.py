"""slurm:JOBID -- the URI of a Flux instance launched as Slurm job JOBID:
the FLUX_URI of the job's first local task (scontrol listpids), or, when
the job runs elsewhere, `flux uri slurm:JOBID` run on its first node with
srun."""

import os
import subprocess
from pathlib import PurePath

from flux.hostlist import Hostlist
from flux.uri import FluxURIResolver, URIResolverPlugin


def _run(args, env=None):
    try:
        return subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    except FileNotFoundError:
        raise ValueError(f"{args[0]} not found: is Slurm installed?") from None


def slurm_job_pids(jobid):
    """Local pids of Slurm job JOBID whose LOCALID is 0 (the brokers Slurm
    started, not tasks of a nested instance). OSError if scontrol fails."""
    proc = _run(["scontrol", "listpids", jobid])
    if proc.returncode != 0:
        raise OSError(f"scontrol listpids {jobid} failed")
    pids = []
    for line in proc.stdout.splitlines():
        fields = line.split()  # PID JOBID STEPID LOCALID GLOBALID
        try:
            pid, localid = int(fields[0]), int(fields[3])
        except (ValueError, IndexError):
            continue  # the header, or a "-" field
        if localid == 0 and pid > 0 and pid != os.getpid():
            pids.append(pid)
    return pids


def slurm_job_hostlist(jobid):
    """The nodes of Slurm job JOBID."""
    proc = _run(["squeue", "-h", "-o", "%N", "-j", jobid])
    if proc.returncode != 0:
        raise ValueError(f"unable to query nodelist for Slurm job {jobid}")
    return Hostlist(proc.stdout.strip())


def slurm_resolve_remote(jobid):
    """`flux uri slurm:JOBID` on the job's first node."""
    hosts = slurm_job_hostlist(jobid)
    if not hosts:
        raise ValueError(f"empty nodelist returned for Slurm job {jobid}")
    env = {k: v for k, v in os.environ.items() if k != "FLUX_URI"}
    proc = _run(["srun", "--overlap", f"--jobid={jobid}", "-w", hosts[0], "-n1", "-N1",
                 "flux", "uri", f"slurm:{jobid}"], env=env)
    if proc.returncode != 0:
        raise ValueError(f"Unable to resolve Flux URI for Slurm job {jobid}")
    return proc.stdout.rstrip()


class URIResolver(URIResolverPlugin):
    """The URI of a Flux instance run by Slurm."""

    def describe(self):
        return "Get URI for a Flux instance launched under Slurm"

    def resolve(self, uri):
        parts = PurePath(uri.path).parts
        if not parts:
            raise ValueError("slurm: needs a Slurm job id")
        jobid = parts[0]
        try:
            pids = slurm_job_pids(jobid)
        except OSError:
            return slurm_resolve_remote(jobid)
        resolver = FluxURIResolver()
        for pid in pids:
            try:
                return resolver.resolve(f"pid:{pid}").remote
            except (ValueError, OSError):
                pass
        raise ValueError(f"No FLUX_URI found for Slurm job {jobid}")
