"""incident_remediation through Slack: diagnostics read before the change, the remediation, the
rollout and a recovery check against the real Prometheus after; a rollback pinned to the revision the
plan saw; a silence in the real Alertmanager."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import pytest

from tests.fakes.prometheus_stack import RunningStack
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import (
    ERROR_RATIO,
    BotWith,
    approved_run,
    choice,
    field,
    open_form,
    submit,
)

FAST_RECOVERY = "version: 1-fast\nsteps:\n  recovery:\n    args: {window_seconds: 1, interval_seconds: 0.5}\n"
CHECKOUT = {"namespace": "shop", "name": "checkout"}
START = "workflow start incident_remediation"

RemediationBot = Callable[[], AbstractAsyncContextManager[RunningBot]]


@pytest.fixture
def remediation_bot(bot_with: BotWith, stack: RunningStack) -> RemediationBot:
    """A bot with Prometheus and Alertmanager configured and the fast recovery check override."""
    settings = {"PROMETHEUS_URL": stack.prometheus_url, "ALERTMANAGER_URL": stack.alertmanager_url}
    return lambda: bot_with(settings, files={"prod/incident_remediation.yaml": FAST_RECOVERY})


async def roll_out(bot: RunningBot, image: str) -> None:
    """A new revision of shop/checkout, as a deploy outside Carapulse would make it."""
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": image}]}}}}
    action = bot.carapulse.tools.registry.get("kubernetes.patch_deployment")
    await action.run(action.parse_args({**CHECKOUT, "patch": patch}))
    await bot.kube.settle()


def revision(bot: RunningBot) -> tuple[str, str]:
    deployment = bot.kube.deployment("shop", "checkout")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image, deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"]


async def test_a_restart_from_the_form_reads_diagnostics_first_and_holds_the_recovery_check(
    remediation_bot: RemediationBot,
) -> None:
    async with remediation_bot() as bot:
        await open_form(bot, "incident_remediation")
        values = {
            "remediation": choice("restart"),
            "service": field("checkout"),
            "namespace": field("shop"),
            "recovery_check": field(f"{ERROR_RATIO} < 0.05"),
        }
        await submit(bot, values)

        card = await approved_run(bot, "Succeeded")
        restarted = bot.kube.deployment("shop", "checkout")["spec"]["template"]["metadata"]["annotations"]
    steps = card.index("kubernetes.get_deployment_summary"), card.index("kubernetes.list_pods")
    assert (
        steps[0]
        < steps[1]
        < card.index("alertmanager.list_alerts")
        < card.index("kubernetes.rollout_restart")
    )
    assert card.index("kubernetes.rollout_restart") < card.index("prometheus.query_threshold")
    assert "incident_remediation 1-fast" in card
    assert "kubectl.kubernetes.io/restartedAt" in restarted


async def test_a_scale_up_whose_recovery_check_fails_is_rolled_back(remediation_bot: RemediationBot) -> None:
    async with remediation_bot() as bot:
        inputs = "remediation=scale_up service=checkout namespace=shop replicas=4"
        await bot.driver.slash_command(f"{START} {inputs} recovery_check='{ERROR_RATIO} < 0.01'")

        card = await approved_run(bot, "Rolled back")
        replicas = bot.kube.deployment("shop", "checkout")["spec"]["replicas"]
    assert "checkout recovery was 0.031" in card
    assert replicas == 2


async def test_a_rollback_is_pinned_to_the_revision_the_plan_saw(remediation_bot: RemediationBot) -> None:
    async with remediation_bot() as bot:
        await roll_out(bot, "registry.example/checkout:1.5")
        await bot.driver.slash_command("roll back checkout in shop")

        card = await approved_run(bot, "Succeeded")
        await bot.kube.settle()
        rolled = revision(bot)
    assert '"expected_revision": 2' in card and '"to_revision": 1' in card
    assert rolled == ("nginx:1.27", "3")


async def test_a_rollback_refuses_once_another_revision_rolled_out(remediation_bot: RemediationBot) -> None:
    async with remediation_bot() as bot:
        await roll_out(bot, "registry.example/checkout:1.5")
        await bot.driver.slash_command("roll back checkout in shop")
        await bot.card_text(1, "Awaiting approval")
        await roll_out(bot, "registry.example/checkout:1.6")

        card = await approved_run(bot, "Failed")
        after = revision(bot)
    assert "changed since the plan was made (pinned 2, now 3)" in card
    assert after == ("registry.example/checkout:1.6", "3")


async def test_silencing_a_service_makes_a_silence_in_alertmanager(
    remediation_bot: RemediationBot, stack: RunningStack
) -> None:
    async with remediation_bot() as bot:
        await bot.driver.slash_command("silence checkout for 2h")

        card = await approved_run(bot, "Succeeded")
    silences = await _active_silences(stack.alertmanager_url)
    assert any(
        m == {"name": "service", "value": "checkout", "isRegex": False, "isEqual": True}
        for s in silences
        for m in s["matchers"]
    )
    assert "kubernetes.rollout_status" not in card


async def test_a_scale_up_to_fewer_replicas_than_run_is_refused_when_planned(
    remediation_bot: RemediationBot,
) -> None:
    async with remediation_bot() as bot:
        await bot.driver.slash_command(
            f"{START} remediation=scale_up service=checkout namespace=shop replicas=2"
        )

        [answer] = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "shop/checkout already runs 2 replicas; scale_up needs more than that." in answer.body["text"]


async def test_scale_up_without_a_count_is_refused_beside_the_field(bot: RunningBot) -> None:
    await open_form(bot, "incident_remediation")

    response = await submit(bot, {"remediation": choice("scale_up"), "service": field("checkout")})

    assert response.json() == {
        "response_action": "errors",
        "errors": {"replicas": "Value error, scale_up needs the number of replicas to run"},
    }


async def _active_silences(alertmanager_url: str) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{alertmanager_url}/api/v2/silences") as answer,
    ):
        return [s for s in await answer.json() if s["status"]["state"] == "active"]
