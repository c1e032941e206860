"""What every Kubernetes action shares: the clusters it may act on, and argument parsing that checks
`cluster` against them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tools.common.base import Action, ArgsT
from tools.kubernetes.args import ALLOWED_CLUSTERS, ClusterArgs
from tools.kubernetes.clusters import Clusters

if TYPE_CHECKING:
    from tools.kubernetes.client import KubernetesClient


class KubernetesAction(Action[ArgsT]):
    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    def parse_args(self, raw: dict[str, Any]) -> ArgsT:
        """An unknown `cluster` is a validation error listing the allowed ones, before anything runs."""
        context = {ALLOWED_CLUSTERS: self.clusters.names}
        return self.args_model.model_validate(raw, context=context)  # type: ignore[return-value]

    async def client(self, args: ClusterArgs) -> KubernetesClient:
        return await self.clusters.client(args.cluster)
