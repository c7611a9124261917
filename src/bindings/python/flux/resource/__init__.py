"""flux.resource: resource sets (RFC 20 R) and the instance's resource
status, as flux-core's Python API offers them."""

from flux.resource.Rv1Set import Rv1Set
from flux.resource.ResourceSet import ResourceSet
from flux.resource.list import ResourceListRPC, SchedResourceList, resource_list
from flux.resource.status import (
    DrainInfo,
    ResourceStatus,
    ResourceStatusRPC,
    resource_status,
)

__all__ = [
    "DrainInfo",
    "ResourceListRPC",
    "ResourceSet",
    "ResourceStatus",
    "ResourceStatusRPC",
    "Rv1Set",
    "SchedResourceList",
    "resource_list",
    "resource_status",
]
