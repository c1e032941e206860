import time

import pytest

from tests.harness import RunningBot


async def test_scale_command_posts_one_card_awaiting_approval(bot: RunningBot) -> None:
    response = await bot.driver.slash_command("scale checkout to 5 in shop")

    assert response.status == 200
    rendered = await bot.card_text(1, "Awaiting approval")
    assert "plan_approve" in rendered and "'value': '1:1'" in rendered
    assert "Needs 1 approval from approver or admin (prod, medium risk)" in rendered
    assert "medium (blast radius: namespace)" in rendered


async def test_same_slash_command_delivered_twice_posts_one_card(bot: RunningBot) -> None:
    request = bot.driver.slash_command_request("scale checkout to 5 in shop")

    first, second = await request.send(), await request.send(retry_num=1)

    assert (first.status, second.status) == (200, 200)
    # Both deliveries race to insert; whichever wins, its sequence number is the plan id.
    await bot.card_text(None, "Awaiting approval")
    await bot.carapulse.runtime.supervisor.drain()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_help_lists_the_subcommands(bot: RunningBot) -> None:
    response = await bot.driver.slash_command("help")

    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "/carapulse status <plan id>" in str(body["blocks"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("make checkout faster", "I could not read a plan"),
        ("frobnicate 42", "/carapulse scale checkout to 5 in shop"),
        ("policy deploy", "is not in this version yet"),
        ("runbook", "Use `/carapulse runbook <service>`"),
        ("workflow deploy", "Use `/carapulse workflow list`"),
        ("workflow start nonesuch", "There is no workflow `nonesuch`"),
        ("workflow start scale_service name=checkout", "count: required"),
        (
            "workflow start scale_service name=checkout count=5000",
            "count: Input should be less than or equal to 1000",
        ),
        ("scale checkout to 5000", "count: Input should be less than or equal to 1000"),
        ("workflow start scale_service name=checkout count=5 count=6", "`count` is given twice"),
        ("workflow start scale_service name=checkout count=5 size=6", "size: not an input of scale_service"),
        ("workflow start scale_service name=checkout count=5 oops", "`oops` is not `name=value`"),
        ("workflow start scale_service kind=ecs name=checkout count=5", "needs its ecs_cluster"),
        ("status", "needs a plan id"),
        ("status forty-two", "is not a plan id"),
    ],
)
async def test_bad_commands_get_an_ephemeral_answer_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral"
    assert expected in response.json()["text"]
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_status_of_an_unknown_plan_says_so(bot: RunningBot) -> None:
    await bot.driver.slash_command("status 99")

    response = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "There is no plan #99" in response[0].body["text"]
    assert response[0].body["response_type"] == "ephemeral"


async def test_status_shows_the_plan_to_the_asker_only(bot: RunningBot) -> None:
    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")

    await bot.driver.slash_command("status 1")

    response = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert response[0].body["response_type"] == "ephemeral"
    assert "Awaiting approval" in str(response[0].body["blocks"])
    assert "plan_approve" not in str(response[0].body["blocks"])


@pytest.mark.parametrize(
    ("timestamp_offset", "secret"), [(0, "forged-secret"), (-600, None)], ids=["forged", "stale"]
)
async def test_unsigned_or_stale_requests_are_refused(
    bot: RunningBot, timestamp_offset: int, secret: str | None
) -> None:
    request = bot.driver.slash_command_request("scale checkout to 5 in shop")

    response = await request.send(timestamp=int(time.time()) + timestamp_offset, secret=secret)

    assert response.status == 401
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_channel_without_the_bot_is_explained_to_the_requester(bot: RunningBot) -> None:
    bot.slack.add_channel("C0999PRIVATE", "private-ops", members=["U0123ALICE1"])

    await bot.driver.slash_command("scale checkout to 5 in shop", channel="C0999PRIVATE")

    responses = await bot.slack.wait_until(lambda: bot.slack.responses)
    assert "Slack refused its card (not_in_channel)" in responses[0].body["text"]
    assert "/invite @Carapulse" in responses[0].body["text"]


async def test_command_typed_in_a_thread_puts_the_card_in_that_thread(bot: RunningBot) -> None:
    thread_ts = bot.slack.add_message("C0123OPSCHN", "checkout is slow, scaling up")

    await bot.driver.slash_command("scale checkout to 5 in shop", thread_ts=thread_ts)

    post = await bot.slack.wait_for(lambda c: c.method == "chat.postMessage" and c.ok)
    assert post.args["thread_ts"] == thread_ts
