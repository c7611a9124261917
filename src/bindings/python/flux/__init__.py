"""Flux from Python: flux-core's `flux` package API over this project's
libflux (the C++ core is flux._core)."""

from flux.core.handle import Flux

__all__ = ["Flux"]
