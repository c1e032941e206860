"""The Kubernetes tool driven through the official client against the fake API server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.kubernetes import FakeKubernetes
from tools.base import Action, ActionResult, ToolError
from tools.kubernetes import (
    RESTARTED_AT_ANNOTATION,
    KubernetesClient,
    KubernetesConfig,
    RetryPolicy,
    actions,
    toolset,
)
from tools.registry import Registry, installed_toolsets
from tools.toolset import NotConfigured

CHECKOUT = {"namespace": "shop", "name": "checkout"}
DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/shop/deployments/checkout"


FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeKubernetes]:
    async with FakeKubernetes() as server:
        server.add_deployment("shop", "checkout", replicas=2, image="registry.example/checkout:1.4")
        yield server


@pytest.fixture
def kubeconfig(fake: FakeKubernetes, tmp_path: Path) -> Path:
    return fake.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def client(kubeconfig: Path) -> Iterator[KubernetesClient]:
    client = KubernetesClient.from_config(KubernetesConfig(kubeconfig=kubeconfig), retry=FAST_RETRY)
    yield client
    client.close()


@pytest.fixture
def registry(client: KubernetesClient) -> Registry:
    return Registry(actions(client))


async def run(registry: Registry, action_name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(action_name)
    return await action.run(action.parse_args(raw))


async def test_get_deployment_reports_replicas_generation_and_image(registry: Registry) -> None:
    result = await run(registry, "kubernetes.get_deployment", CHECKOUT)

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
    registry: Registry, fake: FakeKubernetes
) -> None:
    action = registry.get("kubernetes.scale")
    args = action.parse_args({**CHECKOUT, "replicas": 5})

    result = await action.run(args)

    assert result.summary == "checkout replicas 2 → 5"
    assert result.data["previous_replicas"] == 2
    assert result.data["replicas"] == 5
    assert fake.deployment("shop", "checkout")["spec"]["replicas"] == 5
    patch = [r for r in fake.requests if r.method == "PATCH"]
    assert [(r.path, r.body) for r in patch] == [(f"{DEPLOYMENT_PATH}/scale", {"spec": {"replicas": 5}})]
    step = action.rollback(args, result)
    assert step is not None
    assert step.action == "kubernetes.scale"
    assert step.args == {**CHECKOUT, "replicas": 2}
    assert action.parse_args(step.args) == action.parse_args({**CHECKOUT, "replicas": 2})


async def test_scale_dry_run_asks_the_server_and_changes_nothing(
    registry: Registry, fake: FakeKubernetes
) -> None:
    before = fake.deployment("shop", "checkout")
    action = registry.get("kubernetes.scale")

    result = await action.dry_run(action.parse_args({**CHECKOUT, "replicas": 5}))

    assert result.summary == "dry run: checkout replicas 2 → 5"
    assert fake.deployment("shop", "checkout") == before
    assert fake.requests[-1].query == {"dryRun": "All"}


async def test_rollout_restart_sets_the_restart_annotation_and_bumps_generation(
    registry: Registry, fake: FakeKubernetes
) -> None:
    action = registry.get("kubernetes.rollout_restart")
    args = action.parse_args(CHECKOUT)

    result = await action.run(args)

    deployment = fake.deployment("shop", "checkout")
    stamp = deployment["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT_ANNOTATION]
    assert stamp == result.data["restarted_at"]
    assert stamp.endswith("Z")
    assert datetime.now(UTC) - datetime.fromisoformat(stamp) < timedelta(seconds=10)
    assert deployment["metadata"]["generation"] == 2
    assert result.summary == "restarted shop/checkout (generation 2)"
    assert fake.requests[-1].content_type == "application/strategic-merge-patch+json"
    assert action.rollback(args, result) is None


async def test_rollout_restart_dry_run_leaves_the_pod_template_alone(
    registry: Registry, fake: FakeKubernetes
) -> None:
    before = fake.deployment("shop", "checkout")
    action = registry.get("kubernetes.rollout_restart")

    result = await action.dry_run(action.parse_args(CHECKOUT))

    assert result.summary == "dry run: restarted shop/checkout (generation 2)"
    assert fake.deployment("shop", "checkout") == before


async def test_a_read_is_its_own_dry_run(registry: Registry) -> None:
    action = registry.get("kubernetes.get_deployment")
    args = action.parse_args(CHECKOUT)

    assert await action.dry_run(args) == await action.run(args)


async def test_rollout_status_succeeds_once_the_controller_converges(
    registry: Registry, fake: FakeKubernetes
) -> None:
    await run(registry, "kubernetes.scale", {**CHECKOUT, "replicas": 5})

    result = await run(registry, "kubernetes.rollout_status", {**CHECKOUT, "timeout_seconds": 10})

    assert result.summary == "rollout of shop/checkout finished: 5 of 5 replicas available"
    assert result.data["observed_generation"] == result.data["generation"] == 2
    reads = [r for r in fake.requests if r.method == "GET" and r.path == DEPLOYMENT_PATH]
    assert len(reads) >= 2, "the first read sees the old status and must be re-read"


async def test_rollout_status_fails_readably_when_pods_never_become_available(
    registry: Registry, fake: FakeKubernetes
) -> None:
    fake.set_stuck("shop", "checkout", available=2)
    await run(registry, "kubernetes.scale", {**CHECKOUT, "replicas": 5})

    with pytest.raises(ToolError) as raised:
        await run(registry, "kubernetes.rollout_status", {**CHECKOUT, "timeout_seconds": 1})

    assert raised.value.message == (
        "rollout of shop/checkout did not finish within 1s: 2 of 5 replicas available"
    )
    assert raised.value.call == f"GET {DEPLOYMENT_PATH}"


async def test_rollout_status_fails_fast_when_the_progress_deadline_passed(
    registry: Registry, fake: FakeKubernetes
) -> None:
    fake.set_stuck("shop", "checkout", available=1, deadline_exceeded=True)
    started = time.monotonic()

    with pytest.raises(ToolError) as raised:
        await run(registry, "kubernetes.rollout_status", {**CHECKOUT, "timeout_seconds": 60})

    assert time.monotonic() - started < 5
    assert raised.value.message.startswith(
        "rollout of shop/checkout exceeded its progress deadline: ReplicaSet"
    )


async def test_unknown_deployment_is_a_not_found_tool_error(registry: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "kubernetes.scale", {"namespace": "shop", "name": "cart", "replicas": 3})

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
async def test_upstream_failures_name_the_call_and_status(
    registry: Registry, fake: FakeKubernetes, status: int, message: str
) -> None:
    fake.fail_next("PATCH", "/checkout/scale", status=status, times=FAST_RETRY.attempts)

    with pytest.raises(ToolError) as raised:
        await run(registry, "kubernetes.scale", {**CHECKOUT, "replicas": 3})

    assert raised.value.message.startswith(message)
    assert raised.value.status == status
    assert raised.value.call == f"PATCH {DEPLOYMENT_PATH}/scale"
    assert fake.deployment("shop", "checkout")["spec"]["replicas"] == 2


async def test_a_wrong_token_is_denied_with_the_verb_and_target(fake: FakeKubernetes, tmp_path: Path) -> None:
    config = KubernetesConfig(kubeconfig=fake.write_kubeconfig(tmp_path / "kc", token="wrong"))
    client = KubernetesClient.from_config(config)
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(actions(client)), "kubernetes.get_deployment", CHECKOUT)
    finally:
        client.close()

    assert raised.value.message == "kubernetes denied get on deployment shop/checkout: Unauthorized"
    assert raised.value.status == 401


@pytest.mark.parametrize(
    "raw",
    [
        {**CHECKOUT, "replicas": 0},
        {**CHECKOUT, "replicas": 1000},
        {"namespace": "kube-system", "name": "coredns", "replicas": 2},
        {"namespace": "a" * 63, "name": "api.v2-" + "b" * 200, "replicas": 1},
    ],
)
def test_scale_args_accept_valid_names_and_bounds(raw: dict[str, Any], client: KubernetesClient) -> None:
    assert Registry(actions(client)).get("kubernetes.scale").parse_args(raw)


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
    ],
)
def test_scale_args_reject_bad_names_and_bounds(raw: dict[str, Any], client: KubernetesClient) -> None:
    with pytest.raises(ValidationError):
        Registry(actions(client)).get("kubernetes.scale").parse_args(raw)


async def test_toolset_is_the_entry_point_and_shares_one_client(kubeconfig: Path) -> None:
    assert installed_toolsets()["kubernetes"] is toolset
    built = toolset({"KUBECONFIG": str(kubeconfig)})
    client = built.actions[0].client  # type: ignore[attr-defined]
    try:
        assert built.status == f"enabled, API server {client.server}"
        assert [action.name for action in Registry(built.actions)] == [
            "kubernetes.get_deployment",
            "kubernetes.scale",
            "kubernetes.rollout_restart",
            "kubernetes.rollout_status",
        ]
        assert all(action.client is client for action in built.actions)  # type: ignore[attr-defined]
        assert await client.server_version() == "v1.31.0"
    finally:
        await built.aclose()


def test_the_toolset_is_left_out_without_a_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tools.kubernetes.DEFAULT_KUBECONFIG", tmp_path / "absent")

    with pytest.raises(NotConfigured, match="set KUBECONFIG"):
        toolset({})


def test_a_kubeconfig_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=f"KUBECONFIG: file {tmp_path / 'nope'} does not exist"):
        toolset({"KUBECONFIG": str(tmp_path / "nope")})


def test_a_missing_kubeconfig_fails_with_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    with pytest.raises(ToolError) as raised:
        KubernetesClient.from_config(KubernetesConfig(kubeconfig=missing))

    assert raised.value.message.startswith(f"kubernetes: cannot load kubeconfig {missing}")
    assert "\n" not in raised.value.message


def test_in_cluster_config_excludes_a_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="in_cluster cannot be combined"):
        KubernetesConfig(in_cluster=True, kubeconfig=tmp_path / "kubeconfig")


async def test_transient_failures_of_repeatable_calls_are_retried(
    registry: Registry, fake: FakeKubernetes
) -> None:
    fake.fail_next("GET", "/deployments/checkout", status=503, times=FAST_RETRY.attempts - 1)
    fake.fail_next("PATCH", "/checkout/scale", status=429, times=FAST_RETRY.attempts - 1)

    await run(registry, "kubernetes.get_deployment", CHECKOUT)
    await run(registry, "kubernetes.scale", {**CHECKOUT, "replicas": 4})

    assert fake.deployment("shop", "checkout")["spec"]["replicas"] == 4


async def test_a_restart_is_never_repeated_blindly(registry: Registry, fake: FakeKubernetes) -> None:
    fake.fail_next("PATCH", "/deployments/checkout", status=503)

    with pytest.raises(ToolError, match="HTTP 503"):
        await run(registry, "kubernetes.rollout_restart", CHECKOUT)

    patches = [r for r in fake.requests if r.method == "PATCH" and r.path.endswith("/checkout")]
    assert len(patches) == 1
