import json

from blocks import ids
from bot.db.models import Approval, Execution
from bot.playground.slack.state import ALICE, BOB
from tests.harness import RunningBot

SCALE = "scale checkout to 5 in shop"


async def planned(bot: RunningBot, text: str = SCALE) -> str:
    await bot.driver.slash_command(text)
    await bot.card_text(1, "Awaiting approval")
    return "1"


async def test_requester_cannot_approve_own_plan(bot: RunningBot) -> None:
    plan_id = await planned(bot)

    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=ALICE)

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "you requested this plan" in responses[0].body["text"]
    assert responses[0].body["response_type"] == "ephemeral"
    assert await bot.count(Approval) == 0
    assert "Awaiting approval" in str(bot.card(1)["blocks"])  # type: ignore[index]


async def test_approval_by_another_user_runs_the_plan_to_success(bot: RunningBot) -> None:
    plan_id = await planned(bot)

    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)

    rendered = await bot.card_text(1, "Succeeded")
    assert "checkout replicas 2 → 5" in rendered
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    reply = await bot.slack.wait_for(lambda c: c.method == "chat.postMessage" and "thread_ts" in c.args)
    assert "succeeded" in reply.args["text"]
    assert f"<@{BOB}>" in json.dumps(reply.args["blocks"])


async def test_double_click_on_approve_creates_one_approval_and_one_execution(bot: RunningBot) -> None:
    plan_id = await planned(bot)
    request = bot.driver.block_action_request(ids.PLAN_APPROVE, plan_id, user=BOB)

    await request.send()
    await request.send()

    await bot.card_text(1, "Succeeded")
    assert await bot.count(Approval) == 1
    assert await bot.count(Execution) == 1


async def test_approve_on_a_finished_plan_is_refused(bot: RunningBot) -> None:
    plan_id = await planned(bot)
    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)
    await bot.card_text(1, "Succeeded")
    bot.slack.add_user("U0123CAROL3", "carol")

    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user="U0123CAROL3")

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "is succeeded; there is nothing to approve" in responses[-1].body["text"]


async def test_reject_asks_for_a_reason_and_ends_the_plan(bot: RunningBot) -> None:
    plan_id = await planned(bot)

    await bot.driver.block_action(ids.PLAN_REJECT, plan_id, user=BOB)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    blank = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "  "}}}
    refused = await bot.driver.view_submission(ids.REJECT_MODAL, blank, user=BOB)
    reason = {
        ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "not during the sale"}}
    }
    accepted = await bot.driver.view_submission(ids.REJECT_MODAL, reason, user=BOB)

    assert refused.json()["response_action"] == "errors"
    assert ids.REASON_BLOCK in refused.json()["errors"]
    assert accepted.status == 200 and accepted.body == ""
    rendered = await bot.card_text(1, "Rejected")
    assert "not during the sale" in rendered and "plan_approve" not in rendered
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2


async def test_cancel_by_the_requester_ends_a_waiting_plan(bot: RunningBot) -> None:
    plan_id = await planned(bot)

    await bot.driver.block_action(ids.PLAN_CANCEL, plan_id, user=ALICE)

    rendered = await bot.card_text(1, "Cancelled")
    assert f"Cancelled by <@{ALICE}>" in rendered


async def test_unknown_deployment_fails_with_a_readable_message(bot: RunningBot) -> None:
    plan_id = await planned(bot, "scale payments to 3 in shop")

    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)

    rendered = await bot.card_text(1, "Failed")
    assert "deployment shop/payments not found" in rendered


async def test_slack_500s_on_chat_update_do_not_lose_the_final_state(bot: RunningBot) -> None:
    plan_id = await planned(bot)
    bot.slack.fail_next("chat.update", status=500, times=6)

    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)

    await bot.card_text(1, "Succeeded", timeout=30)
    assert any(c.status == 500 for c in bot.slack.calls_to("chat.update"))


async def test_restart_plan_restarts_the_pods_and_waits_for_the_rollout(bot: RunningBot) -> None:
    before = bot.kube.deployment("shop", "checkout")["metadata"]["generation"]
    plan_id = await planned(bot, "restart checkout in shop")

    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)

    rendered = await bot.card_text(1, "Succeeded")
    assert "kubernetes.rollout_restart" in rendered
    deployment = bot.kube.deployment("shop", "checkout")
    assert deployment["metadata"]["generation"] == before + 1
    assert "kubectl.kubernetes.io/restartedAt" in deployment["spec"]["template"]["metadata"]["annotations"]


async def test_cancel_stops_a_running_rollout_check(bot: RunningBot) -> None:
    plan_id = await planned(bot)
    bot.kube.set_stuck("shop", "checkout", available=2)
    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)
    await bot.card_text(1, "checkout replicas 2 → 5")  # scaled; the rollout check now waits

    await bot.driver.block_action(ids.PLAN_CANCEL, plan_id, user=ALICE)

    # The stuck rollout would hold the verify step for 300 s; cancel ends it at once.
    rendered = await bot.card_text(1, "Cancelled", timeout=3)
    assert f"Cancelled by <@{ALICE}>" in rendered


async def test_a_cancelled_plan_offers_the_rollback_of_its_scale(bot: RunningBot) -> None:
    plan_id = await planned(bot)
    bot.kube.set_stuck("shop", "checkout", available=2)
    await bot.driver.block_action(ids.PLAN_APPROVE, plan_id, user=BOB)
    await bot.card_text(1, "checkout replicas 2 → 5")
    await bot.driver.block_action(ids.PLAN_CANCEL, plan_id, user=ALICE)
    rendered = await bot.card_text(1, "Cancelled", timeout=3)
    assert ids.PLAN_ROLL_BACK in rendered and "an approver may roll back" in rendered

    await bot.driver.block_action(ids.PLAN_ROLL_BACK, plan_id, user=BOB)

    rendered = await bot.card_text(1, "Rolled back")
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2
    assert ids.PLAN_ROLL_BACK not in rendered


async def test_dry_run_asks_the_cluster_and_changes_nothing(bot: RunningBot) -> None:
    plan_id = await planned(bot)

    await bot.driver.block_action(ids.PLAN_DRY_RUN, plan_id, user=BOB)

    reply = await bot.slack.wait_for(lambda c: c.method == "chat.postMessage" and "thread_ts" in c.args)
    assert "Dry run of plan #1: nothing was changed" == reply.args["text"]
    assert "dry run: checkout replicas 2 → 5" in json.dumps(reply.args["blocks"], ensure_ascii=False)
    assert any(r.query.get("dryRun") == "All" for r in bot.kube.requests if r.method == "PATCH")
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2
    assert "Awaiting approval" in str(bot.card(1)["blocks"])  # type: ignore[index]
