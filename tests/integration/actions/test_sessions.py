"""Change sessions through Slack: `/carapulse session …`, the start and members modals, the message
shortcut that makes a thread a session, the buttons on a session's message, plans linked to the
session, and the timeline posted when it ends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from blocks import ids
from blocks.sessions import role_block
from bot.audit import AuditKind
from bot.db.models import AuditEvent
from bot.db.session_models import ChangeSession, ChangeSessionPlan
from bot.domain import SessionRole
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from tests.harness import RunningBot
from tests.integration.actions.model_support import mention

CAROL = "U0123CAROL3"
SCALE = "scale checkout to 5 in shop"


def _name(value: str) -> dict[str, Any]:
    return {ids.FIELD_INPUT: {"type": "plain_text_input", "value": value}}


def _lead(user_id: str | None) -> dict[str, Any]:
    return {ids.FIELD_INPUT: {"type": "users_select", "selected_user": user_id}}


def _many(*user_ids: str) -> dict[str, Any]:
    return {ids.FIELD_INPUT: {"type": "multi_users_select", "selected_users": list(user_ids)}}


def _roles(lead: str | None = ALICE, **others: list[str]) -> dict[str, Any]:
    values = {role_block(SessionRole.LEAD): _lead(lead)}
    for role in SessionRole:
        if role != SessionRole.LEAD:
            values[role_block(role)] = _many(*others.get(role.value, []))
    return values


async def _bot_message(bot: RunningBot, expected: str, *, thread_ts: str | None = None) -> dict[str, Any]:
    """The bot's newest message in the ops channel (in `thread_ts` when given) containing `expected`."""

    def posted() -> dict[str, Any] | None:
        found = [
            message
            for message in bot.slack.messages.get(OPS_CHANNEL, {}).values()
            if message.get("bot_id")
            and expected in str(message)
            and (thread_ts is None or message.get("thread_ts") == thread_ts)
        ]
        return found[-1] if found else None

    return await bot.slack.wait_until(posted)


async def _answer(bot: RunningBot, count: int = 1) -> dict[str, Any]:
    responses = await bot.slack.wait_until(lambda: len(bot.slack.responses) >= count and bot.slack.responses)
    return responses[count - 1].body


async def _started(bot: RunningBot, name: str = "checkout db migration") -> dict[str, Any]:
    response = await bot.driver.slash_command(f"session start {name}")
    assert response.status == 200
    return await _bot_message(bot, "Change session")


async def test_start_makes_the_caller_lead_and_status_shows_it(bot: RunningBot) -> None:
    announced = await _started(bot)

    await bot.driver.slash_command("session", user=BOB)
    status = await _answer(bot)

    assert "checkout db migration" in announced["text"] and f"<@{ALICE}>" in str(announced["blocks"])
    buttons = [e["action_id"] for b in announced["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [ids.SESSION_MEMBERS, ids.SESSION_END]
    assert status["response_type"] == "ephemeral"
    assert f"*Lead:* <@{ALICE}>" in str(status["blocks"]) and "*Plans:* none" in str(status["blocks"])


async def test_a_second_start_in_the_channel_is_refused_naming_the_open_session(bot: RunningBot) -> None:
    await _started(bot)

    await bot.driver.slash_command("session start another one", user=BOB)
    refused = await _answer(bot)

    assert refused["response_type"] == "ephemeral"
    assert "already has an open session, *checkout db migration*" in refused["text"]
    assert await bot.count(ChangeSession) == 1


async def test_plans_made_in_the_channel_join_the_session_and_show_its_name(bot: RunningBot) -> None:
    await _started(bot)

    await bot.driver.slash_command(SCALE)
    card = await bot.card_text(1, "Awaiting approval")
    await bot.driver.slash_command("session")
    status = await _answer(bot)

    assert "*Session*\\ncheckout db migration" in card
    assert "#1 " in str(status["blocks"]) and "Awaiting approval" in str(status["blocks"])
    assert await bot.count(ChangeSessionPlan) == 1


async def test_end_posts_the_timeline_in_time_order(bot: RunningBot) -> None:
    await _started(bot)
    await bot.driver.block_action(ids.SESSION_MEMBERS, "1", user=ALICE)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    saved = await bot.driver.view_submission(
        ids.SESSION_MEMBERS_MODAL, _roles(ALICE, operator=[BOB]), user=ALICE
    )
    await _bot_message(bot, "joined as operator")
    await bot.driver.slash_command(SCALE)
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.card_text(1, "Succeeded")

    await bot.driver.slash_command("session end")
    timeline = await _bot_message(bot, "Timeline of change session")

    rendered = str(timeline["blocks"])
    order = [
        "Session “checkout db migration” started",
        f"Joined as lead (<@{ALICE}>)",
        f"Joined as operator (<@{BOB}>)",
        "Plan #1 (",
        f"plan approved (<@{BOB}>)",
        "execution succeeded",
        "Session ended",
        "Succeeded, approved by",
    ]
    assert saved.status == 200 and saved.body == ""
    assert [rendered.find(line) for line in order] == sorted(rendered.find(line) for line in order)
    assert all(line in rendered for line in order), rendered
    kinds = await _session_audit_kinds(bot)
    assert kinds == [
        AuditKind.SESSION_STARTED,
        AuditKind.SESSION_MEMBER_JOINED,
        AuditKind.SESSION_MEMBER_JOINED,
        AuditKind.SESSION_PLAN_LINKED,
        AuditKind.SESSION_ENDED,
    ]
    await bot.driver.slash_command("session start the next one")
    assert "the next one" in (await _bot_message(bot, "the next one"))["text"]


async def test_end_without_an_open_session_says_how_to_start_one(bot: RunningBot) -> None:
    await bot.driver.slash_command("session end")

    answer = await _answer(bot)

    assert answer["response_type"] == "ephemeral"
    assert "No change session is open here" in answer["text"] and "session start <name>" in answer["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("session frobnicate", "Use `/carapulse session`"),
        ("session end now", "Use `/carapulse session`"),
        ("session start " + "x" * 81, "at most 80 characters"),
        ("session add @bob operator", "Pick people in the form"),
        ("session status please", "Use `/carapulse session`"),
    ],
)
async def test_bad_session_commands_are_answered_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert response.json()["response_type"] == "ephemeral"
    assert expected in response.json()["text"]
    assert await bot.count(ChangeSession) == 0


async def test_start_without_a_name_opens_the_form_which_starts_it_with_its_members(bot: RunningBot) -> None:
    await bot.driver.slash_command("session start")
    opened = await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    lead = next(b for b in opened.args["view"]["blocks"] if b["block_id"] == role_block(SessionRole.LEAD))

    submitted = await bot.driver.view_submission(
        ids.SESSION_START_MODAL,
        {ids.SESSION_NAME_BLOCK: _name("  payments  failover "), **_roles(BOB, scribe=[ALICE])},
        user=ALICE,
    )
    announced = await _bot_message(bot, "Change session")

    assert lead["element"]["initial_user"] == ALICE
    assert submitted.status == 200 and submitted.body == ""
    assert "“payments failover”" in announced["text"]
    assert f"*Lead:* <@{BOB}>" in str(announced["blocks"]) and f"*Scribes:* <@{ALICE}>" in str(
        announced["blocks"]
    )


@pytest.mark.parametrize(
    ("values", "block", "message"),
    [
        ({ids.SESSION_NAME_BLOCK: _name("   "), **_roles()}, ids.SESSION_NAME_BLOCK, "Name the session"),
        ({ids.SESSION_NAME_BLOCK: _name("x" * 81), **_roles()}, ids.SESSION_NAME_BLOCK, "at most 80"),
        ({ids.SESSION_NAME_BLOCK: _name("db"), **_roles(None)}, role_block(SessionRole.LEAD), "needs a lead"),
        (
            {ids.SESSION_NAME_BLOCK: _name("db"), **_roles(ALICE, observer=[BOB, ALICE])},
            role_block(SessionRole.OBSERVER),
            f"<@{ALICE}> is already a lead",
        ),
    ],
)
async def test_start_form_refuses_bad_fields_beside_them(
    bot: RunningBot, values: dict[str, Any], block: str, message: str
) -> None:
    await bot.driver.slash_command("session start")
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)

    response = await bot.driver.view_submission(ids.SESSION_START_MODAL, values, user=ALICE)

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and message in answer["errors"][block]
    await bot.carapulse.runtime.supervisor.drain()
    assert await bot.count(ChangeSession) == 0


async def test_start_form_shows_every_refusal_at_once(bot: RunningBot) -> None:
    values = {ids.SESSION_NAME_BLOCK: _name(" "), **_roles(None, comms=[BOB], scribe=[BOB])}

    response = await bot.driver.view_submission(ids.SESSION_START_MODAL, values, user=ALICE)

    errors = response.json()["errors"]
    assert sorted(errors) == sorted([ids.SESSION_NAME_BLOCK, role_block(SessionRole.SCRIBE)])
    assert f"<@{BOB}> is already a comms" in errors[role_block(SessionRole.SCRIBE)]


async def test_only_a_lead_or_an_admin_may_set_members_or_end_the_session(bot: RunningBot) -> None:
    await _started(bot)

    await bot.driver.block_action(ids.SESSION_MEMBERS, "1", user=BOB)
    members_refused = await _answer(bot)
    await bot.driver.block_action(ids.SESSION_END, "1", user=BOB)
    end_refused = await _answer(bot, 2)
    bot.slack.add_user(CAROL, "carol")
    await bot.driver.block_action(ids.SESSION_END, "1", user=CAROL)
    timeline = await _bot_message(bot, "Timeline of change session")
    await bot.driver.block_action(ids.SESSION_END, "1", user=CAROL)
    again = await _answer(bot, 3)

    assert (
        f"Only a lead of *checkout db migration* (<@{ALICE}>) or an admin may change its members"
        in (members_refused["text"])
    )
    assert "may end it" in end_refused["text"]
    assert bot.slack.calls_to("views.open") == []
    assert f"Session ended (<@{CAROL}>)" in str(timeline["blocks"])
    assert "has already ended" in again["text"]


async def test_message_shortcut_makes_the_thread_a_session_with_its_plans_and_timeline(
    bot: RunningBot,
) -> None:
    root = bot.slack.add_message(OPS_CHANNEL, "Failing over payments to eu-west", user=BOB)
    await bot.driver.message_shortcut(ids.SESSION_SHORTCUT, message_ts=root, user=BOB)
    await bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    await bot.driver.view_submission(
        ids.SESSION_START_MODAL, {ids.SESSION_NAME_BLOCK: _name("payments failover"), **_roles(BOB)}, user=BOB
    )
    await _bot_message(bot, "Change session", thread_ts=root)

    await bot.driver.slash_command("session")
    pointed = await _answer(bot)
    await mention(bot, SCALE, thread_ts=root)
    card = await _bot_message(bot, "Awaiting approval", thread_ts=root)
    await bot.driver.slash_command("session start in the channel")
    await _bot_message(bot, "in the channel")
    await bot.driver.block_action(ids.SESSION_END, "1", user=BOB, message_ts=None)
    timeline = await _bot_message(bot, "Timeline of change session", thread_ts=root)

    assert "*Session*\\npayments failover" in str(card["blocks"])
    assert "1 thread here has a session of its own" in pointed["text"]
    assert "Session “payments failover” started" in str(timeline["blocks"])
    assert "Plan #1 (" in str(timeline["blocks"])


async def _session_audit_kinds(bot: RunningBot) -> list[str]:
    async with bot.carapulse.runtime.sessions() as session:
        kinds = await session.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind.like("session.%")).order_by(AuditEvent.id)
        )
        return list(kinds)
