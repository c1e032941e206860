"""The Kubernetes tool's actions wired to a fake API server, as the toolset wires them, for the
tests/integration/tools/kubernetes/test_*.py modules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bot.playground.kubernetes.server import FakeKubernetes
from tools.common.base import Action, ActionResult, RollbackStep
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.kubernetes import Clusters, KubernetesConfig, actions
from tools.kubernetes.client import KubernetesClient
from tools.kubernetes.clusters import Connect

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
CHECKOUT = {"namespace": "shop", "name": "checkout"}
DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/shop/deployments/checkout"


@dataclass
class Kube:
    fake: FakeKubernetes
    kubeconfig: Path
    clusters: Clusters
    registry: Registry

    def action(self, name: str) -> Action[Any]:
        return self.registry.get(name)

    async def run(self, name: str, raw: dict[str, Any]) -> ActionResult:
        action = self.action(name)
        return await action.run(action.parse_args(raw))

    async def dry_run(self, name: str, raw: dict[str, Any]) -> ActionResult:
        action = self.action(name)
        return await action.dry_run(action.parse_args(raw))

    def rollback(self, name: str, raw: dict[str, Any], result: ActionResult) -> RollbackStep | None:
        action = self.action(name)
        return action.rollback(action.parse_args(raw), result)

    async def undo(self, name: str, raw: dict[str, Any]) -> tuple[ActionResult, ActionResult]:
        """Run the action, then the rollback step it built, as the worker does; both results."""
        result = await self.run(name, raw)
        step = self.rollback(name, raw, result)
        if step is None:
            raise AssertionError(f"{name} built no rollback for {raw}")
        return result, await self.run(step.action, step.args)


def fake_clusters(
    kubeconfig: Path, *names: str, connect: Connect = KubernetesClient.from_config, **options: Any
) -> Clusters:
    """Clusters for the contexts `names` (the first is the default) with fast retries; `options` go
    to `connect` (request_timeout, page_size)."""
    configs = {name: KubernetesConfig(kubeconfig=kubeconfig, context=name) for name in names}
    return Clusters(configs, default=names[0], connect=partial(connect, retry=FAST_RETRY, **options))


@asynccontextmanager
async def kube_cluster(tmp_path: Path, **options: Any) -> AsyncIterator[Kube]:
    """A fake cluster holding shop/checkout (2 replicas of registry.example/checkout:1.4)."""
    async with FakeKubernetes(convergence_delay=0.05) as fake:
        fake.add_deployment("shop", "checkout", replicas=2, image="registry.example/checkout:1.4")
        kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")
        clusters = fake_clusters(kubeconfig, "fake", **options)
        try:
            yield Kube(fake, kubeconfig, clusters, Registry(actions(clusters)))
        finally:
            clusters.close()
