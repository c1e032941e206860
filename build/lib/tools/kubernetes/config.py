"""Where one cluster's API server is and how to authenticate to it: a kubeconfig context or the pod's
in-cluster service account."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator


class KubernetesConfig(BaseModel):
    """A kubeconfig (None: $KUBECONFIG or ~/.kube/config) and context (None: its current one),
    or the in-cluster service account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.in_cluster and (self.kubeconfig or self.context):
            raise ValueError("kubernetes: in_cluster cannot be combined with kubeconfig or context")
        return self

    def describe(self) -> str:
        if self.in_cluster:
            return "in-cluster service account"
        name = f"kubeconfig {self.kubeconfig}" if self.kubeconfig else "the default kubeconfig"
        return f"{name} (context {self.context})" if self.context else name
