"""`/carapulse audit`: search with filters and paging buttons, export to a DM (CSV and JSON Lines read
back), and verify, as Slack drives them; the policy decides who may do each."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from blocks import ids
from bot import audit, audit_search
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import AuditEvent
from bot.playground.slack.state import ALICE, BOB
from bot.playground.slack.web_api import FakeSlack
from tests.harness import RunningBot, running_bot
from tests.tampering import drop_append_only_guard

CAROL = "U0123CAROL3"  # approver and admin
VIEWER = "U0123VIEWR4"  # in no role
TEAM = "T0123ABCDEF"


def people(slack: FakeSlack) -> None:
    slack.add_user(CAROL, "carol")
    slack.add_user(VIEWER, "vic")


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(database_url=database_url, tmp_path=tmp_path, prepare_slack=people) as running:
        yield running


async def record(
    bot: RunningBot, count: int, *, actor: str = BOB, kind: AuditKind = AuditKind.FREEZE_STARTED
) -> None:
    async with bot.carapulse.runtime.sessions.begin() as session:
        for n in range(count):
            await audit.record(session, team_id=TEAM, actor_id=actor, kind=kind, detail={"n": n})


async def answer(bot: RunningBot, text: str, *, user: str = ALICE) -> dict[str, Any]:
    """The ephemeral answer the command posts to its response_url after the ack."""
    seen = len(bot.slack.responses)
    response = await bot.driver.slash_command(text, user=user)
    assert response.status == 200
    responses = await bot.slack.wait_until(lambda: bot.slack.responses[seen:])
    return responses[0].body


def lines(body: dict[str, Any]) -> list[str]:
    return body["blocks"][0]["text"]["text"].split("\n")[1:]


def button(body: dict[str, Any], action_id: str) -> str | None:
    for block in body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element["value"]
    return None


async def test_search_pages_newest_first_with_buttons(bot: RunningBot) -> None:
    await record(bot, 20)

    first = await answer(bot, "audit freeze")
    assert first["response_type"] == "ephemeral"
    assert len(lines(first)) == 15
    assert all("freeze.started" in line and f"<@{BOB}>" in line for line in lines(first))
    older = button(first, ids.AUDIT_OLDER)
    assert older is not None and button(first, ids.AUDIT_NEWEST) is None

    seen = len(bot.slack.responses)
    await bot.driver.block_action(ids.AUDIT_OLDER, older, user=ALICE)
    second = (await bot.slack.wait_until(lambda: bot.slack.responses[seen:]))[0].body
    assert second["replace_original"] is True
    assert len(lines(second)) == 5
    assert button(second, ids.AUDIT_OLDER) is None and button(second, ids.AUDIT_NEWEST) is not None


async def test_pages_hold_every_event_once_in_order(bot: RunningBot) -> None:
    await record(bot, 20)
    async with bot.carapulse.runtime.sessions() as session:
        found, before = [], None
        while True:
            page = await audit_search.search(
                session, team_id=TEAM, audit_filter=audit_search.AuditFilter(), before=before, page_size=6
            )
            found += [entry.detail["n"] for entry in page.entries]
            if page.older is None:
                break
            before = audit_search.from_token(page.older)[1]
    assert found == list(range(19, -1, -1))


async def test_filters_by_plan_user_action_and_time(bot: RunningBot) -> None:
    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.card_text(1, "Succeeded")
    await record(bot, 2, actor=CAROL)

    by_plan = lines(await answer(bot, "audit #1"))
    assert [line.split("*")[1] for line in by_plan][-2:] == ["plan.approved", "plan.created"]
    assert all("plan #1" in line for line in by_plan)
    approved = lines(await answer(bot, f"audit <@{BOB}|bob> plan.approved"))
    assert len(approved) == 1 and "allow" in approved[0]
    assert len(lines(await answer(bot, f"audit {CAROL}"))) == 2
    steps = lines(await answer(bot, "audit step since 1h"))
    assert steps and all(
        ".step." not in line and "*step." in line and "execution 1" in line for line in steps
    )
    assert lines(await answer(bot, "audit since 2099-01-01")) == ["Nothing matches."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("audit frobnicate", "I cannot search for `frobnicate`"),
        ("audit since", "`since` needs a time"),
        ("audit since yesterday", "`yesterday` is not a time"),
        ("audit #1 #2", "Give one plan at most"),
        ("audit @bob", "`@bob` is a name"),
        ("audit export 2026-11-01", "An export needs a start and an end"),
        ("audit export 2026-13-01 2026-12-01", "`2026-13-01` is not a time"),
        ("audit export 2026-11-05 2026-11-01", "after it ends"),
    ],
)
async def test_bad_audit_commands_are_answered_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert response.json()["response_type"] == "ephemeral"
    assert expected in response.json()["text"]


async def test_a_page_token_that_does_not_read_back_is_refused(bot: RunningBot) -> None:
    seen = len(bot.slack.responses)
    await bot.driver.block_action(ids.AUDIT_OLDER, '{"filter": {"plan_id": "x"}}', user=ALICE)
    said = (await bot.slack.wait_until(lambda: bot.slack.responses[seen:]))[0].body
    assert "cannot be read back" in said["text"]


@pytest.mark.parametrize(
    ("text", "user", "expected"),
    [
        ("audit", VIEWER, "Denied: searching the audit log needs the operator, approver or admin role"),
        ("audit export 7d 1h", ALICE, "Denied: exporting the audit log needs the admin role"),
        ("audit verify", BOB, "Denied: verifying the audit log needs the admin role"),
    ],
)
async def test_the_policy_decides_who_may_read_export_and_verify(
    bot: RunningBot, text: str, user: str, expected: str
) -> None:
    assert expected in (await answer(bot, text, user=user))["text"]
    assert bot.slack.uploaded_files == []


async def test_export_sends_csv_and_json_lines_to_the_requesters_dm(bot: RunningBot) -> None:
    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")
    await record(bot, 1200, actor=CAROL)
    today = utcnow().date()

    said = await answer(bot, f"audit export {today - timedelta(days=1)} {today}", user=CAROL)

    assert "I sent you 1201 audit events" in said["text"]
    files = {file.name.rsplit(".", 1)[1]: file for file in bot.slack.uploaded_files}
    assert files.keys() == {"csv", "jsonl"}
    dm = bot.slack.workspace.channels[files["csv"].channel or ""]
    assert dm.kind == "im" and CAROL in dm.members
    rows = list(csv.DictReader(io.StringIO(files["csv"].content.decode())))
    records = [json.loads(line) for line in files["jsonl"].content.decode().splitlines()]
    assert len(rows) == len(records) == 1201
    assert (
        [int(row["id"]) for row in rows]
        == [record["id"] for record in records]
        == sorted(r["id"] for r in records)
    )
    created = records[0]
    assert (created["action"], created["plan_id"], created["actor_id"], created["decision"]) == (
        "plan.created",
        1,
        ALICE,
        "allow",
    )
    assert created["reasons"] == ["Needs 1 approval from approver or admin (prod, medium risk)"]
    assert json.loads(rows[0]["reasons"]) == created["reasons"]
    assert json.loads(rows[0]["detail"]) == created["detail"]
    assert {row["team_id"] for row in rows} == {TEAM}
    assert rows[-1]["hash"] == records[-1]["hash"] and len(rows[-1]["prev_hash"]) == 64


async def test_an_export_of_an_empty_range_sends_nothing(bot: RunningBot) -> None:
    said = await answer(bot, "audit export 2020-01-01 2020-01-02", user=CAROL)

    assert "There are no audit events" in said["text"]
    assert bot.slack.uploaded_files == []


async def test_verify_in_slack_reports_the_first_break(bot: RunningBot) -> None:
    await record(bot, 3)
    assert (
        "The audit log verifies: 3 events in 1 streams"
        in (await answer(bot, "audit verify", user=CAROL))["text"]
    )

    sessions = bot.carapulse.runtime.sessions
    await drop_append_only_guard(sessions)
    async with sessions.begin() as session:
        await session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor_id="U0000MALLORY"))

    said = (await answer(bot, "audit verify", user=CAROL))["text"]
    assert "The audit log is broken after checking 1 events: stream team, event 2 (id 2)" in said
    assert "its content does not match its hash" in said


async def test_an_export_slack_refuses_says_why(bot: RunningBot) -> None:
    await record(bot, 2)
    bot.slack.fail_next("files.getUploadURLExternal", "file_uploads_disabled", status=200)
    today = utcnow().date()

    said = await answer(bot, f"audit export {today} {today}", user=CAROL)

    assert "Slack refused the file (file_uploads_disabled)" in said["text"]
    assert bot.slack.uploaded_files == []
