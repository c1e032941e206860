"""secret_rotation through Slack: the start form and its inline errors, two approvals (or break-glass)
before anything rotates, a Vault KV rotation whose consumers are restarted and checked, a failed
PromQL check (real Prometheus) that writes the old version back and restarts them again, a version
that moved after planning, an override file, and AWS Secrets Manager on moto. No generated value
ever reaches Slack, the database or the logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from blocks import ids
from bot.db.models import AuditEvent, Execution, Plan, PlanStep, StepRun
from bot.playground.slack.state import BOB
from tests.fakes.moto_server import MotoServer
from tests.fakes.prometheus_stack import RunningStack
from tests.fakes.vault import FakeVault
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import (
    ERROR_RATIO,
    FAST_CHECK,
    BotWith,
    approve_typing,
    choice,
    field,
    number,
    open_form,
    submit,
)
from tests.integration.tools.aws.support import (
    create_rotatable_secret,
    create_service,
    current_secret_version,
)

CAROL = "U0123CAROL3"  # approver and admin
OLD_PASSWORD = "old-checkout-db-password"
CHECKOUT_SECRET = {"user": "checkout_app", "password": OLD_PASSWORD}
RESTART_AND_CHECK = "path=db/checkout consumers=checkout,payments namespace=shop"


@pytest.fixture
async def vault() -> AsyncIterator[FakeVault]:
    async with FakeVault() as server:
        server.put_secret("db/checkout", CHECKOUT_SECRET)
        yield server


def vault_settings(vault: FakeVault, **more: str) -> dict[str, str]:
    return {"VAULT_ADDR": vault.url, "VAULT_TOKEN": vault.root_token, **more}


def restarts(bot: RunningBot, name: str) -> int:
    """How often a Deployment's pod template changed since it was created (each restart does)."""
    return int(bot.kube.deployment("shop", name)["metadata"]["generation"]) - 1


def prepared(bot: RunningBot) -> RunningBot:
    """Carol, the second approver, known to Slack, and a second consumer beside shop/checkout."""
    bot.slack.add_user(CAROL, "carol")
    bot.kube.add_deployment("shop", "payments", replicas=2)
    return bot


async def two_approvals(bot: RunningBot, final: str, plan_id: int = 1) -> str:
    await bot.card_text(plan_id, "Awaiting approval")
    await approve_typing(bot, plan_id, user=BOB)
    await bot.card_text(plan_id, "Approvals*\\n1 of 2")
    await approve_typing(bot, plan_id, user=CAROL)
    return await bot.card_text(plan_id, final, timeout=30)


async def test_a_kv_rotation_needs_two_approvals_restarts_the_consumers_and_shows_no_value(
    bot_with: BotWith, vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with bot_with(vault_settings(vault)) as started:
        bot = prepared(started)
        await open_form(bot, "secret_rotation")
        response = await submit(
            bot,
            {
                "backend": choice("vault_kv"),
                "path": field("db/checkout"),
                "consumers": field("checkout, payments"),
                "namespace": field("shop"),
            },
        )

        assert response.status == 200 and response.body == ""
        card = await bot.card_text(1, "Awaiting approval")
        assert "*Workflow*\\nsecret_rotation 1" in card
        assert "*Risk*\\nhigh" in card
        assert "Needs 2 approvals from approver or admin, or break-glass" in card
        assert (
            '`{"expected_version": 1, "generate": {"password": {"alphabet": "alphanumeric", "length": 32}}, '
            '"keep_other_keys": true, "mount": "secret", "path": "db/checkout"}`'
        ) in card
        assert "*Rollback:* Write version 1 of secret/db/checkout back as a new version" in card
        await approve_typing(bot, user=BOB)
        one = await bot.card_text(1, "Approvals*\\n1 of 2")
        assert "Awaiting approval" in one
        assert vault.secret("db/checkout").current_version == 1
        assert restarts(bot, "checkout") == 0

        await approve_typing(bot, user=CAROL)
        final = await bot.card_text(1, "Succeeded", timeout=30)

        rotated = vault.secret("db/checkout").versions[2].data
        assert rotated["user"] == "checkout_app"
        assert len(rotated["password"]) == 32 and rotated["password"] != OLD_PASSWORD
        assert (
            "wrote version 2 of secret/db/checkout (2 keys: 1 generated, 1 kept, replacing version 1)"
            in final
        )
        assert (restarts(bot, "checkout"), restarts(bot, "payments")) == (1, 1)
        assert "rollout of shop/payments finished" in final
        await assert_nowhere(bot, caplog, rotated["password"])


async def test_a_failed_check_writes_the_old_version_back_and_restarts_the_consumers_again(
    bot_with: BotWith, vault: FakeVault, stack: RunningStack
) -> None:
    settings = vault_settings(vault, PROMETHEUS_URL=stack.prometheus_url)
    async with bot_with(settings, files={"prod/secret_rotation.yaml": FAST_CHECK}) as started:
        bot = prepared(started)
        await bot.driver.slash_command(
            f"workflow start secret_rotation path=db/checkout consumers=checkout namespace=shop "
            f"check='{ERROR_RATIO} < 0.01'"
        )

        final = await two_approvals(bot, "Rolled back")

    assert "checkout check was 0.031" in final
    assert "needs &lt; 0.01" in final
    secret = vault.secret("db/checkout")
    assert secret.current_version == 3
    assert secret.versions[3].data == CHECKOUT_SECRET
    assert "restored version 1 of secret/db/checkout as version 3" in final
    assert restarts(bot, "checkout") == 2
    [restore, restart_again] = [line for line in final.split("\\n") if "[rollback]" in line]
    assert "vault.restore_secret_version" in restore
    assert "kubernetes.rollout_restart" in restart_again


async def test_wrong_inputs_are_shown_beside_their_fields_and_nothing_is_planned(
    bot_with: BotWith, vault: FakeVault
) -> None:
    async with bot_with(vault_settings(vault)) as started:
        bot = prepared(started)
        await open_form(bot, "secret_rotation")

        wrong_path = await submit(bot, {"path": field("db/../checkout")})
        aws_without_path = await submit(bot, {"backend": choice("aws"), "length": number("8")})

    assert wrong_path.json() == {
        "response_action": "errors",
        "errors": {"path": "Value error, a KV path is letters, digits and ._@+=- in segments split by /"},
    }
    assert aws_without_path.json() == {
        "response_action": "errors",
        "errors": {
            "path": "required",
            "length": "Input should be greater than or equal to 16",
        },
    }
    assert bot.slack.calls_to("chat.postMessage") == []
    assert [r.path for r in vault.requests] == []


async def test_a_version_written_after_planning_stops_the_rotation_before_any_restart(
    bot_with: BotWith, vault: FakeVault
) -> None:
    async with bot_with(vault_settings(vault)) as started:
        bot = prepared(started)
        await bot.driver.slash_command(f"workflow start secret_rotation {RESTART_AND_CHECK}")
        await bot.card_text(1, "Awaiting approval")
        vault.put_secret("db/checkout", {"user": "checkout_app", "password": "set-by-hand-meanwhile"})

        final = await two_approvals(bot, "Failed")

    assert (
        "secret/db/checkout version changed since the plan was made (pinned 1, now 2); make a new plan"
        in final
    )
    assert vault.secret("db/checkout").current_version == 2
    assert (restarts(bot, "checkout"), restarts(bot, "payments")) == (0, 0)


async def test_an_override_file_changes_the_mount_keys_and_a_step(
    bot_with: BotWith, vault: FakeVault
) -> None:
    override = (
        "version: 2-prod\n"
        "defaults: {mount: apps, keys: db_password, length: 48, alphabet: hex}\n"
        "steps:\n  ready:\n    args: {timeout_seconds: 120}\n"
    )
    vault.put_secret("db/checkout", {"db_password": OLD_PASSWORD, "db_user": "checkout_app"}, mount="apps")
    async with bot_with(vault_settings(vault), files={"prod/secret_rotation.yaml": override}) as started:
        bot = prepared(started)
        await bot.driver.slash_command("rotate secret db/checkout and restart checkout in shop")

        card = await bot.card_text(1, "Awaiting approval")
        assert "secret_rotation 2-prod (prod/secret_rotation.yaml)" in card
        assert '"timeout_seconds": 120' in card
        await two_approvals(bot, "Succeeded")

    rotated = vault.secret("db/checkout", mount="apps").versions[2].data
    assert rotated["db_user"] == "checkout_app"
    assert len(rotated["db_password"]) == 48 and set(rotated["db_password"]) <= set("0123456789abcdef")
    assert vault.secret("db/checkout").current_version == 1


async def test_break_glass_runs_a_rotation_with_one_approval(bot_with: BotWith, vault: FakeVault) -> None:
    reason = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "key leaked"}}}
    async with bot_with(vault_settings(vault)) as started:
        bot = prepared(started)
        await bot.driver.slash_command("rotate secret db/checkout and restart checkout in shop")
        await bot.card_text(1, "Awaiting approval")
        await approve_typing(bot, user=BOB)
        await bot.card_text(1, "Approvals*\\n1 of 2")

        await bot.driver.block_action(ids.PLAN_BREAK_GLASS, "1", user=CAROL)
        await bot.slack.wait_until(lambda: ids.BREAK_GLASS_MODAL in str(bot.slack.views))
        accepted = await bot.driver.view_submission(ids.BREAK_GLASS_MODAL, reason, user=CAROL)

        assert accepted.status == 200
        final = await bot.card_text(1, "Succeeded", timeout=30)
    assert "Break-glass by" in final and "key leaked" in final
    assert vault.secret("db/checkout").current_version == 2
    assert restarts(bot, "checkout") == 1


async def test_a_database_role_rotation_says_it_cannot_be_undone_and_restarts_once(
    bot_with: BotWith, vault: FakeVault
) -> None:
    vault.add_static_role("orders-app", db_name="orders", username="orders_app")
    before = vault.static_roles["orders-app"]["last_vault_rotation"]
    async with bot_with(vault_settings(vault)) as started:
        bot = prepared(started)
        await bot.driver.slash_command("rotate database role orders-app and restart checkout in shop")

        card = await bot.card_text(1, "Awaiting approval")
        assert "*Risk*\\nhigh" in card
        assert "*Rollback:* None for the rotation: the database no longer accepts the old password" in card
        final = await two_approvals(bot, "Succeeded")

    assert vault.static_roles["orders-app"]["last_vault_rotation"] != before
    assert "rotated the password of static role database/orders-app (user orders_app on orders)" in final
    assert restarts(bot, "checkout") == 1


async def test_an_aws_rotation_waits_for_the_new_version_then_restarts_the_ecs_services(
    bot_with: BotWith, moto: MotoServer
) -> None:
    create_rotatable_secret(moto, "shop/db-password", OLD_PASSWORD)
    create_service(moto, desired_count=0)
    moto.client("ecs").update_service(cluster="shop", service="checkout", desiredCount=2)
    before = current_secret_version(moto, "shop/db-password")
    async with bot_with(moto.environ()) as started:
        bot = prepared(started)
        await bot.driver.slash_command(
            "workflow start secret_rotation backend=aws path=shop/db-password "
            "consumer_kind=ecs consumers=checkout ecs_cluster=shop"
        )

        card = await bot.card_text(1, "Awaiting approval")
        assert "Plan #1: rotate AWS secret shop/db-password, restart checkout (shop)" in card
        assert f'"expected_version_id": "{before}"' in card
        assert "*Rollback:* None for the rotation: the rotation function has changed the credential" in card
        final = await two_approvals(bot, "Succeeded")

    after = current_secret_version(moto, "shop/db-password")
    assert after != before
    assert f"rotation of secret shop/db-password finished, version {after} is AWSCURRENT" in final
    assert "restarted ECS service shop/checkout: new deployment" in final
    assert "ECS service shop/checkout: 2 of 2 tasks running, deployment finished" in final


async def assert_nowhere(bot: RunningBot, caplog: pytest.LogCaptureFixture, value: str) -> None:
    """`value` is in no Slack call or response, no row the bot stored, and no log line."""
    slack = [*bot.slack.calls, *bot.slack.responses]
    assert slack and not [entry for entry in slack if value in str(entry)]
    async with bot.carapulse.runtime.sessions() as session:
        for model in (Plan, PlanStep, Execution, StepRun, AuditEvent):
            rows = (await session.scalars(select(model))).all()
            assert rows, model
            assert not [row for row in rows if value in str(_columns(row))], model
    assert caplog.records and value not in caplog.text


def _columns(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}
