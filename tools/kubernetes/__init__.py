"""Kubernetes through the official client: Deployments (read, scale, restart, patch, roll back, wait for
a rollout), pods (list, logs, delete), events, cordoning nodes, and an inventory of workloads, Services
and Ingresses, on one or several clusters.

The client blocks, so every call goes through `KubernetesClient._call`, the one place that runs it
in a worker thread and turns an `ApiException` into a `ToolError` a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.common.base import Action
from tools.common.toolset import Toolset
from tools.kubernetes.clusters import Clusters
from tools.kubernetes.config import KubernetesConfig
from tools.kubernetes.deployment_logs import GetDeploymentLogs
from tools.kubernetes.deployments import GetDeployment, GetDeploymentSummary, ListDeployments
from tools.kubernetes.events import ListEvents
from tools.kubernetes.inventory import ListIngresses, ListServices, ListWorkloads
from tools.kubernetes.nodes import CordonNode, UncordonNode
from tools.kubernetes.patch import PatchDeployment
from tools.kubernetes.pods import DeletePod, GetPodLogs, ListPods
from tools.kubernetes.rollback import RolloutRollback
from tools.kubernetes.rollouts import (
    RESTARTED_AT_ANNOTATION,
    RestartDeployment,
    ScaleDeployment,
    WaitForRollout,
)
from tools.kubernetes.settings import read

__all__ = [
    "RESTARTED_AT_ANNOTATION",
    "Clusters",
    "KubernetesConfig",
    "actions",
    "toolset",
]


def actions(clusters: Clusters) -> list[Action[Any]]:
    return [
        GetDeployment(clusters),
        ScaleDeployment(clusters),
        RestartDeployment(clusters),
        WaitForRollout(clusters),
        ListDeployments(clusters),
        GetDeploymentSummary(clusters),
        RolloutRollback(clusters),
        PatchDeployment(clusters),
        ListPods(clusters),
        GetPodLogs(clusters),
        GetDeploymentLogs(clusters),
        DeletePod(clusters),
        ListEvents(clusters),
        CordonNode(clusters),
        UncordonNode(clusters),
        ListWorkloads(clusters),
        ListServices(clusters),
        ListIngresses(clusters),
    ]


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: one client per allowed cluster, made on first use and
    closed with the toolset."""
    choice = read(environ)
    clusters = Clusters(choice.configs, default=choice.default)
    others = [name for name in clusters.names if name != clusters.default]
    names = ", ".join([f"{clusters.default} (default)", *others])
    return Toolset(
        name="kubernetes",
        actions=actions(clusters),
        status=f"enabled, {choice.where}, clusters {names}",
        closers=[clusters.close],
    )
