"""`kubernetes.patch_deployment`: a strategic merge patch with a before → after diff, a server-side dry
run, and a rollback that writes the patched fields' prior values back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.integration.tools.kubernetes.support import CHECKOUT, DEPLOYMENT_PATH, Kube, kube_cluster
from tools.common.base import Effect, RiskHint, ToolError

IMAGE = "spec.template.spec.containers[name=checkout].image"


def containers(*items: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(items)}}}}


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path) as kube:
        yield kube


def checkout(kube: Kube) -> dict[str, Any]:
    return kube.fake.deployment("shop", "checkout")


async def test_patch_shows_each_changed_field_and_rolls_back(kube: Kube) -> None:
    patch = {"spec": {"replicas": 3, **containers({"name": "checkout", "image": "checkout:1.5"})["spec"]}}
    raw = {**CHECKOUT, "patch": patch}
    before = checkout(kube)

    result = await kube.run("kubernetes.patch_deployment", raw)

    assert result.summary == (
        f"patched shop/checkout: spec.replicas 2 → 3; {IMAGE} registry.example/checkout:1.4 → checkout:1.5"
    )
    assert result.data["changes"] == [
        {"path": "spec.replicas", "before": 2, "after": 3},
        {"path": IMAGE, "before": "registry.example/checkout:1.4", "after": "checkout:1.5"},
    ]
    request = kube.fake.requests[-1]
    assert (request.method, request.path) == ("PATCH", DEPLOYMENT_PATH)
    assert request.content_type == "application/strategic-merge-patch+json"
    assert request.body == {**patch, "metadata": {"resourceVersion": before["metadata"]["resourceVersion"]}}
    assert checkout(kube)["spec"]["replicas"] == 3

    step = kube.rollback("kubernetes.patch_deployment", raw, result)
    assert step is not None
    assert (
        step.description
        == f"put spec.replicas, {IMAGE} of shop/checkout back to their values before the patch"
    )
    await kube.run(step.action, step.args)
    assert checkout(kube)["spec"] == before["spec"]


async def test_patch_dry_run_shows_the_servers_answer_and_changes_nothing(kube: Kube) -> None:
    before = checkout(kube)

    result = await kube.dry_run(
        "kubernetes.patch_deployment", {**CHECKOUT, "patch": {"spec": {"replicas": 5}}}
    )

    assert result.summary == "dry run: patched shop/checkout: spec.replicas 2 → 5"
    assert result.data["generation"] == before["metadata"]["generation"] + 1
    assert kube.fake.requests[-1].query == {"dryRun": "All"}
    await kube.fake.settle()
    assert checkout(kube) == before


async def test_the_rollback_of_an_added_container_and_label_removes_them(kube: Kube) -> None:
    sidecar = {"name": "proxy", "image": "envoy:1.31", "ports": [{"containerPort": 9901}]}
    patch = {"metadata": {"labels": {"team": "payments"}}, **containers(sidecar)}
    before = checkout(kube)

    result, _ = await kube.undo("kubernetes.patch_deployment", {**CHECKOUT, "patch": patch})

    assert [change["path"] for change in result.data["changes"]] == [
        "metadata.labels.team",
        "spec.template.spec.containers[name=proxy]",
    ]
    assert result.data["rollback_patch"] == {
        "metadata": {"labels": {"team": None}},
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}},
    }
    after = checkout(kube)
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    assert after["spec"]["template"] == before["spec"]["template"]


async def test_the_rollback_of_a_removed_env_var_puts_it_back(kube: Kube) -> None:
    env = [{"name": "MODE", "value": "safe"}, {"name": "DEBUG", "value": "1"}]
    await kube.run(
        "kubernetes.patch_deployment", {**CHECKOUT, "patch": containers({"name": "checkout", "env": env})}
    )
    removal = containers({"name": "checkout", "env": [{"name": "DEBUG", "$patch": "delete"}]})

    result, _ = await kube.undo("kubernetes.patch_deployment", {**CHECKOUT, "patch": removal})

    path = "spec.template.spec.containers[name=checkout].env[name=DEBUG]"
    assert result.data["changes"] == [
        {"path": path, "before": {"name": "DEBUG", "value": "1"}, "after": None}
    ]
    assert checkout(kube)["spec"]["template"]["spec"]["containers"][0]["env"] == env


async def test_a_patch_that_changes_nothing_has_no_rollback(kube: Kube) -> None:
    raw = {**CHECKOUT, "patch": {"spec": {"replicas": 2}}}

    result = await kube.run("kubernetes.patch_deployment", raw)

    assert result.summary == "no change: shop/checkout already has the patched values"
    assert kube.rollback("kubernetes.patch_deployment", raw, result) is None


def test_patch_is_a_high_risk_write(kube: Kube) -> None:
    action = kube.action("kubernetes.patch_deployment")
    assert (action.effect, action.risk) == (Effect.WRITE, RiskHint.HIGH)


@pytest.mark.parametrize(
    ("patch", "setup", "message", "status"),
    [
        (
            {"spec": {"template": {"metadata": {"labels": {"app": "cart"}}}}},
            lambda kube: None,
            'kubernetes rejected patch on deployment shop/checkout: Deployment.apps "checkout" is invalid: '
            'spec.template.metadata.labels: Invalid value: map[string]string{"app":"cart"}: `selector`',
            422,
        ),
        (
            {"spec": {"selector": {"matchLabels": {"app": "cart"}}}},
            lambda kube: None,
            'kubernetes rejected patch on deployment shop/checkout: Deployment.apps "checkout" is invalid: '
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{",
            422,
        ),
        (
            {"spec": {"replicas": 3}},
            lambda kube: kube.fake.fail_next("PATCH", "/deployments/checkout", status=409),
            "deployment shop/checkout changed while Carapulse wrote it (Operation cannot be fulfilled",
            409,
        ),
        (
            {"spec": {"replicas": 3}},
            lambda kube: kube.fake.deny("patch", "deployments"),
            'kubernetes denied patch on deployment shop/checkout: deployments.apps "checkout" is forbidden',
            403,
        ),
        (
            {"spec": {"replicas": 3}},
            lambda kube: kube.fake.fail_next("GET", "/deployments/checkout", status=404),
            "deployment shop/checkout not found",
            404,
        ),
    ],
)
async def test_patch_failures_are_readable_and_change_nothing(
    kube: Kube, patch: dict[str, Any], setup: Callable[[Kube], None], message: str, status: int
) -> None:
    before = checkout(kube)
    setup(kube)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.patch_deployment", {**CHECKOUT, "patch": patch})

    assert raised.value.message.startswith(message)
    assert raised.value.status == status
    assert checkout(kube) == before


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({}, "the patch is empty"),
        ({"status": {"replicas": 1}}, "'status' cannot be patched"),
        ({"metadata": {"name": "other"}}, "only annotations, labels of metadata can be patched"),
        ({"spec": "replicas=3"}, "spec must be an object"),
        ({"spec": {"$retainKeys": ["replicas"]}}, "patch directive '\\$retainKeys' is not supported"),
        (containers({"image": "x:1"}), "every item of containers needs its 'name'"),
        (
            containers({"name": "a", "$patch": "replace"}),
            "only \\{'name': …, '\\$patch': 'delete'\\} is supported",
        ),
        (
            {"spec": {"template": {"metadata": {"annotations": {"a": "x" * 40_000}}}}},
            "larger than 32768 bytes",
        ),
    ],
)
def test_patches_the_tool_cannot_undo_are_refused(kube: Kube, patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        kube.action("kubernetes.patch_deployment").parse_args({**CHECKOUT, "patch": patch})
