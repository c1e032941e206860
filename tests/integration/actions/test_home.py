import json
from typing import Any

from blocks import ids
from bot import plans
from bot.domain import Actor
from bot.playground.slack.state import ALICE, BOB
from tests.builders import POLICY, restart_draft
from tests.harness import RunningBot


def _input(value: str) -> dict:
    return {ids.FIELD_INPUT: {"type": "plain_text_input", "value": value}}


async def _home(bot: RunningBot, user: str, condition: Any = None) -> str:
    """The user's published home as text, once `condition(text)` holds."""

    def published() -> str | None:
        home = bot.slack.home_views.get(user)
        text = json.dumps(home) if home else None
        return text if text and (condition is None or condition(text)) else None

    return await bot.slack.wait_until(published)


async def _plan(bot: RunningBot, n: int = 1) -> None:
    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(n, "Awaiting approval")


async def test_opening_the_home_publishes_every_section(bot: RunningBot) -> None:
    response = await bot.driver.home_opened(user=ALICE)

    home = await _home(bot, ALICE)
    publish = bot.slack.calls_to("views.publish")[0]
    assert response.status == 200 and publish.ok and publish.args["user_id"] == ALICE
    for heading in (
        "Waiting for your approval",
        "Running",
        "Your recent plans",
        "Freezes and maintenance windows",
        "Coming up",
        "Schedules",
        "Runbooks",
        "Playbooks",
        "Operator memory",
    ):
        assert f"*{heading}*" in home


async def test_a_plan_waiting_for_me_is_approved_from_the_home_which_then_moves_it(bot: RunningBot) -> None:
    await _plan(bot)
    await bot.driver.home_opened(user=BOB)
    await _home(bot, BOB, lambda text: "home_pending_1" in text)

    await bot.driver.home_action(ids.PLAN_APPROVE, "1", user=BOB)

    await bot.card_text(1, "Succeeded", timeout=30)
    home = await _home(bot, BOB, lambda text: "home_pending_1" not in text)
    assert "Nothing here." in home
    await bot.driver.home_opened(user=ALICE)
    await _home(bot, ALICE, lambda text: "*#1* scale" in text and "Succeeded" in text)


async def test_a_refused_click_on_the_home_is_told_on_the_home(bot: RunningBot) -> None:
    await _plan(bot)
    await bot.driver.home_opened(user=BOB)
    await _home(bot, BOB, lambda text: "home_pending_1" in text)

    await bot.driver.home_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.driver.home_action(ids.PLAN_APPROVE, "1", user=BOB)

    await _home(bot, BOB, lambda text: ":information_source:" in text and "nothing to approve" in text)


async def test_reject_from_the_home_opens_the_reason_modal(bot: RunningBot) -> None:
    await _plan(bot)
    await bot.driver.home_opened(user=BOB)
    await _home(bot, BOB, lambda text: "home_pending_1" in text)

    await bot.driver.home_action(ids.PLAN_REJECT, "1", user=BOB)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    await bot.driver.view_submission(
        ids.REJECT_MODAL,
        {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "not now"}}},
    )

    await bot.card_text(1, "Rejected by <@U0123BOBBY2>: not now")
    await _home(bot, BOB, lambda text: "home_pending_1" not in text)


async def test_each_section_pages_with_its_buttons(bot: RunningBot) -> None:
    for n in range(1, 8):
        await _plan(bot, n)
    await bot.driver.home_opened(user=BOB)
    first = await _home(bot, BOB, lambda text: "home_pending_7" in text)

    await bot.driver.home_action(
        f"{ids.HOME_PAGE}_next", json.dumps({"section": "pending", "page": 1}), user=BOB
    )
    second = await _home(bot, BOB, lambda text: "home_pending_2" in text)

    assert [f"home_pending_{n}" in first for n in range(1, 8)] == [False, False, True, True, True, True, True]
    assert [f"home_pending_{n}" in second for n in range(1, 8)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert "page 2" in second and f"{ids.HOME_PAGE}_previous" in second


async def test_the_home_shows_nothing_of_another_workspace(bot: RunningBot) -> None:
    other = Actor(team_id="T0999OTHER9", user_id=ALICE)
    async with bot.carapulse.runtime.sessions.begin() as session:
        await plans.submit(
            session, requester=other, channel_id="C9", source_key="k", draft=restart_draft(), policy=POLICY
        )
    await bot.driver.slash_command('schedule add "0 9 * * *" pods of checkout in shop', team_id="T0999OTHER9")
    await bot.slack.wait_until(lambda: bot.slack.responses)

    await bot.driver.home_opened(user=BOB)
    home = await _home(bot, BOB)

    assert "rollout restart" not in home and "#1*" not in home and "pods of checkout" not in home


async def test_the_home_is_republished_when_a_schedule_is_made(bot: RunningBot) -> None:
    await bot.driver.home_opened(user=BOB)
    await _home(bot, BOB)

    await bot.driver.slash_command('schedule add "0 9 * * *" pods of checkout in shop')

    home = await _home(bot, BOB, lambda text: "pods of checkout in shop" in text)
    assert "schedule #1" in home and ids.SCHEDULE_RUN in home


async def test_a_note_added_from_the_home_is_confirmed_and_listed_there(bot: RunningBot) -> None:
    await bot.driver.home_opened(user=ALICE)
    await _home(bot, ALICE)

    await bot.driver.home_action(ids.HOME_MEMORY_ADD, "", user=ALICE)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    await bot.driver.view_submission(
        ids.MEMORY_ADD_MODAL,
        {ids.MEMORY_SERVICE_BLOCK: _input("checkout"), ids.MEMORY_TEXT_BLOCK: _input("never below 3")},
        user=ALICE,
    )

    home = await _home(bot, ALICE, lambda text: "Noted." in text)
    assert ":memo: *checkout*: never below 3" in home


async def test_notes_are_searched_in_a_modal_opened_from_the_home(bot: RunningBot) -> None:
    await bot.driver.slash_command("memory add checkout callbacks retry for ten minutes")
    await bot.slack.wait_until(lambda: bot.slack.responses)
    await bot.driver.home_opened(user=ALICE)
    await _home(bot, ALICE)

    await bot.driver.home_action(ids.HOME_MEMORY_SEARCH, "", user=ALICE)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    too_short = await bot.driver.view_submission(
        ids.MEMORY_SEARCH_MODAL, {ids.MEMORY_QUERY_BLOCK: _input("c")}, user=ALICE
    )
    searching = await bot.driver.view_submission(
        ids.MEMORY_SEARCH_MODAL, {ids.MEMORY_QUERY_BLOCK: _input("RETRY")}, user=ALICE
    )
    updated = await bot.slack.wait_for(lambda c: c.method == "views.update" and c.ok)

    assert too_short.json()["errors"] == {ids.MEMORY_QUERY_BLOCK: "Search for at least 2 characters."}
    assert searching.json()["response_action"] == "update"
    assert "callbacks retry for ten minutes" in json.dumps(updated.args["view"])


async def test_a_runbook_opens_from_the_home_and_a_schedule_pauses_there(bot: RunningBot) -> None:
    await bot.driver.slash_command("runbook new checkout")
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    await bot.driver.view_submission(
        ids.RUNBOOK_MODAL,
        {
            ids.RUNBOOK_SERVICE_BLOCK: _input("checkout"),
            ids.RUNBOOK_TITLE_BLOCK: _input("Slow"),
            ids.RUNBOOK_BODY_BLOCK: _input("1. Look at *p99*"),
        },
        user=ALICE,
    )
    await bot.driver.slash_command('schedule add "0 9 * * *" pods of checkout in shop')
    await bot.driver.home_opened(user=ALICE)
    await _home(bot, ALICE, lambda text: "home_runbook_1" in text and ids.SCHEDULE_PAUSE in text)

    await bot.driver.home_action(ids.RUNBOOK_OPEN, "1", user=ALICE)
    opened = await bot.slack.wait_for(
        lambda c: (
            c.method == "views.open" and c.ok and c.args["view"]["callback_id"] == ids.RUNBOOK_VIEW_MODAL
        )
    )
    await bot.driver.home_action(ids.SCHEDULE_PAUSE, "1", user=ALICE)

    assert {"type": "markdown", "text": "1. Look at *p99*"} in opened.args["view"]["blocks"]
    home = await _home(bot, ALICE, lambda text: "Paused schedule #1." in text)
    assert ids.SCHEDULE_RESUME in home and "paused" in home


async def test_a_playbook_started_from_the_home_asks_where_its_card_goes(bot: RunningBot) -> None:
    definition = (
        "target: {service: checkout, namespace: shop}\n"
        "steps:\n  - {action: kubernetes.rollout_restart, args: {namespace: shop, name: checkout}, "
        "description: Restart checkout}\n"
    )
    await bot.driver.slash_command("playbook new")
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    await bot.driver.view_submission(
        ids.PLAYBOOK_MODAL,
        {ids.PLAYBOOK_NAME_BLOCK: _input("restart"), ids.PLAYBOOK_DEFINITION_BLOCK: _input(definition)},
        user=ALICE,
    )
    await bot.driver.home_opened(user=ALICE)
    await _home(bot, ALICE, lambda text: ids.PLAYBOOK_START in text)

    await bot.driver.home_action(ids.PLAYBOOK_START, "restart", user=ALICE)
    form = await bot.slack.wait_for(
        lambda c: (
            c.method == "views.open" and c.ok and c.args["view"]["callback_id"] == ids.PLAYBOOK_START_MODAL
        )
    )
    unchosen = await bot.driver.view_submission(ids.PLAYBOOK_START_MODAL, {}, user=ALICE)
    chosen = {
        ids.CHANNEL_BLOCK: {
            ids.FIELD_INPUT: {"type": "conversations_select", "selected_conversation": "C0123OPSCHN"}
        }
    }
    await bot.driver.view_submission(ids.PLAYBOOK_START_MODAL, chosen, user=ALICE)

    assert [b.get("block_id") for b in form.args["view"]["blocks"]][-1] == ids.CHANNEL_BLOCK
    assert list(unchosen.json()["errors"]) == [ids.CHANNEL_BLOCK]
    card = await bot.card_text(1, "Awaiting approval")
    assert "playbook:restart" in card
    post = next(c for c in bot.slack.calls_to("chat.postMessage") if c.args["text"].startswith("Plan #1"))
    assert post.args["channel"] == "C0123OPSCHN"
