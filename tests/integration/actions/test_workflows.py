"""The workflow catalog through Slack: list, show, the start form and its inline errors, key=value
starts, and an environment's override file; scale_service end to end on Kubernetes, an Auto Scaling
group and an ECS service (moto), with a PromQL check held or failed against a real Prometheus."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import ids
from bot.playground.slack.state import BOB
from tests.fakes.moto_server import MotoServer
from tests.fakes.prometheus_stack import RunningStack
from tests.harness import RunningBot
from tests.integration.actions.workflow_support import (
    ERROR_RATIO,
    FAST_CHECK,
    BotWith,
    approved_run,
    field,
    number,
    open_form,
    submit,
)
from tests.integration.tools.aws.support import create_group, create_service


async def test_workflow_list_names_every_workflow_with_its_inputs(bot: RunningBot) -> None:
    await bot.driver.slash_command("workflow list")

    [answer] = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert answer.body["response_type"] == "ephemeral"
    listed = str(answer.body["blocks"])
    assert "*scale_service* 1: Scale a Deployment, Auto Scaling group or ECS service" in listed
    assert "Inputs: [environment], [kind], name, count, [namespace]" in listed
    assert "/carapulse scale checkout to 5 in shop" in listed


async def test_workflow_show_lists_the_active_steps_of_this_environment(bot_with: BotWith) -> None:
    async with bot_with(files={"prod/scale_service.yaml": FAST_CHECK}) as bot:
        await bot.driver.slash_command("workflow show scale_service")

        [answer] = await bot.slack.wait_until(lambda: bot.slack.responses)
    shown = str(answer.body["blocks"])
    assert "*scale_service* 2-fast in prod from `prod/scale_service.yaml`" in shown
    assert "1. [act] `scale`: Set the replica, instance or task count" in shown
    assert "3. [verify] `check`: Hold the PromQL check (prometheus.query_threshold) _changed here_" in shown


async def test_the_start_form_is_generated_from_the_inputs(bot: RunningBot) -> None:
    view = await open_form(bot)

    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert view["callback_id"] == ids.WORKFLOW_START_MODAL
    assert blocks["kind"]["element"]["type"] == "static_select"
    assert [o["value"] for o in blocks["kind"]["element"]["options"]] == ["deployment", "asg", "ecs"]
    assert blocks["kind"]["element"]["initial_option"]["value"] == "deployment"
    assert blocks["count"]["element"] == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
    }
    assert blocks["count"]["optional"] is False
    assert blocks["environment"]["element"]["initial_value"] == "prod"
    assert blocks["check"]["optional"] is True


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"name": field("checkout")}, {"count": "required"}),
        (
            {"name": field("checkout"), "count": number("5000")},
            {"count": "Input should be less than or equal to 1000"},
        ),
        (
            {"name": field("Check_Out"), "count": number("3")},
            {"name": "Value error, a Deployment name is lower-case letters, digits and dashes"},
        ),
        (
            {"name": field("checkout"), "count": number("3"), "check": field("error rate is fine")},
            {
                "check": "Value error, write it as <PromQL> <comparator> <number>, "
                "e.g. sum(rate(http_errors_total[5m])) < 1"
            },
        ),
    ],
)
async def test_wrong_inputs_are_shown_beside_their_fields_and_nothing_is_planned(
    bot: RunningBot, values: dict[str, Any], errors: dict[str, str]
) -> None:
    await open_form(bot)

    response = await submit(bot, values)

    assert response.status == 200
    assert response.json() == {"response_action": "errors", "errors": errors}
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_a_form_submission_plans_runs_and_verifies_a_deployment_scale(bot: RunningBot) -> None:
    await open_form(bot)

    response = await submit(
        bot, {"name": field("checkout"), "count": number("5"), "namespace": field("shop")}
    )

    assert response.status == 200
    assert response.body == ""
    card = await bot.card_text(1, "Awaiting approval")
    assert "*Workflow*\\nscale_service 1" in card
    assert "Requested by* <@U0123ALICE1>: `workflow start scale_service (form)`" in card
    final = await approved_run(bot, "Succeeded")
    assert "kubernetes.rollout_status" in final
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5


async def test_key_value_words_start_a_workflow_without_the_form(bot: RunningBot) -> None:
    await bot.driver.slash_command("workflow start scale_service name=checkout namespace=shop count=4")

    card = await bot.card_text(1, "Awaiting approval")
    assert "`workflow start scale_service name=checkout namespace=shop count=4`" in card
    await approved_run(bot, "Succeeded")
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 4


async def test_an_override_file_changes_a_step_and_the_card_names_its_version(
    bot_with: BotWith, stack: RunningStack
) -> None:
    check = f"{ERROR_RATIO} < 0.05"
    settings = {"PROMETHEUS_URL": stack.prometheus_url}
    async with bot_with(settings, files={"prod/scale_service.yaml": FAST_CHECK}) as bot:
        await bot.driver.slash_command(
            f"workflow start scale_service name=checkout namespace=shop count=3 check='{check}'"
        )

        card = await bot.card_text(1, "Awaiting approval")
        assert "scale_service 2-fast (prod/scale_service.yaml)" in card
        assert '"window_seconds": 1' in card
        await approved_run(bot, "Succeeded")
        assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 3


async def test_a_failed_check_rolls_the_scale_back_and_says_which_value_failed(
    bot_with: BotWith, stack: RunningStack
) -> None:
    settings = {"PROMETHEUS_URL": stack.prometheus_url}
    async with bot_with(settings, files={"prod/scale_service.yaml": FAST_CHECK}) as bot:
        await bot.driver.slash_command("scale checkout to 5 in shop")
        await bot.card_text(1, "Awaiting approval")
        assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2
        await bot.driver.slash_command(
            f"workflow start scale_service name=checkout namespace=shop count=6 check='{ERROR_RATIO} < 0.01'"
        )
        await bot.card_text(2, "Awaiting approval")
        await bot.driver.block_action(ids.PLAN_APPROVE, "2", user=BOB)

        final = await bot.card_text(2, "Rolled back", timeout=30)
    assert "checkout check was 0.031" in final
    assert "needs &lt; 0.01" in final
    assert bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 2


@pytest.fixture
def aws_settings(moto: MotoServer) -> dict[str, str]:
    return moto.environ()


async def test_an_auto_scaling_group_is_scaled_and_waited_for(
    bot_with: BotWith, moto: MotoServer, aws_settings: dict[str, str]
) -> None:
    create_group(moto)
    async with bot_with(aws_settings) as bot:
        await bot.driver.slash_command("scale asg web to 4")

        card = await bot.card_text(1, "Awaiting approval")
        assert "aws.autoscaling_scale" in card and "aws.autoscaling_wait" in card
        final = await approved_run(bot, "Succeeded")
    assert "web: 4 of 4 instances in service" in final
    group = moto.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web"])
    assert group["AutoScalingGroups"][0]["DesiredCapacity"] == 4


async def test_an_ecs_service_is_scaled_and_waited_for(
    bot_with: BotWith, moto: MotoServer, aws_settings: dict[str, str]
) -> None:
    create_service(moto, desired_count=0)
    async with bot_with(aws_settings) as bot:
        await bot.driver.slash_command("scale ecs shop/checkout to 3")

        final = await approved_run(bot, "Succeeded")
    assert "ECS service shop/checkout: 3 of 3 tasks running, deployment finished" in final


async def test_an_aws_scale_without_the_aws_tool_is_explained_after_the_ack(bot: RunningBot) -> None:
    response = await bot.driver.slash_command("scale asg web to 4")

    assert response.status == 200
    [answer] = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert (
        "I cannot run aws.autoscaling_scale, aws.autoscaling_wait: aws is not configured"
        in answer.body["text"]
    )
    assert bot.slack.calls_to("chat.postMessage") == []
