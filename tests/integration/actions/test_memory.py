import json

import pytest

from blocks import ids
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from tests.harness import RunningBot


def _input(value: str) -> dict:
    return {ids.FIELD_INPUT: {"type": "plain_text_input", "value": value}}


async def _answer(bot: RunningBot, count: int = 1) -> dict:
    responses = await bot.slack.wait_until(lambda: len(bot.slack.responses) >= count and bot.slack.responses)
    return responses[count - 1].body


async def test_added_note_is_listed_and_shown_on_the_services_plan_cards(bot: RunningBot) -> None:
    await bot.driver.slash_command("memory add checkout never scale below 3 in prod")
    added = await _answer(bot)

    await bot.driver.slash_command("scale checkout to 5 in shop")
    card = await bot.card_text(1, "never scale below 3 in prod")

    assert "Noted." in added["text"] and added["response_type"] == "ephemeral"
    assert "<@U0123ALICE1>" in card


async def test_list_pages_with_buttons_that_replace_the_answer(bot: RunningBot) -> None:
    for n in range(12):
        await bot.driver.slash_command(f"memory add checkout note number {n}")
        await _answer(bot, n + 1)

    await bot.driver.slash_command("memory list checkout")
    first = await _answer(bot, 13)
    next_button = next(
        element
        for block in first["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].endswith("_next")
    )
    await bot.driver.block_action(next_button["action_id"], next_button["value"], user=ALICE)
    second = await _answer(bot, 14)

    assert json.loads(next_button["value"]) == {"service": "checkout", "page": 1}
    assert "note number 11" in str(first["blocks"]) and "note number 1 " not in str(first["blocks"])
    assert second["replace_original"] is True
    assert "note number 1 " in str(second["blocks"]) and "note number 0" in str(second["blocks"])
    assert "note number 2" not in str(second["blocks"])


async def test_search_and_delete(bot: RunningBot) -> None:
    await bot.driver.slash_command("memory add payments callbacks retry for 10 minutes")
    await _answer(bot)

    await bot.driver.slash_command("memory search CALLBACKS")
    found = await _answer(bot, 2)
    await bot.driver.slash_command("memory delete 1", user=BOB)
    refused = await _answer(bot, 3)
    await bot.driver.slash_command("memory delete 1")
    deleted = await _answer(bot, 4)

    assert "callbacks retry for 10 minutes" in str(found["blocks"])
    assert "Only <@U0123ALICE1>" in refused["text"]
    assert deleted["text"] == "Deleted note 1 on payments."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("memory add Check-Out! fine", "is not a service name"),
        ("memory add checkout", "Write the note itself"),
        ("memory add checkout " + "x" * 501, "under 500 characters"),
        ("memory delete twelve", "needs a note id"),
        ("memory forget checkout", "Use `/carapulse memory add"),
        ("memory list Not A Service", "is not a service name"),
    ],
)
async def test_bad_memory_commands_are_answered_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert response.json()["response_type"] == "ephemeral"
    assert expected in response.json()["text"]


async def test_message_shortcut_opens_a_prefilled_modal_that_saves_the_note(bot: RunningBot) -> None:
    ts = bot.slack.add_message(OPS_CHANNEL, "checkout  must never go below 3 replicas", user=BOB)

    response = await bot.driver.message_shortcut(ids.MEMORY_SHORTCUT, message_ts=ts)
    opened = await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    view = opened.args["view"]
    note_field = next(b for b in view["blocks"] if b["block_id"] == ids.MEMORY_TEXT_BLOCK)
    submitted = await bot.driver.view_submission(
        ids.MEMORY_ADD_MODAL,
        {
            ids.MEMORY_SERVICE_BLOCK: _input("checkout"),
            ids.MEMORY_TEXT_BLOCK: _input(note_field["element"]["initial_value"]),
        },
        user=ALICE,
    )
    told = await bot.slack.wait_for(lambda c: c.method == "chat.postEphemeral" and c.ok)

    assert response.status == 200 and submitted.status == 200 and submitted.body == ""
    assert note_field["element"]["initial_value"] == "checkout must never go below 3 replicas"
    assert told.args["channel"] == OPS_CHANNEL and told.args["user"] == ALICE
    assert "checkout must never go below 3 replicas" in told.args["text"]
    await bot.driver.slash_command("memory list")
    listed = await _answer(bot)
    assert "must never go below 3 replicas" in str(listed["blocks"])


@pytest.mark.parametrize(
    ("service", "text", "block", "message"),
    [
        ("", "a note", ids.MEMORY_SERVICE_BLOCK, "is not a service name"),
        ("Check Out", "a note", ids.MEMORY_SERVICE_BLOCK, "is not a service name"),
        ("checkout", "  ", ids.MEMORY_TEXT_BLOCK, "Write the note itself"),
    ],
)
async def test_memory_modal_refuses_bad_fields_beside_them(
    bot: RunningBot, service: str, text: str, block: str, message: str
) -> None:
    await bot.driver.slash_command("memory add")
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)

    response = await bot.driver.view_submission(
        ids.MEMORY_ADD_MODAL,
        {ids.MEMORY_SERVICE_BLOCK: _input(service), ids.MEMORY_TEXT_BLOCK: _input(text)},
        user=ALICE,
    )

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and message in answer["errors"][block]
    await bot.carapulse.runtime.supervisor.drain()
    assert bot.slack.calls_to("chat.postEphemeral") == []
