from datetime import UTC, datetime, timedelta

import pytest

from blocks import ids
from blocks.sessions import role_block, session_modal, session_started, session_status, timeline_messages
from blocks.timeline import SECTIONS_PER_MESSAGE
from bot.domain import PlanStatus, SessionMember, SessionPlan, SessionRole, SessionView, TimelineEntry
from bot.playground.slack.blockkit import check_blocks, check_view

STARTED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ALICE, BOB = "U0123ALICE1", "U0123BOBBY2"


def _view(**changes: object) -> SessionView:
    view = SessionView(
        id=3,
        team_id="T0123ABCDEF",
        name="checkout <!channel> migration",
        channel_id="C0123OPSCHN",
        thread_ts=None,
        started_by=ALICE,
        started_at=STARTED,
        members=[
            SessionMember(user_id=ALICE, role=SessionRole.LEAD, joined_at=STARTED, added_by=ALICE),
            SessionMember(user_id=BOB, role=SessionRole.OPERATOR, joined_at=STARTED, added_by=ALICE),
        ],
        plans=[
            SessionPlan(id=9, summary="scale checkout to 5", status=PlanStatus.SUCCEEDED, approvers=[BOB])
        ],
        plans_total=1,
    )
    return view.model_copy(update=changes)


def _entries(count: int, text: str = "x" * 150) -> list[TimelineEntry]:
    return [
        TimelineEntry(at=STARTED + timedelta(seconds=n), kind="step.finished", actor=BOB, text=f"{n} {text}")
        for n in range(count)
    ]


def test_announcement_and_status_name_the_members_by_role_and_escape_the_name() -> None:
    text, started = session_started(_view())
    _, status = session_status(_view())

    assert check_blocks(started) == [] and check_blocks(status) == []
    said = [text] + [block["text"]["text"] for block in started + status if block["type"] == "section"]
    assert not any("<!channel>" in part for part in said) and "&lt;!channel&gt;" in said[1]
    assert f"*Lead:* <@{ALICE}>" in str(started) and f"*Operators:* <@{BOB}>" in str(started)
    assert "#9 scale checkout to 5: :white_check_mark: Succeeded, approved by <@U0123BOBBY2>" in str(status)
    assert text.startswith("Change session")


def test_modals_hold_the_members_in_their_role_pickers() -> None:
    members = {ALICE: SessionRole.LEAD, BOB: SessionRole.OBSERVER}
    start = session_modal(
        callback_id=ids.SESSION_START_MODAL, metadata={"channel_id": "C1"}, members=members, name=""
    )
    edit = session_modal(callback_id=ids.SESSION_MEMBERS_MODAL, metadata={"session_id": 3}, members=members)
    blocks = {block["block_id"]: block for block in start["blocks"]}

    assert check_view(start) == [] and check_view(edit) == []
    assert blocks[role_block(SessionRole.LEAD)]["element"] == {
        "type": "users_select",
        "action_id": ids.FIELD_INPUT,
        "initial_user": ALICE,
    }
    assert blocks[role_block(SessionRole.OBSERVER)]["element"]["initial_users"] == [BOB]
    assert blocks[role_block(SessionRole.OBSERVER)]["optional"] is True
    assert ids.SESSION_NAME_BLOCK in blocks
    assert ids.SESSION_NAME_BLOCK not in {block["block_id"] for block in edit["blocks"]}


def test_a_short_timeline_is_one_message_with_every_entry_in_order() -> None:
    [(text, blocks)] = timeline_messages(_view(), _entries(3))

    rendered = str(blocks)
    assert text == "Timeline of change session “checkout &lt;!channel&gt; migration”"
    assert rendered.index("`2026-12-07 09:00:00` 0 ") < rendered.index("`2026-12-07 09:00:02` 2 ")
    assert f"(<@{BOB}>)" in rendered
    assert "*Plans (1)*" in str(blocks[-1]) and "Succeeded, approved by" in str(blocks[-1])


@pytest.mark.parametrize("count", [200, 800])
def test_a_long_timeline_is_split_into_messages_within_block_kit_limits(count: int) -> None:
    parts = timeline_messages(_view(), _entries(count))

    assert len(parts) > 1
    assert [text.rsplit("(", 1)[1] for text, _ in parts] == [
        f"{n} of {len(parts)})" for n in range(1, len(parts) + 1)
    ]
    for _, blocks in parts:
        assert check_blocks(blocks) == []
        assert len(blocks) <= SECTIONS_PER_MESSAGE + 1
        assert sum(len(block["text"]["text"]) for block in blocks) < 40_000
    rendered = "".join(block["text"]["text"] for _, blocks in parts for block in blocks)
    positions = [rendered.index(f"` {n} x") for n in range(count)]
    assert positions == sorted(positions)
