"""How the API's resources are named in requests and error messages: their paths, the patch content
types, and a page of a list. Plain data, so the action modules can use them without loading the
Kubernetes client library (that happens when a cluster's client is first made)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True)
class Page(Generic[T]):
    """Up to the items asked for; `more` when the server holds further items past them."""

    items: list[T]
    more: bool


@dataclass(frozen=True)
class Kind:
    """How one resource is addressed: "deployment" under /apis/apps/v1, "node" cluster-wide under /api/v1."""

    singular: str
    plural: str
    prefix: str
    namespaced: bool = True

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """A namespaced kind without a namespace is its list across every namespace."""
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        item = f"/{name}" if name else ""
        return f"{self.prefix}{scope}/{self.plural}{item}"

    def target(self, namespace: str | None, name: str | None = None) -> str:
        if name is None:
            return f"{self.plural} in namespace {namespace}" if self.namespaced and namespace else self.plural
        return f"{self.singular} {namespace}/{name}" if self.namespaced else f"{self.singular} {name}"


DEPLOYMENTS = Kind("deployment", "deployments", "/apis/apps/v1")
REPLICA_SETS = Kind("replica set", "replicasets", "/apis/apps/v1")
PODS = Kind("pod", "pods", "/api/v1")
EVENTS = Kind("event", "events", "/api/v1")
NODES = Kind("node", "nodes", "/api/v1", namespaced=False)
SERVICES = Kind("service", "services", "/api/v1")
INGRESSES = Kind("ingress", "ingresses", "/apis/networking.k8s.io/v1")
