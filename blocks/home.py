"""The App Home tab: what waits for the person, what runs, what is coming, and the library, each a
page of at most five rows with paging buttons. It stays under Slack's 100 blocks by construction:
every section has a fixed most (see MAX_BLOCKS and tests/unit/blocks/test_home.py)."""

from __future__ import annotations

from typing import Any

from blocks import ids
from blocks.forms import button, pager
from blocks.labels import PLAN_STATUS_LABELS
from blocks.library import playbook_line, provenance
from blocks.memory import note_line
from blocks.schedules import schedule_buttons, schedule_line, upcoming_line
from blocks.text import HEADER_TEXT_MAX, context, escape, plain, section, slack_date, user
from bot.domain import HomeView, PageInfo, PlanSummary, RunbookView

MAX_BLOCKS = 100
PROGRESS_WIDTH = 10


def home_view(view: HomeView) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain("Carapulse", HEADER_TEXT_MAX)}]
    if view.notice:
        blocks.append(section(f":information_source: {escape(view.notice)}"))
    blocks.append(
        {"type": "actions", "block_id": "home_top", "elements": [button("Refresh", ids.HOME_REFRESH)]}
    )
    blocks += _pending(view)
    blocks += _titled(
        "Running", [section(_plan_line(p) + "\n" + _progress(p)) for p in view.running], view, "running"
    )
    blocks += _titled("Your recent plans", [section(_plan_line(p)) for p in view.mine], view, "mine")
    blocks += [section(_in_force(view)), {"type": "divider"}]
    blocks += [section(_calendar(view)), {"type": "divider"}]
    blocks += _schedules(view)
    blocks += _runbooks(view)
    blocks += _playbooks(view)
    blocks += _notes(view)
    return {"type": "home", "callback_id": ids.HOME_VIEW, "blocks": blocks}


def _pending(view: HomeView) -> list[dict[str, Any]]:
    if not view.can_approve:
        rows = [context("You approve nothing here: approvals need the approver or admin role.")]
    else:
        rows = []
        for plan in view.pending:
            value = str(plan.id)
            rows += [
                section(_plan_line(plan)),
                {
                    "type": "actions",
                    "block_id": f"home_pending_{plan.id}",
                    "elements": [
                        button("Approve", ids.PLAN_APPROVE, value, style="primary"),
                        button("Reject", ids.PLAN_REJECT, value, style="danger"),
                    ],
                },
            ]
    return _titled("Waiting for your approval", rows, view, "pending")


def _schedules(view: HomeView) -> list[dict[str, Any]]:
    rows = [block for s in view.schedules for block in (section(schedule_line(s)), schedule_buttons(s))]
    return _titled("Schedules", rows, view, "schedules", extra=[button("New schedule", ids.SCHEDULE_NEW)])


def _runbooks(view: HomeView) -> list[dict[str, Any]]:
    rows = [block for runbook in view.runbooks for block in _runbook_rows(runbook)]
    return _titled("Runbooks", rows, view, "runbooks", extra=[button("New runbook", ids.RUNBOOK_NEW)])


def _runbook_rows(runbook: RunbookView) -> list[dict[str, Any]]:
    buttons = [button("Open", ids.RUNBOOK_OPEN, str(runbook.id))]
    if not runbook.source:
        buttons.append(button("Edit", ids.RUNBOOK_EDIT, str(runbook.id)))
    line = (
        f"*{escape(runbook.service)}*: {escape(runbook.title)} · "
        f"{provenance(runbook.source, runbook.version, runbook.updated_by)}"
    )
    return [section(line), {"type": "actions", "block_id": f"home_runbook_{runbook.id}", "elements": buttons}]


def _playbooks(view: HomeView) -> list[dict[str, Any]]:
    rows = []
    for playbook in view.playbooks:
        line = playbook_line(playbook)
        if not playbook.source:
            edit = button("Edit", ids.PLAYBOOK_EDIT, playbook.name)
            rows += [
                line,
                {"type": "actions", "block_id": f"home_playbook_{playbook.id}", "elements": [edit]},
            ]
        else:
            rows.append(line)
    return _titled("Playbooks", rows, view, "playbooks", extra=[button("New playbook", ids.PLAYBOOK_NEW)])


def _notes(view: HomeView) -> list[dict[str, Any]]:
    rows = [context(note_line(note)) for note in view.notes]
    extra = [button("Search notes", ids.HOME_MEMORY_SEARCH), button("Add a note", ids.HOME_MEMORY_ADD)]
    return _titled("Operator memory", rows, view, "notes", extra=extra, divider=False)


def _titled(
    title: str,
    rows: list[dict[str, Any]],
    view: HomeView,
    name: str,
    *,
    extra: list[dict[str, Any]] | None = None,
    divider: bool = True,
) -> list[dict[str, Any]]:
    """A section: its title, its rows (or a line saying there are none), then one actions block
    with its own buttons and its paging buttons."""
    page = view.pages.get(name, PageInfo())
    heading = f"*{title}*" + (f" · page {page.number + 1}" if page.number or page.has_more else "")
    blocks = [section(heading), *(rows or [context("Nothing here.")])]
    buttons = [
        *(extra or []),
        *pager(ids.HOME_PAGE, number=page.number, has_more=page.has_more, key={"section": name}),
    ]
    if buttons:
        blocks.append({"type": "actions", "block_id": f"home_{name}_actions", "elements": buttons})
    if divider:
        blocks.append({"type": "divider"})
    return blocks


def _plan_line(plan: PlanSummary) -> str:
    return (
        f"*#{plan.id}* {escape(plan.summary)} · {escape(plan.environment)} · {plan.risk} risk · "
        f"{PLAN_STATUS_LABELS[plan.status]} · by {user(plan.requester_id)} · {slack_date(plan.created_at)}"
    )


def _progress(plan: PlanSummary) -> str:
    total = max(plan.steps_total, 1)
    filled = round(PROGRESS_WIDTH * min(plan.steps_done, total) / total)
    return f"`{'█' * filled}{'░' * (PROGRESS_WIDTH - filled)}` {plan.steps_done} of {plan.steps_total} steps"


def _in_force(view: HomeView) -> str:
    lines = ["*Freezes and maintenance windows*"]
    lines += [
        f":snowflake: *{escape(f.environment)}* frozen until {slack_date(f.until)}: {escape(f.reason)}"
        for f in view.freezes
    ]
    lines += [
        f":clock3: *{escape(w.environment)}* writes only {w.start} to {w.end} {escape(w.timezone)}"
        f" ({'open now' if w.open_now else 'closed now'})"
        for w in view.windows
    ]
    return "\n".join(lines) if len(lines) > 1 else lines[0] + "\nNone in force."


def _calendar(view: HomeView) -> str:
    """Coming changes in time order: scheduled runs, and freezes ending."""
    entries = [(s.next_run_at, upcoming_line(s)) for s in view.upcoming if s.next_run_at is not None]
    entries += [
        (f.until, f"{slack_date(f.until)}: the freeze of {escape(f.environment)} ends") for f in view.freezes
    ]
    lines = [line for _, line in sorted(entries, key=lambda entry: entry[0])]
    return "*Coming up*\n" + ("\n".join(lines) if lines else "Nothing scheduled.")
