"""Schedules in Slack: one schedule as a line with its buttons, the list, one schedule with its
history, and the modal that makes one."""

from __future__ import annotations

from typing import Any

from blocks import ids
from blocks.forms import button, channel_input, modal, pager, text_input
from blocks.text import escape, section, slack_date, user
from bot.domain import ScheduleRunView, ScheduleView

REQUEST_EXAMPLE = "scale checkout to 3 in shop"


def schedule_line(schedule: ScheduleView) -> str:
    when = (
        f"next {slack_date(schedule.next_run_at)}" if schedule.next_run_at else ":double_vertical_bar: paused"
    )
    return (
        f"*#{schedule.id}* `{escape(schedule.cron)}` ({escape(schedule.timezone)}): "
        f"`{escape(schedule.request)}` in <#{schedule.channel_id}> · {when} · by {user(schedule.created_by)}"
    )


def schedule_buttons(schedule: ScheduleView) -> dict[str, Any]:
    value = str(schedule.id)
    toggle = (
        button("Pause", ids.SCHEDULE_PAUSE, value)
        if schedule.enabled
        else button("Resume", ids.SCHEDULE_RESUME, value, style="primary")
    )
    return {
        "type": "actions",
        "block_id": f"schedule_{schedule.id}",
        "elements": [
            toggle,
            button("Run now", ids.SCHEDULE_RUN, value),
            button("History", ids.SCHEDULE_SHOW, value),
        ],
    }


def schedule_list_blocks(
    schedules: list[ScheduleView], *, number: int, has_more: bool
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [section("*Schedules*")]
    for schedule in schedules:
        blocks += [section(schedule_line(schedule)), schedule_buttons(schedule)]
    if not schedules:
        blocks.append(section('No schedules yet: `/carapulse schedule add "0 9 * * 1-5" <request>`'))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                button("New schedule", ids.SCHEDULE_NEW),
                *pager(ids.SCHEDULE_PAGE, number=number, has_more=has_more, key={}),
            ],
        }
    )
    return blocks


def schedule_show_blocks(schedule: ScheduleView, runs: list[ScheduleRunView]) -> list[dict[str, Any]]:
    lines = [run_line(run) for run in runs] or ["Not run yet."]
    return [section(schedule_line(schedule)), section("*History* (newest first)\n" + "\n".join(lines))]


def run_line(run: ScheduleRunView) -> str:
    how = "run now by " + user(run.actor_id) if run.kind == "manual" else "due"
    line = f"• {how} {slack_date(run.due_at)}: "
    if run.state == "planned" and run.plan_id is not None:
        line += f"plan #{run.plan_id}"
    elif run.state == "failed":
        line += f":warning: {escape(run.detail)}"
    else:
        line += "planning…"
    if run.missed:
        line += (
            f" (stands for {run.missed} earlier due time{'s' if run.missed != 1 else ''} missed while down)"
        )
    return line


def schedule_modal(*, channel_id: str = "") -> dict[str, Any]:
    return modal(
        callback_id=ids.SCHEDULE_MODAL,
        title="New schedule",
        submit="Schedule",
        metadata={"channel_id": channel_id},
        blocks=[
            text_input(
                ids.SCHEDULE_CRON_BLOCK,
                "When (cron)",
                max_length=120,
                placeholder="0 9 * * 1-5",
                hint="minute hour day month weekday, at most every five minutes",
            ),
            text_input(ids.SCHEDULE_TZ_BLOCK, "Time zone", initial="UTC", max_length=64),
            text_input(
                ids.SCHEDULE_REQUEST_BLOCK,
                "What to plan",
                max_length=1000,
                placeholder=REQUEST_EXAMPLE,
                hint="A sentence, `workflow start <name> …` or `playbook start <name> …`; planned as you, "
                "with policy and approval as usual.",
            ),
            *([] if channel_id else [channel_input()]),
        ],
    )


def upcoming_line(schedule: ScheduleView) -> str:
    moment = slack_date(schedule.next_run_at) if schedule.next_run_at else "paused"
    return f"{moment}: schedule #{schedule.id} `{escape(schedule.request)}`"
