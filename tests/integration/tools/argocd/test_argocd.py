"""The Argo CD tool against the fake API server: reads, sync and rollback with their dry runs and
inverses, waiting for Synced and Healthy, and every failure as a sentence a person can act on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.argocd import FakeArgoCD
from tests.fakes.argocd_state import GitSource, config_map, deployment, service
from tests.fakes.git_remote import BareRemote
from tools.argocd import ArgoCDClient, actions, toolset
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured

LIVE = "a" * 40
NEXT = "b" * 40
CHECKOUT = {"name": "checkout"}
APP_PATH = "/api/v1/applications/checkout"
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


def manifests(*, image: str = "registry.example/checkout:1.4", replicas: int = 2) -> list[dict[str, Any]]:
    return [
        deployment("checkout", "shop", image=image, replicas=replicas),
        service("checkout", "shop"),
        config_map("checkout-config", "shop", {"LOG_LEVEL": "info"}),
    ]


def next_release() -> list[dict[str, Any]]:
    """Version 1.5: new image and replica count, more logging."""
    return [
        deployment("checkout", "shop", image="registry.example/checkout:1.5", replicas=3),
        service("checkout", "shop"),
        config_map("checkout-config", "shop", {"LOG_LEVEL": "debug"}),
    ]


def reshaped_release() -> list[dict[str, Any]]:
    """Version 1.5 with the config map replaced by another: one resource to create, one to prune."""
    return [
        deployment("checkout", "shop", image="registry.example/checkout:1.5", replicas=3),
        service("checkout", "shop"),
        config_map("checkout-flags", "shop", {"NEW_CART": "on"}),
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeArgoCD]:
    async with FakeArgoCD(operation_seconds=0.05) as server:
        server.add_app("checkout", destination="shop", manifests=manifests(), revision=LIVE)
        yield server


@pytest.fixture
async def client(fake: FakeArgoCD) -> AsyncIterator[ArgoCDClient]:
    client = ArgoCDClient.connect(fake.url, fake.token, timeout=2.0, retry=FAST_RETRY)
    yield client
    await client.close()


@pytest.fixture
def registry(client: ArgoCDClient) -> Registry:
    return Registry(actions(client, poll_seconds=0.02))


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.run(action.parse_args(raw))


async def rehearse(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.dry_run(action.parse_args(raw))


async def wait_synced(registry: Registry) -> ActionResult:
    return await run(registry, "argocd.app_status", {**CHECKOUT, "timeout_seconds": 5})


def posts(fake: FakeArgoCD, what: str) -> list[Any]:
    return [r.body for r in fake.calls("POST", f"{APP_PATH}/{what}")]


async def test_get_app_reports_sync_health_revision_and_last_operation(registry: Registry) -> None:
    result = await run(registry, "argocd.get_app", CHECKOUT)

    assert result.summary == "checkout: Synced with aaaaaaa, Healthy, tracking main; last operation Succeeded"
    assert result.data["sync_status"] == "Synced"
    assert result.data["health_status"] == "Healthy"
    assert result.data["revision"] == LIVE
    assert result.data["repo_url"] == "https://git.example.com/platform/checkout.git"
    assert result.data["images"] == ["registry.example/checkout:1.4"]
    assert [entry["id"] for entry in result.data["history"]] == [0]
    assert result.data["auto_sync"] is False
    assert result.data["operation"] == {
        "phase": "Succeeded",
        "message": "successfully synced (all tasks run)",
        "dry_run": False,
        "revision": LIVE,
        "resource_count": 3,
    }


async def test_get_diff_lists_what_a_sync_would_create_update_and_prune(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.push("checkout", NEXT, reshaped_release())

    result = await run(registry, "argocd.get_diff", CHECKOUT)

    assert result.summary == (
        "checkout: a sync would change 3 resources: prune ConfigMap shop/checkout-config (only with prune); "
        "create ConfigMap shop/checkout-flags; update Deployment shop/checkout (spec.replicas: 2 → 3)"
    )
    update = result.data["changes"][2]
    assert update["change"] == "update"
    assert update["fields"] == [
        "spec.replicas: 2 → 3",
        "spec.template.spec.containers[0].image: "
        "registry.example/checkout:1.4 → registry.example/checkout:1.5",
    ], "server-owned metadata and status are not changes"
    assert result.data["change_count"] == 3


async def test_get_diff_says_when_nothing_would_change(registry: Registry) -> None:
    result = await run(registry, "argocd.get_diff", CHECKOUT)

    assert result.summary == "checkout: live state matches the target; a sync would change nothing"
    assert result.data["changes"] == []


async def test_get_diff_names_changed_secret_fields_without_their_values(
    registry: Registry, fake: FakeArgoCD
) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "checkout-db", "namespace": "shop"},
        "data": {"password": "b2xkLXBhc3N3b3Jk"},
    }
    fake.add_app("payments", destination="shop", manifests=[secret], revision=LIVE)
    fake.push("payments", NEXT, [secret | {"data": {"password": "bmV3LXBhc3N3b3Jk"}}])

    result = await run(registry, "argocd.get_diff", {"name": "payments"})

    assert result.data["changes"][0]["fields"] == ["data.password"]
    assert "bmV3" not in result.summary + str(result.data)


async def test_get_resources_counts_health_and_names_the_unhealthy(
    registry: Registry, fake: FakeArgoCD
) -> None:
    healthy = await run(registry, "argocd.get_resources", CHECKOUT)
    assert healthy.summary == "checkout: 5 resources report health (5 Healthy)"
    assert healthy.data["unhealthy"] == []

    fake.degrade("checkout", NEXT)
    fake.push("checkout", NEXT, next_release())
    await run(registry, "argocd.sync", CHECKOUT)
    with pytest.raises(ToolError):
        await run(registry, "argocd.app_status", {**CHECKOUT, "timeout_seconds": 0.3})

    degraded = await run(registry, "argocd.get_resources", CHECKOUT)
    assert degraded.summary.startswith(
        "checkout: 6 resources report health (5 Degraded, 1 Healthy); "
        'Deployment shop/checkout Degraded: Deployment "checkout" exceeded its progress deadline; '
        "ReplicaSet shop/checkout-5d9c7b Degraded"
    )
    assert {node["kind"] for node in degraded.data["unhealthy"]} == {"Deployment", "ReplicaSet", "Pod"}


async def test_sync_starts_an_operation_and_rolls_back_to_the_deployment_live_before(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.push("checkout", NEXT, next_release())
    sync = registry.get("argocd.sync")
    args = sync.parse_args(CHECKOUT)

    result = await sync.run(args)

    assert result.summary == "started sync of checkout to main; live was history id 0 (aaaaaaa)"
    assert posts(fake, "sync") == [
        {"name": "checkout", "dryRun": False, "prune": False, "strategy": {"hook": {"force": False}}}
    ]
    assert result.data == {
        "name": "checkout",
        "revision": "main",
        "previous_history_id": 0,
        "previous_revision": LIVE,
        "auto_sync": False,
    }
    synced = await wait_synced(registry)
    assert synced.summary == "checkout is Synced and Healthy at bbbbbbb"
    assert fake.in_sync_with("checkout", NEXT)

    step = sync.rollback(args, result)
    assert step is not None
    assert (step.action, step.args) == ("argocd.rollback", {"name": "checkout", "history_id": 0})
    assert step.description == "roll checkout back to history id 0 (aaaaaaa)"
    rolled_back = await run(registry, step.action, step.args)
    assert rolled_back.summary == (
        "started rollback of checkout to history id 0 (aaaaaaa); live was history id 1 (bbbbbbb)"
    )
    assert posts(fake, "rollback") == [{"name": "checkout", "id": 0, "dryRun": False, "prune": False}]
    undo = registry.get("argocd.rollback").rollback(
        registry.get("argocd.rollback").parse_args(step.args), rolled_back
    )
    assert undo is not None
    assert undo.args == {"name": "checkout", "history_id": 1}, "a rollback is undone by going forward again"
    await _until_finished(registry)
    assert fake.in_sync_with("checkout", LIVE)
    history = await run(registry, "argocd.list_history", CHECKOUT)
    assert [(e["id"], e["revision"]) for e in history.data["history"]] == [(2, LIVE), (1, NEXT), (0, LIVE)]
    assert history.summary.startswith("checkout: 3 deployments; live is id 2 (aaaaaaa, deployed ")


async def _until_finished(registry: Registry) -> None:
    """After a rollback the app is OutOfSync with its branch by design, so wait for the operation."""
    for _ in range(250):
        data = (await run(registry, "argocd.get_app", CHECKOUT)).data
        if not data["operation_pending"] and data["operation"]["phase"] == "Succeeded":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the rollback operation did not finish")


async def test_sync_with_revision_prune_and_apply_strategy_sends_them(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.push("checkout", NEXT, reshaped_release())

    await run(
        registry,
        "argocd.sync",
        {**CHECKOUT, "revision": NEXT, "prune": True, "force": True, "strategy": "apply"},
    )
    await wait_synced(registry)

    assert posts(fake, "sync") == [
        {
            "name": "checkout",
            "revision": NEXT,
            "dryRun": False,
            "prune": True,
            "strategy": {"apply": {"force": True}},
        }
    ]
    assert ("", "ConfigMap", "shop", "checkout-config") not in fake.live("checkout")


async def test_sync_dry_run_runs_a_dry_run_operation_and_changes_nothing(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.push("checkout", NEXT, next_release())

    result = await rehearse(registry, "argocd.sync", CHECKOUT)

    assert result.summary == ("dry run: sync of checkout to bbbbbbb: 2 configured, 1 unchanged")
    assert result.data["counts"] == {"configured": 2, "unchanged": 1}
    assert posts(fake, "sync")[0]["dryRun"] is True
    assert fake.in_sync_with("checkout", LIVE)
    history = await run(registry, "argocd.list_history", CHECKOUT)
    assert len(history.data["history"]) == 1


async def test_rollback_dry_run_rehearses_the_old_revision(registry: Registry, fake: FakeArgoCD) -> None:
    fake.push("checkout", NEXT, next_release())
    await run(registry, "argocd.sync", CHECKOUT)
    await wait_synced(registry)

    result = await rehearse(registry, "argocd.rollback", {**CHECKOUT, "history_id": 0})

    assert result.summary == "dry run: rollback of checkout to aaaaaaa: 2 configured, 1 unchanged"
    assert posts(fake, "rollback") == [{"name": "checkout", "id": 0, "dryRun": True, "prune": False}]
    assert fake.in_sync_with("checkout", NEXT)


async def test_rollback_to_an_unknown_history_id_names_the_known_ids(
    registry: Registry, fake: FakeArgoCD
) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.rollback", {**CHECKOUT, "history_id": 7})

    assert raised.value.message == "checkout has no deployment with history id 7 (ids: 0)"
    assert posts(fake, "rollback") == []


async def test_with_auto_sync_rollback_is_refused_and_a_sync_offers_none(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.add_app("cart", destination="shop", manifests=manifests(), revision=LIVE, auto_sync=True)
    fake.push("cart", NEXT, next_release())
    sync = registry.get("argocd.sync")
    args = sync.parse_args({"name": "cart"})

    result = await sync.run(args)

    assert result.summary.endswith("; auto-sync is on, so undo it with a git revert")
    assert sync.rollback(args, result) is None
    await fake_settled(registry, "cart")
    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.rollback", {"name": "cart", "history_id": 0})
    assert raised.value.status == 400
    assert raised.value.message == (
        "argocd: POST /api/v1/applications/cart/rollback failed: bad request: "
        "rollback cannot be initiated when auto-sync is enabled"
    )


async def fake_settled(registry: Registry, name: str) -> None:
    await run(registry, "argocd.app_status", {"name": name, "timeout_seconds": 5})


async def test_app_status_fails_fast_when_the_sync_failed(registry: Registry, fake: FakeArgoCD) -> None:
    fake.push("checkout", NEXT, next_release())
    await run(registry, "argocd.sync", {**CHECKOUT, "revision": "release-9"})

    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.app_status", {**CHECKOUT, "timeout_seconds": 30})

    assert raised.value.message == (
        "checkout: the last sync error: ComparisonError: unable to resolve 'release-9' to a commit SHA; "
        "now OutOfSync with bbbbbbb, Healthy"
    )
    assert raised.value.call == f"GET {APP_PATH}"


async def test_app_status_times_out_naming_sync_and_health(registry: Registry, fake: FakeArgoCD) -> None:
    fake.degrade("checkout", NEXT)
    fake.push("checkout", NEXT, next_release())
    await run(registry, "argocd.sync", CHECKOUT)

    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.app_status", {**CHECKOUT, "timeout_seconds": 0.5})

    assert raised.value.message == (
        "checkout did not become Synced and Healthy within 0.5s: Synced with bbbbbbb, Degraded "
        '(Deployment "checkout" exceeded its progress deadline)'
    )


async def test_a_sync_refuses_once_another_deployment_went_live_since_the_plan(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.push("checkout", NEXT, next_release())
    pinned = {**CHECKOUT, "expected_live_revision": LIVE}
    await rehearse(registry, "argocd.sync", pinned)
    await run(registry, "argocd.sync", CHECKOUT)
    await wait_synced(registry)

    for attempt in (rehearse, run):
        with pytest.raises(ToolError) as raised:
            await attempt(registry, "argocd.sync", pinned)
        assert raised.value.message == (
            f"the revision checkout runs changed since the plan was made (pinned {LIVE}, now {NEXT}); "
            "make a new plan"
        )
    assert len(posts(fake, "sync")) == 2, "the dry run and the unpinned sync; nothing after"


async def test_app_status_does_not_count_the_revision_before_the_change(
    registry: Registry, fake: FakeArgoCD
) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.app_status", {**CHECKOUT, "timeout_seconds": 0.2, "stale_revision": LIVE})

    assert raised.value.message == (
        "checkout is Synced and Healthy but still at aaaaaaa, the revision before the change: "
        "it did not pick the change up within 0.2s"
    )
    fake.push("checkout", NEXT, next_release())
    await run(registry, "argocd.sync", CHECKOUT)
    synced = await run(
        registry, "argocd.app_status", {**CHECKOUT, "timeout_seconds": 5, "stale_revision": LIVE}
    )
    assert synced.summary == "checkout is Synced and Healthy at bbbbbbb"


async def test_an_app_rendered_from_git_sees_a_push_on_refresh_and_syncs_to_it(
    registry: Registry, fake: FakeArgoCD, tmp_path: Path
) -> None:
    remote = BareRemote(tmp_path, {"apps/cart/values.yaml": "image:\n  tag: v1\n"})

    def render(values: dict[str, Any]) -> list[dict[str, Any]]:
        return [deployment("cart", "shop", image=f"registry.example/cart:{values['image']['tag']}")]

    fake.add_git_app("cart", destination="shop", source=GitSource(remote, "apps/cart/values.yaml", render))
    pushed = remote.commit_files({"apps/cart/values.yaml": "image:\n  tag: v2\n"}, "Bump cart")
    cart = {"name": "cart"}

    unrefreshed = await run(registry, "argocd.get_diff", cart)
    refreshed = await run(registry, "argocd.get_diff", {**cart, "refresh": "normal"})

    assert unrefreshed.data["change_count"] == 0
    assert refreshed.summary == (
        "cart: a sync would change 1 resources: update Deployment shop/cart "
        "(spec.template.spec.containers[0].image: registry.example/cart:v1 → registry.example/cart:v2)"
    )
    assert fake.calls("GET", "/api/v1/applications/cart")[-1].query == {"refresh": "normal"}
    await run(registry, "argocd.sync", cart)
    synced = await run(registry, "argocd.app_status", {**cart, "timeout_seconds": 5})
    assert synced.data["revision"] == pushed
    assert synced.data["images"] == ["registry.example/cart:v2"]
    assert synced.data["repo_url"] == remote.url


async def test_a_second_sync_while_one_runs_is_a_readable_conflict(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.hold("checkout")
    fake.push("checkout", NEXT, next_release())
    await run(registry, "argocd.sync", CHECKOUT)

    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.sync", CHECKOUT)

    assert raised.value.status == 400
    assert raised.value.message == (
        f"argocd: POST {APP_PATH}/sync failed: bad request: another operation is already in progress"
    )
    state = await run(registry, "argocd.get_app", CHECKOUT)
    assert state.summary == "checkout: OutOfSync with bbbbbbb, Healthy, operation queued, tracking main"


@pytest.mark.parametrize(
    ("setup", "raw", "status", "message"),
    [
        (
            "deny",
            CHECKOUT,
            403,
            "argocd: GET /api/v1/applications/checkout failed: permission denied: permission denied: "
            "applications, get, default/checkout, sub: carapulse, iat: 2024-05-01T12:00:00Z",
        ),
        (
            None,
            {"name": "cart"},
            404,
            "argocd: GET /api/v1/applications/cart failed: not found: "
            'applications.argoproj.io "cart" not found',
        ),
        (
            None,
            {"name": "checkout", "app_namespace": "team-a"},
            404,
            f'argocd: GET {APP_PATH} failed: not found: applications.argoproj.io "checkout" not found',
        ),
    ],
)
async def test_denied_and_unknown_applications_are_readable_errors(
    registry: Registry, fake: FakeArgoCD, setup: str | None, raw: dict[str, Any], status: int, message: str
) -> None:
    if setup == "deny":
        fake.deny("get", "checkout")

    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.get_app", raw)

    assert (raised.value.status, raised.value.message) == (status, message)


async def test_a_wrong_token_is_an_authentication_error(fake: FakeArgoCD) -> None:
    client = ArgoCDClient.connect(fake.url, "expired-token", retry=FAST_RETRY)
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(actions(client)), "argocd.get_app", CHECKOUT)
    finally:
        await client.close()

    assert raised.value.status == 401
    assert raised.value.message == (
        "argocd: GET /api/v1/applications/checkout failed: not authenticated (check the token): "
        "invalid session: token signature is invalid"
    )


async def test_apps_in_other_namespaces_are_addressed_with_app_namespace(
    registry: Registry, fake: FakeArgoCD
) -> None:
    fake.add_app("billing", destination="billing", manifests=manifests(), revision=LIVE, namespace="team-a")
    raw = {"name": "billing", "app_namespace": "team-a"}

    await run(registry, "argocd.get_app", raw)
    await run(registry, "argocd.sync", raw)

    assert fake.calls("GET", "/api/v1/applications/billing")[0].query == {"appNamespace": "team-a"}
    assert fake.calls("POST", "/api/v1/applications/billing/sync")[0].body["appNamespace"] == "team-a"


async def test_throttled_reads_are_retried_after_retry_after(registry: Registry, fake: FakeArgoCD) -> None:
    throttled = "<html><head><title>429 Too Many Requests</title></head></html>"
    fake.fail_next(429, throttled, headers={"Retry-After": "1"}, times=FAST_RETRY.attempts - 1)

    result = await run(registry, "argocd.get_app", CHECKOUT)

    assert result.data["sync_status"] == "Synced"
    assert len(fake.calls("GET", APP_PATH)) == FAST_RETRY.attempts


async def test_a_throttled_sync_is_not_repeated(registry: Registry, fake: FakeArgoCD) -> None:
    throttled = "<html><head><title>429 Too Many Requests</title></head></html>"
    fake.fail_next(429, throttled, headers={"Retry-After": "1"}, path_prefix=f"{APP_PATH}/sync")

    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.sync", CHECKOUT)

    assert raised.value.status == 429
    assert raised.value.message == (f"argocd: POST {APP_PATH}/sync failed: rate limited: {throttled}")
    assert len(posts(fake, "sync")) == 1


async def test_a_server_that_does_not_answer_in_time_is_a_timeout(fake: FakeArgoCD) -> None:
    client = ArgoCDClient.connect(fake.url, fake.token, timeout=0.3, retry=FAST_RETRY)
    fake.stall_next(1.0)
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(actions(client)), "argocd.get_app", CHECKOUT)
    finally:
        await client.close()

    assert raised.value.message == f"argocd: GET {APP_PATH} timed out after 0.3s"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>Sign in with SSO</html>", f"argocd: GET {APP_PATH} answered with something that is not JSON"),
        (["checkout"], f"argocd: GET {APP_PATH} answered with list, not an object"),
    ],
)
async def test_an_answer_that_is_not_an_application_is_a_readable_error(
    registry: Registry, fake: FakeArgoCD, body: Any, message: str
) -> None:
    fake.fail_next(200, body)

    with pytest.raises(ToolError) as raised:
        await run(registry, "argocd.get_app", CHECKOUT)

    assert raised.value.message == message


@pytest.mark.parametrize(
    ("action", "raw"),
    [
        ("argocd.get_app", {"name": "Checkout"}),
        ("argocd.get_app", {"name": "checkout", "app_namespace": "team_a"}),
        ("argocd.get_app", {"name": "checkout", "refresh": True}),
        ("argocd.sync", {"name": "checkout", "revision": "--force"}),
        ("argocd.sync", {"name": "checkout", "revision": "main branch"}),
        ("argocd.sync", {"name": "checkout", "strategy": "replace"}),
        ("argocd.rollback", {"name": "checkout", "history_id": -1}),
        ("argocd.rollback", {"name": "checkout"}),
        ("argocd.app_status", {"name": "checkout", "timeout_seconds": 0}),
        ("argocd.app_status", {"name": "checkout", "timeout_seconds": 3601}),
        ("argocd.app_status", {"name": "checkout", "stale_revision": "-x"}),
        ("argocd.get_diff", {"name": "checkout", "refresh": "soft"}),
        ("argocd.sync", {"name": "checkout", "expected_live_revision": "a b"}),
    ],
)
def test_bad_arguments_are_rejected(registry: Registry, action: str, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        registry.get(action).parse_args(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "checkout", "revision": "v1.5.0"},
        {"name": "checkout", "revision": "release/2024.05"},
        {"name": "checkout", "revision": NEXT},
        {"name": "api.v2-checkout", "app_namespace": "team-a"},
    ],
)
def test_good_sync_arguments_are_accepted(registry: Registry, raw: dict[str, Any]) -> None:
    assert registry.get("argocd.sync").parse_args(raw)


async def test_toolset_builds_every_action_on_one_client(fake: FakeArgoCD) -> None:
    built = toolset({"ARGOCD_SERVER": fake.url, "ARGOCD_AUTH_TOKEN": fake.token})
    try:
        assert built.name == "argocd"
        assert built.status == f"enabled, {fake.url}"
        assert [action.name for action in Registry(built.actions)] == [
            "argocd.get_app",
            "argocd.get_resources",
            "argocd.get_diff",
            "argocd.list_history",
            "argocd.app_status",
            "argocd.sync",
            "argocd.rollback",
            "argocd.list_apps",
        ]
        clients = {id(action.client) for action in built.actions}  # type: ignore[attr-defined]
        assert len(clients) == 1
        result = await run(Registry(built.actions), "argocd.get_app", CHECKOUT)
        assert result.data["name"] == "checkout"
    finally:
        await built.aclose()


def test_a_bare_host_means_https_and_insecure_is_reported() -> None:
    built = toolset(
        {"ARGOCD_SERVER": "argocd.example.com:8443", "ARGOCD_AUTH_TOKEN": "t", "ARGOCD_INSECURE": "true"}
    )

    assert built.status == "enabled, https://argocd.example.com:8443 (TLS not verified)"


def test_the_toolset_is_left_out_without_a_server() -> None:
    with pytest.raises(NotConfigured, match="set ARGOCD_SERVER to enable"):
        toolset({"ARGOCD_AUTH_TOKEN": "t"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ARGOCD_SERVER": "argocd.example.com"}, "argocd: ARGOCD_AUTH_TOKEN: Field required"),
        ({"ARGOCD_SERVER": "ftp://argocd.example.com", "ARGOCD_AUTH_TOKEN": "t"}, "argocd: ARGOCD_SERVER: "),
        ({"ARGOCD_SERVER": "argocd.example.com:https", "ARGOCD_AUTH_TOKEN": "t"}, "argocd: ARGOCD_SERVER: "),
        (
            {"ARGOCD_SERVER": "a.example.com", "ARGOCD_AUTH_TOKEN": "t", "ARGOCD_INSECURE": "maybe"},
            "argocd: ARGOCD_INSECURE: ",
        ),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ToolError) as raised:
        toolset(environ)

    assert raised.value.message.startswith(message)
    assert "\n" not in raised.value.message
