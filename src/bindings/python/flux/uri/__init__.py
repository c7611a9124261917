"""flux.uri: Flux instance URIs (JobURI) and their resolution from other
names of an instance (FluxURIResolver: jobid:, pid:, slurm:, ...)."""

from flux.uri.uri import URI, FluxURIResolver, JobURI, URIResolverPlugin, URIResolverURI

__all__ = ["URI", "FluxURIResolver", "JobURI", "URIResolverPlugin", "URIResolverURI"]
