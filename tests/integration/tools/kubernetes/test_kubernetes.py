"""The Kubernetes tool driven through the official client against the fake API server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.integration.tools.kubernetes.support import (
    CHECKOUT,
    DEPLOYMENT_PATH,
    FAST_RETRY,
    Kube,
    fake_clusters,
    kube_cluster,
)
from tools.common.base import ToolError
from tools.common.registry import Registry
from tools.kubernetes import RESTARTED_AT_ANNOTATION, actions


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[Kube]:
    async with kube_cluster(tmp_path) as kube:
        yield kube


async def test_get_deployment_reports_replicas_generation_and_image(kube: Kube) -> None:
    result = await kube.run("kubernetes.get_deployment", CHECKOUT)

    assert result.summary == "shop/checkout: 2 of 2 replicas available, image registry.example/checkout:1.4"
    assert result.data | {"images": None} == {
        "namespace": "shop",
        "name": "checkout",
        "replicas": 2,
        "current_replicas": 2,
        "updated_replicas": 2,
        "ready_replicas": 2,
        "available_replicas": 2,
        "unavailable_replicas": 0,
        "generation": 1,
        "observed_generation": 1,
        "images": None,
        "stalled": "",
    }
    assert result.data["images"] == ["registry.example/checkout:1.4"]


async def test_scale_patches_the_scale_subresource_and_builds_its_rollback(
    kube: Kube,
) -> None:
    action = kube.action("kubernetes.scale")
    args = action.parse_args({**CHECKOUT, "replicas": 5})

    result = await action.run(args)

    assert result.summary == "checkout replicas 2 → 5"
    assert result.data["previous_replicas"] == 2
    assert result.data["replicas"] == 5
    assert kube.fake.deployment("shop", "checkout")["spec"]["replicas"] == 5
    patch = [r for r in kube.fake.requests if r.method == "PATCH"]
    assert [(r.path, r.body) for r in patch] == [(f"{DEPLOYMENT_PATH}/scale", {"spec": {"replicas": 5}})]
    step = action.rollback(args, result)
    assert step is not None
    assert step.action == "kubernetes.scale"
    assert step.args == {**CHECKOUT, "replicas": 2}
    assert action.parse_args(step.args) == action.parse_args({**CHECKOUT, "replicas": 2})


async def test_scale_dry_run_asks_the_server_and_changes_nothing(
    kube: Kube,
) -> None:
    before = kube.fake.deployment("shop", "checkout")
    action = kube.action("kubernetes.scale")

    result = await action.dry_run(action.parse_args({**CHECKOUT, "replicas": 5}))

    assert result.summary == "dry run: checkout replicas 2 → 5"
    assert kube.fake.deployment("shop", "checkout") == before
    assert kube.fake.requests[-1].query == {"dryRun": "All"}


async def test_rollout_restart_sets_the_restart_annotation_and_bumps_generation(
    kube: Kube,
) -> None:
    action = kube.action("kubernetes.rollout_restart")
    args = action.parse_args(CHECKOUT)

    result = await action.run(args)

    deployment = kube.fake.deployment("shop", "checkout")
    stamp = deployment["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT_ANNOTATION]
    assert stamp == result.data["restarted_at"]
    assert stamp.endswith("Z")
    assert datetime.now(UTC) - datetime.fromisoformat(stamp) < timedelta(seconds=10)
    assert deployment["metadata"]["generation"] == 2
    assert result.summary == "restarted shop/checkout (generation 2)"
    assert kube.fake.requests[-1].content_type == "application/strategic-merge-patch+json"
    assert action.rollback(args, result) is None


async def test_a_second_restart_at_once_replaces_the_pods_again(kube: Kube) -> None:
    action = kube.action("kubernetes.rollout_restart")
    args = action.parse_args(CHECKOUT)

    first = await action.run(args)
    second = await action.run(args)

    assert first.data["restarted_at"] != second.data["restarted_at"]
    assert (first.data["generation"], second.data["generation"]) == (2, 3)


async def test_rollout_restart_dry_run_leaves_the_pod_template_alone(
    kube: Kube,
) -> None:
    before = kube.fake.deployment("shop", "checkout")
    action = kube.action("kubernetes.rollout_restart")

    result = await action.dry_run(action.parse_args(CHECKOUT))

    assert result.summary == "dry run: restarted shop/checkout (generation 2)"
    assert kube.fake.deployment("shop", "checkout") == before


async def test_a_read_is_its_own_dry_run(kube: Kube) -> None:
    action = kube.action("kubernetes.get_deployment")
    args = action.parse_args(CHECKOUT)

    assert await action.dry_run(args) == await action.run(args)


async def test_rollout_status_succeeds_once_the_controller_converges(
    kube: Kube,
) -> None:
    await kube.run("kubernetes.scale", {**CHECKOUT, "replicas": 5})

    result = await kube.run("kubernetes.rollout_status", {**CHECKOUT, "timeout_seconds": 10})

    assert result.summary == "rollout of shop/checkout finished: 5 of 5 replicas available"
    assert result.data["observed_generation"] == result.data["generation"] == 2
    reads = [r for r in kube.fake.requests if r.method == "GET" and r.path == DEPLOYMENT_PATH]
    assert len(reads) >= 2, "the first read sees the old status and must be re-read"


async def test_rollout_status_fails_readably_when_pods_never_become_available(
    kube: Kube,
) -> None:
    kube.fake.set_stuck("shop", "checkout", available=2)
    await kube.run("kubernetes.scale", {**CHECKOUT, "replicas": 5})

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.rollout_status", {**CHECKOUT, "timeout_seconds": 1})

    assert raised.value.message == (
        "rollout of shop/checkout did not finish within 1s: 2 of 5 replicas available"
    )
    assert raised.value.call == f"GET {DEPLOYMENT_PATH}"


async def test_rollout_status_fails_fast_when_the_progress_deadline_passed(
    kube: Kube,
) -> None:
    kube.fake.set_stuck("shop", "checkout", available=1, deadline_exceeded=True)
    started = time.monotonic()

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.rollout_status", {**CHECKOUT, "timeout_seconds": 60})

    assert time.monotonic() - started < 5
    assert raised.value.message.startswith(
        "rollout of shop/checkout exceeded its progress deadline: ReplicaSet"
    )


async def test_unknown_deployment_is_a_not_found_tool_error(kube: Kube) -> None:
    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.scale", {"namespace": "shop", "name": "cart", "replicas": 3})

    assert raised.value.message == "deployment shop/cart not found"
    assert raised.value.status == 404
    assert raised.value.call == "GET /apis/apps/v1/namespaces/shop/deployments/cart/scale"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (409, "deployment shop/checkout changed while Carapulse wrote it"),
        (500, "kubernetes failed patch on deployment shop/checkout: HTTP 500 Internal error"),
    ],
)
async def test_upstream_failures_name_the_call_and_status(kube: Kube, status: int, message: str) -> None:
    kube.fake.fail_next("PATCH", "/checkout/scale", status=status, times=FAST_RETRY.attempts)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.scale", {**CHECKOUT, "replicas": 3})

    assert raised.value.message.startswith(message)
    assert raised.value.status == status
    assert raised.value.call == f"PATCH {DEPLOYMENT_PATH}/scale"
    assert kube.fake.deployment("shop", "checkout")["spec"]["replicas"] == 2


async def test_a_wrong_token_is_denied_with_the_verb_and_target(kube: Kube, tmp_path: Path) -> None:
    clusters = fake_clusters(kube.fake.write_kubeconfig(tmp_path / "kc", token="wrong"), "fake")
    try:
        action = Registry(actions(clusters)).get("kubernetes.get_deployment")
        with pytest.raises(ToolError) as raised:
            await action.run(action.parse_args(CHECKOUT))
    finally:
        clusters.close()

    assert raised.value.message == "kubernetes denied get on deployment shop/checkout: Unauthorized"
    assert raised.value.status == 401


async def test_rbac_denials_quote_the_api_server(kube: Kube) -> None:
    kube.fake.deny("patch", "deployments/scale", namespace="shop")

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.scale", {**CHECKOUT, "replicas": 3})

    assert raised.value.message == (
        'kubernetes denied patch on deployment shop/checkout: deployments.apps "checkout" is forbidden: '
        'User "system:serviceaccount:carapulse:carapulse" cannot patch resource "deployments/scale" '
        'in API group "apps" in the namespace "shop"'
    )
    assert raised.value.status == 403


async def test_an_api_server_that_does_not_answer_times_out_readably(tmp_path: Path) -> None:
    async with kube_cluster(tmp_path, request_timeout=0.2) as kube:
        kube.fake.stall_next("GET", "/deployments/checkout", seconds=0.6, times=FAST_RETRY.attempts)

        with pytest.raises(ToolError) as raised:
            await kube.run("kubernetes.get_deployment", CHECKOUT)

    assert raised.value.message == (
        f"the kubernetes API server at {kube.fake.url} did not answer within 0.2s"
    )
    assert raised.value.call == f"GET {DEPLOYMENT_PATH}"
    reads = [r for r in kube.fake.requests if r.path == DEPLOYMENT_PATH]
    assert len(reads) == FAST_RETRY.attempts, "a read that timed out is tried again"


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b"<html>502 Bad Gateway</html>", "text/html", "V1Deployment: Input should be a valid dictionary"),
        (b"<html>502 Bad Gateway</html>", "application/octet-stream", "Unsupported content type"),
        (b'{"kind": "Deployment", "metadata": ', "application/json", "Expecting value: line 1 column 36"),
        (b'{"metadata": {"name": 42}}', "application/json", "name: Input should be a valid string"),
    ],
)
async def test_a_malformed_answer_is_a_readable_error(
    kube: Kube, body: bytes, content_type: str, detail: str
) -> None:
    kube.fake.garble_next("GET", "/deployments/checkout", body, content_type=content_type)

    with pytest.raises(ToolError) as raised:
        await kube.run("kubernetes.get_deployment", CHECKOUT)

    assert raised.value.call == f"GET {DEPLOYMENT_PATH}"
    assert "deployment shop/checkout" in raised.value.message
    assert detail in raised.value.message
    assert "\n" not in raised.value.message


@pytest.mark.parametrize(
    "raw",
    [
        {**CHECKOUT, "replicas": 0},
        {**CHECKOUT, "replicas": 1000},
        {"namespace": "kube-system", "name": "coredns", "replicas": 2},
        {"namespace": "a" * 63, "name": "api.v2-" + "b" * 200, "replicas": 1},
        {**CHECKOUT, "replicas": 1, "cluster": "fake"},
    ],
)
def test_scale_args_accept_valid_names_and_bounds(raw: dict[str, Any], kube: Kube) -> None:
    assert kube.action("kubernetes.scale").parse_args(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {**CHECKOUT, "replicas": -1},
        {**CHECKOUT, "replicas": 1001},
        {**CHECKOUT, "replicas": "many"},
        {**CHECKOUT},
        {"namespace": "shop", "name": "Checkout", "replicas": 1},
        {"namespace": "shop", "name": "check_out", "replicas": 1},
        {"namespace": "shop", "name": "-checkout", "replicas": 1},
        {"namespace": "shop", "name": "", "replicas": 1},
        {"namespace": "shop", "name": "a" * 254, "replicas": 1},
        {"namespace": "a" * 64, "name": "checkout", "replicas": 1},
        {"namespace": "shop.eu", "name": "checkout", "replicas": 1},
        {**CHECKOUT, "replicas": 1, "force": True},
        {**CHECKOUT, "replicas": 1, "cluster": ""},
        {**CHECKOUT, "replicas": 1, "cluster": "prod"},
    ],
)
def test_scale_args_reject_bad_names_and_bounds(raw: dict[str, Any], kube: Kube) -> None:
    with pytest.raises(ValidationError):
        kube.action("kubernetes.scale").parse_args(raw)


async def test_transient_failures_of_repeatable_calls_are_retried(kube: Kube) -> None:
    kube.fake.fail_next("GET", "/deployments/checkout", status=503, times=FAST_RETRY.attempts - 1)
    kube.fake.fail_next("PATCH", "/checkout/scale", status=429, times=FAST_RETRY.attempts - 1)

    await kube.run("kubernetes.get_deployment", CHECKOUT)
    await kube.run("kubernetes.scale", {**CHECKOUT, "replicas": 4})

    assert kube.fake.deployment("shop", "checkout")["spec"]["replicas"] == 4


async def test_a_restart_is_never_repeated_blindly(kube: Kube) -> None:
    kube.fake.fail_next("PATCH", "/deployments/checkout", status=503)

    with pytest.raises(ToolError, match="HTTP 503"):
        await kube.run("kubernetes.rollout_restart", CHECKOUT)

    patches = [r for r in kube.fake.requests if r.method == "PATCH" and r.path.endswith("/checkout")]
    assert len(patches) == 1
