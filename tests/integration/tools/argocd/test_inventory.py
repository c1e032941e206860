"""`argocd.list_apps` against the fake API server: every application the token may see, where it
deploys and what it manages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.argocd import FakeArgoCD
from tests.fakes.argocd_state import deployment, service
from tools.argocd import ArgoCDClient, actions
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy

LIVE = "a" * 40


@pytest.fixture
async def fake() -> AsyncIterator[FakeArgoCD]:
    async with FakeArgoCD(operation_seconds=0.01) as server:
        checkout = [
            deployment("checkout", "shop", image="registry.example/checkout:1.4"),
            service("checkout", "shop"),
        ]
        server.add_app("checkout-prod", destination="shop", manifests=checkout, revision=LIVE)
        payments = [deployment("payments", "billing", image="registry.example/pay:3")]
        server.add_app("payments-prod", destination="billing", manifests=payments, revision=LIVE)
        yield server


@pytest.fixture
async def registry(fake: FakeArgoCD) -> AsyncIterator[Registry]:
    client = ArgoCDClient.connect(fake.url, fake.token, timeout=2.0, retry=RetryPolicy(attempts=1))
    yield Registry(actions(client, poll_seconds=0.01))
    await client.close()


async def run(registry: Registry, raw: dict[str, object]) -> ActionResult:
    action: Action[object] = registry.get("argocd.list_apps")
    return await action.run(action.parse_args(raw))


async def test_every_application_with_its_destination_and_resources(registry: Registry) -> None:
    result = await run(registry, {})

    assert result.summary == "2 applications: 2 Healthy"
    checkout, payments = result.data["apps"]
    assert (checkout["name"], checkout["destination_namespace"], checkout["sync_status"]) == (
        "checkout-prod",
        "shop",
        "Synced",
    )
    assert {(r["kind"], r["namespace"], r["name"]) for r in checkout["resources"]} == {
        ("Deployment", "shop", "checkout"),
        ("Service", "shop", "checkout"),
    }
    assert payments["resources"] == [{"kind": "Deployment", "namespace": "billing", "name": "payments"}]
    assert result.data["more"] is False


async def test_applications_the_token_may_not_get_are_left_out(registry: Registry, fake: FakeArgoCD) -> None:
    fake.deny("get", "payments-prod")

    result = await run(registry, {"limit": 5, "project": "default"})

    assert [app["name"] for app in result.data["apps"]] == ["checkout-prod"]


async def test_a_limited_list_says_more_were_not_read(registry: Registry) -> None:
    result = await run(registry, {"limit": 1})

    assert result.summary == "1 application (more not read): 1 Healthy"
    assert result.data["more"] is True


@pytest.mark.parametrize("raw", [{"limit": 0}, {"project": "Not A Project"}, {"name": "x"}])
def test_bad_arguments_are_refused(registry: Registry, raw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        registry.get("argocd.list_apps").parse_args(raw)


async def test_a_bad_token_is_a_sentence(fake: FakeArgoCD) -> None:
    client = ArgoCDClient.connect(fake.url, "wrong", timeout=2.0, retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(actions(client)), {})
    finally:
        await client.close()
    assert raised.value.status == 401
