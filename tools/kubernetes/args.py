"""The argument models every Kubernetes action shares: object names as the API server validates them,
and the optional `cluster` that picks a kubeconfig context from the allowed ones."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tools.common.base import ActionArgs

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"

NamespaceName = Annotated[str, StringConstraints(max_length=63, pattern=rf"^{_DNS1123_LABEL}$")]
ObjectName = Annotated[
    str, StringConstraints(max_length=253, pattern=rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")
]
# Kubeconfig context names are free text (EKS uses ARNs, GKE underscores); the allowed list is the check.
ContextName = Annotated[str, StringConstraints(min_length=1, max_length=253)]
Replicas = Annotated[int, Field(ge=0, le=1000)]
ListLimit = Annotated[int, Field(ge=1, le=500)]
# kubectl's label selector grammar is checked by the API server; this only bounds the text.
LabelSelector = Annotated[str, StringConstraints(min_length=1, max_length=1024)]

# The key under which `KubernetesAction.parse_args` passes the allowed cluster names to validation.
ALLOWED_CLUSTERS = "allowed_clusters"


class ClusterArgs(ActionArgs):
    """`cluster` names a kubeconfig context; None is the toolset's default context."""

    cluster: ContextName | None = None

    @field_validator("cluster")
    @classmethod
    def _allowed(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = (info.context or {}).get(ALLOWED_CLUSTERS)
        if value is not None and allowed is not None and value not in allowed:
            raise PydanticCustomError(
                "unknown_cluster",
                "unknown cluster '{cluster}'; allowed: {allowed}",
                {"cluster": value, "allowed": ", ".join(allowed)},
            )
        return value

    def same_target(self, **changes: Any) -> dict[str, Any]:
        """These args as raw JSON with `changes` applied: what a rollback step passes back, so it
        acts on the same cluster and object."""
        return {**self.model_dump(exclude_none=True), **changes}


class NamespacedArgs(ClusterArgs):
    namespace: NamespaceName
    name: ObjectName

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


class DeploymentArgs(NamespacedArgs):
    """A Deployment by namespace and name."""


class NamespaceArgs(ClusterArgs):
    namespace: NamespaceName
