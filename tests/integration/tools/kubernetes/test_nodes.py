"""Cordon and uncordon through the Kubernetes tool; each is the other's rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.integration.tools.kubernetes.support import FAST_RETRY, Kube, kube_cluster
from tools.common.base import Effect, RiskHint, ToolError

NODE_PATH = "/api/v1/nodes/node-1"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path) as kube:
        yield kube


async def test_cordon_marks_the_node_unschedulable_and_uncordon_undoes_it(kube: Kube) -> None:
    result, undone = await kube.undo("kubernetes.node_cordon", {"name": "node-1"})

    assert result.summary == "cordoned node node-1"
    assert result.data == {"name": "node-1", "previous_unschedulable": False, "unschedulable": True}
    patch = next(r for r in kube.fake.requests if r.method == "PATCH")
    assert (patch.path, patch.body) == (NODE_PATH, {"spec": {"unschedulable": True}})
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert undone.summary == "uncordoned node node-1"
    node = kube.fake.node("node-1")
    assert not node["spec"].get("unschedulable") and "taints" not in node["spec"]
    reasons = [e["reason"] for e in kube.fake.events("default")]
    assert reasons == ["NodeNotSchedulable", "NodeSchedulable"]


async def test_new_pods_avoid_a_cordoned_node(kube: Kube) -> None:
    await kube.run("kubernetes.node_cordon", {"name": "node-1"})
    assert kube.fake.node("node-1")["spec"]["taints"][0]["key"] == "node.kubernetes.io/unschedulable"

    await kube.run("kubernetes.scale", {"namespace": "shop", "name": "checkout", "replicas": 4})
    await kube.fake.settle()

    nodes = [pod["spec"]["nodeName"] for pod in kube.fake.pods("shop")]
    assert nodes.count("node-1") == 1, "the pod already there keeps running"
    assert nodes.count("node-2") == 3


async def test_cordon_dry_run_changes_nothing(kube: Kube) -> None:
    before = kube.fake.node("node-1")

    result = await kube.dry_run("kubernetes.node_cordon", {"name": "node-1"})

    assert result.summary == "dry run: cordoned node node-1"
    assert kube.fake.requests[-1].query == {"dryRun": "All"}
    assert kube.fake.node("node-1") == before


async def test_a_node_already_in_the_wanted_state_is_left_alone(kube: Kube) -> None:
    kube.fake.add_node("node-3", unschedulable=True)
    raw = {"name": "node-3"}

    result = await kube.run("kubernetes.node_cordon", raw)

    assert result.summary == "node node-3 is already cordoned"
    assert kube.rollback("kubernetes.node_cordon", raw, result) is None
    assert not [r for r in kube.fake.requests if r.method == "PATCH"]


async def test_uncordon_rolls_back_with_a_cordon(kube: Kube) -> None:
    kube.fake.add_node("node-3", unschedulable=True)

    result, undone = await kube.undo("kubernetes.node_uncordon", {"name": "node-3"})

    assert result.data["previous_unschedulable"] is True
    assert undone.summary == "cordoned node node-3"
    assert kube.fake.node("node-3")["spec"]["unschedulable"] is True


def test_cordon_and_uncordon_are_medium_risk_writes(kube: Kube) -> None:
    for name in ("kubernetes.node_cordon", "kubernetes.node_uncordon"):
        action = kube.action(name)
        assert (action.effect, action.risk, action.idempotent) == (Effect.WRITE, RiskHint.MEDIUM, True)


@pytest.mark.parametrize(
    ("setup", "message", "status"),
    [
        (lambda kube: None, "node node-9 not found", 404),
        (
            lambda kube: kube.fake.deny("patch", "nodes"),
            'kubernetes denied patch on node node-9: nodes "node-9" is forbidden: User '
            '"system:serviceaccount:carapulse:carapulse" cannot patch resource "nodes" in API group "" '
            "at the cluster scope",
            403,
        ),
        (
            lambda kube: kube.fake.fail_next("PATCH", "/nodes/node-9", status=409, times=FAST_RETRY.attempts),
            "node node-9 changed while Carapulse wrote it",
            409,
        ),
    ],
)
async def test_node_failures_are_readable(
    kube: Kube, setup: Callable[[Kube], None], message: str, status: int
) -> None:
    if status != 404:
        kube.fake.add_node("node-9")
    setup(kube)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.node_cordon", {"name": "node-9"})

    assert raised.value.message.startswith(message)
    assert raised.value.status == status


async def test_a_node_patch_that_timed_out_is_tried_again(tmp_path: Path) -> None:
    async with kube_cluster(tmp_path, request_timeout=0.2) as kube:
        kube.fake.stall_next("PATCH", "/nodes/node-1", seconds=0.5)

        await kube.run("kubernetes.node_cordon", {"name": "node-1"})

    assert kube.fake.node("node-1")["spec"]["unschedulable"] is True
    assert len([r for r in kube.fake.requests if r.method == "PATCH"]) == 2
