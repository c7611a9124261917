"""URI parsing, Flux job URIs and the plugin based URI resolver."""

import importlib
import importlib.util
import os
import pathlib
import pkgutil
import platform
import re
from abc import ABC, abstractmethod
from urllib.parse import parse_qs, urlparse

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(.*)", re.DOTALL)


class URI:
    """A parsed URI whose parts may be changed: uri (the string given),
    scheme, netloc, path, params, query, fragment, and query_dict (the
    query as {name: [values]}, blank values kept)."""

    def __init__(self, uri):
        self.uri = uri
        self._set_parts(urlparse(uri))

    def _set_parts(self, parsed):
        self.scheme = parsed.scheme
        self.netloc = parsed.netloc
        self.path = parsed.path
        self.params = parsed.params
        self.query = parsed.query
        self.fragment = parsed.fragment
        self.query_dict = parse_qs(self.query, keep_blank_values=True) if self.query else {}


class JobURI(URI):
    """The URI of a Flux instance: local://PATH or ssh://HOST/PATH.

    .local gives the local:// form, .remote the ssh:// form (a local URI
    gets remote_hostname, by default this host's name). Other schemes
    raise ValueError there; a URI without a scheme raises it at once.
    str() gives the URI, or its local form when FLUX_URI_RESOLVE_LOCAL was
    set as this module was imported (JobURI.force_local).
    """

    force_local = os.environ.get("FLUX_URI_RESOLVE_LOCAL", False)

    def __init__(self, uri, remote_hostname=None):
        super().__init__(uri)
        if not self.scheme:
            raise ValueError(f"JobURI '{uri}' does not have a valid scheme")
        self.path = re.sub("/+", "/", self.path)
        self.remote_hostname = remote_hostname

    @property
    def remote(self):
        if self.scheme == "ssh":
            return self.uri
        if self.scheme == "local":
            host = self.remote_hostname or platform.uname()[1]
            return f"ssh://{host}{self.path}"
        raise ValueError(f"Cannot convert JobURI with scheme {self.scheme} to remote")

    @property
    def local(self):
        if self.scheme == "local":
            return self.uri
        if self.scheme == "ssh":
            return f"local://{self.path}"
        raise ValueError(f"Cannot convert JobURI with scheme {self.scheme} to local")

    def __str__(self):
        return self.local if self.force_local else self.uri


class URIResolverURI(URI):
    """A URI given to FluxURIResolver.resolve(), e.g. jobid:f1234/f5678?local.
    Everything after "SCHEME:" is parsed as a relative reference, so a path
    of digits alone ("pid:1234") is never taken for a port."""

    def __init__(self, uri):
        match = _SCHEME.fullmatch(uri)
        if not match:
            super().__init__(uri)
            return
        self.uri = uri
        self._set_parts(urlparse(match.group(2)))
        self.scheme = match.group(1).lower()


class URIResolverPlugin(ABC):
    """A resolver for one scheme: a module flux.uri.resolvers.SCHEME (or
    SCHEME.py in a FluxURIResolver pluginpath directory) defines it as
    class URIResolver."""

    def __init__(self, *args):
        pass

    @abstractmethod
    def describe(self):
        """A one line description of the scheme."""

    @abstractmethod
    def resolve(self, uri):
        """The job URI (a string) that URI (a URIResolverURI) names."""


def _load_resolvers(pluginpath):
    """{scheme: module} of flux.uri.resolvers, then each directory of
    PLUGINPATH (whose SCHEME.py files win over earlier ones)."""
    package = importlib.import_module("flux.uri.resolvers")
    modules = {}
    for info in pkgutil.iter_modules(package.__path__):
        try:
            modules[info.name] = importlib.import_module(f"{package.__name__}.{info.name}")
        except ImportError as exc:
            raise ImportError(f"failed to import {info.name} plugin: {exc}") from exc
    for directory in pluginpath:
        for path in sorted(pathlib.Path(directory).glob("*.py")):
            spec = importlib.util.spec_from_file_location(f"_flux_uri_plugin_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules[path.stem] = module
    return modules


class FluxURIResolver:
    """Resolve target URIs to Flux job URIs with one plugin per scheme.

    pluginpath: directories of more resolver modules (SCHEME.py, each with a
    URIResolver class), which take precedence over the built in ones.
    """

    def __init__(self, pluginpath=None):
        self.plugin_namespace = "flux.uri.resolvers"
        self.resolvers = {
            scheme: module.URIResolver()
            for scheme, module in _load_resolvers(pluginpath or []).items()
            if hasattr(module, "URIResolver")
        }

    def resolve(self, uri):
        """The JobURI that URI names. Without a scheme, jobid: is assumed;
        local: and ssh: URIs are returned as they are. The query "local"
        or "remote" (one of them) converts the result to that form; other
        query parameters are the plugin's.

        NotImplementedError if no plugin handles the scheme, ValueError if
        the plugin cannot resolve it.
        """
        target = URIResolverURI(uri)
        if not target.scheme:
            target = URIResolverURI(f"jobid:{uri}")
        if target.scheme in ("ssh", "local"):
            return JobURI(uri)
        if target.scheme not in self.resolvers:
            raise NotImplementedError(f"No plugin for URI scheme {target.scheme}")
        query = target.query_dict
        if "local" in query and "remote" in query:
            raise ValueError("Only one of 'local' or 'remote' is allowed")
        result = JobURI(self.resolvers[target.scheme].resolve(target))
        if "local" in query:
            return JobURI(result.local)
        if "remote" in query:
            return JobURI(result.remote)
        return result

    def plugins(self):
        """{scheme: description} of the loaded plugins."""
        return {name: plugin.describe() for name, plugin in self.resolvers.items()}
