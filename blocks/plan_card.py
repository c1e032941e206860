"""The plan card: one message per plan, re-rendered whole on every state change."""

from __future__ import annotations

import json
from typing import Any

from blocks import ids
from blocks.escalations import window_lines
from blocks.labels import PLAN_STATUS_LABELS, STEP_STATE_LABELS, plan_status_text
from blocks.memory import note_line
from blocks.revisions import plan_ref_value, revision_blocks
from blocks.text import (
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    MESSAGE_TEXT_MAX,
    SECTION_TEXT_MAX,
    context,
    duration,
    escape,
    mrkdwn,
    plain,
    section,
    slack_date,
    truncate,
    user,
)
from bot.domain import PlanStatus, PlanView, StepView

STEP_LINE_MAX = 400
DEPENDENTS_SHOWN = 5


def plan_card(view: PlanView, *, interactive: bool = True) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": ids.PLAN_HEADER_BLOCK,
            "text": plain(f"Plan #{view.id}{_version_tag(view)}: {view.summary}", HEADER_TEXT_MAX),
        },
        section(_status_line(view), block_id=ids.PLAN_STATUS_BLOCK),
        *revision_blocks(view),
        {"type": "section", "fields": _fields(view)},
        section(_steps_text(view.steps), block_id=ids.PLAN_STEPS_BLOCK),
        section(f"*Rollback:* {escape(view.rollback)}"),
    ]
    if view.notes:
        blocks.append(context(*(note_line(note) for note in view.notes)))
    if interactive:
        buttons = _buttons(view)
        if buttons:
            blocks.append({"type": "actions", "block_id": ids.PLAN_ACTIONS_BLOCK, "elements": buttons})
    blocks.append(context(_footer(view)))
    return blocks


def plan_card_text(view: PlanView) -> str:
    """Notification and screen-reader text for the card message."""
    status = plan_status_text(view.status)
    return truncate(f"Plan #{view.id}: {view.summary}{_version_tag(view)} - {status}", MESSAGE_TEXT_MAX)


def _version_tag(view: PlanView) -> str:
    return f" (v{view.version})" if view.version > 1 else ""


def _status_line(view: PlanView) -> str:
    lines = [f"*{PLAN_STATUS_LABELS[view.status]}*"]
    detail = _status_detail(view)
    if detail:
        lines.append(detail)
    if view.execution_note:
        lines.append(f"_{escape(view.execution_note)}_")
    if view.planner is not None and view.planner.note:
        lines.append(f":information_source: _{escape(view.planner.note)}_")
    lines.append(f"*Requested by* {user(view.requester_id)}: `{escape(view.intent)}`")
    return "\n".join(lines)


def _status_detail(view: PlanView) -> str:
    approvers = ", ".join(user(a.user_id) for a in view.approvals)
    match view.status:
        case PlanStatus.AWAITING_APPROVAL:
            missing = view.approvals_missing
            waiting = f"Waiting for {missing} more approval{'s' if missing != 1 else ''}."
            reasons = [escape(r) for r in view.decision.reasons]
            return "\n".join([waiting, *reasons, *_confirm_hint(view), *window_lines(view)])
        case PlanStatus.BLOCKED:
            why = [escape(r) for r in view.decision.reasons if r.startswith("Denied")]
            return "\n".join([*why, "An admin may break glass to run it now.", *window_lines(view)])
        case PlanStatus.REJECTED:
            return f"Rejected by {user(view.status_actor_id)}: {escape(view.status_reason)}"
        case PlanStatus.CANCELLED:
            cancelled = f"Cancelled by {user(view.status_actor_id)}"
            if view.rollback_offered:
                return f"{cancelled}. The completed steps are still in effect; an approver may roll back."
            return cancelled
        case PlanStatus.FAILED | PlanStatus.ROLLED_BACK | PlanStatus.PAUSED | PlanStatus.EXPIRED:
            return escape(view.status_reason)
        case _ if view.break_glass_by:
            return (
                f":rotating_light: Break-glass by {user(view.break_glass_by)}: "
                f"{escape(view.break_glass_reason)}" + (f"\nApproved by {approvers}" if approvers else "")
            )
        case _:
            return f"Approved by {approvers}" if approvers else "No approval needed (read-only)"


def _fields(view: PlanView) -> list[dict[str, Any]]:
    target, risk = view.target, view.risk
    pairs = [
        ("Environment", target.environment),
        ("Cluster", target.cluster or "current context"),
        ("Namespace", target.namespace),
        ("Risk", f"{risk.level} (blast radius: {risk.blast_radius})"),
        ("Targets", ", ".join(risk.targets) or "none"),
        ("Approvals", f"{len(view.approvals)} of {view.decision.required_approvals}"),
    ]
    if risk.dependents is not None:
        pairs.append(("Dependents", _dependents(risk.dependents)))
    if view.workflow is not None:
        pairs.append(("Workflow", view.workflow.label))
    if view.planner is not None:
        pairs.append(("Planner", view.planner.label))
    if view.session:
        pairs.append(("Session", view.session))
    return [mrkdwn(f"*{name}*\n{escape(value)}", FIELD_TEXT_MAX) for name, value in pairs]


def _dependents(names: list[str]) -> str:
    """The blast radius in the context graph: how many services depend on the target, and which."""
    if not names:
        return "no service depends on it"
    shown = ", ".join(names[:DEPENDENTS_SHOWN]) + (" …" if len(names) > DEPENDENTS_SHOWN else "")
    return f"{len(names)} service{'s' if len(names) != 1 else ''}: {shown}"


def _steps_text(steps: list[StepView]) -> str:
    """Every step whole while they fit in the section, so a long step's arguments (the values a plan
    pinned) and its state stay readable; past that, each line is cut to STEP_LINE_MAX."""
    lines = [_step_line(number, step) for number, step in enumerate(steps, 1)]
    text = "\n".join(["*Steps*", *lines])
    if len(text) <= SECTION_TEXT_MAX:
        return text
    return "\n".join(["*Steps*", *(truncate(line, STEP_LINE_MAX) for line in lines)])


def _step_line(number: int, step: StepView) -> str:
    args = json.dumps(step.args, sort_keys=True, separators=(", ", ": "))
    line = f"{number}. [{step.stage}] `{step.action}` `{escape(args)}` {STEP_STATE_LABELS[step.state]}"
    if step.duration_seconds is not None:
        line += f" ({duration(step.duration_seconds)})"
    if step.output_summary:
        line += f"\n      {escape(step.output_summary)}"
    if step.error:
        line += f"\n      :warning: {escape(step.error)}"
    return line


def _buttons(view: PlanView) -> list[dict[str, Any]]:
    # Every click names the version it was given for; one on an outdated card is refused.
    value = plan_ref_value(view.id, view.version)
    approve = _button(
        "Approve",
        ids.PLAN_APPROVE,
        plan_ref_value(view.id, view.version, confirm=bool(view.confirm_word)),
        "primary",
    )
    break_glass = [_button("Break glass", ids.PLAN_BREAK_GLASS, value, "danger")]
    if not view.break_glass_open:
        break_glass = []
    if view.status == PlanStatus.AWAITING_APPROVAL:
        return [
            approve,
            _button("Reject", ids.PLAN_REJECT, value, "danger"),
            _button("Dry run", ids.PLAN_DRY_RUN, value, None),
            _button("Edit", ids.PLAN_EDIT, value, None),
            _button("Cancel", ids.PLAN_CANCEL, value, None),
            *break_glass,
        ]
    if view.status == PlanStatus.BLOCKED:
        return [
            *break_glass,
            approve,
            _button("Dry run", ids.PLAN_DRY_RUN, value, None),
            _button("Edit", ids.PLAN_EDIT, value, None),
            _button("Cancel", ids.PLAN_CANCEL, value, None),
        ]
    if view.status in (PlanStatus.APPROVED, PlanStatus.RUNNING):
        return [_button("Cancel", ids.PLAN_CANCEL, value, "danger")]
    if view.status == PlanStatus.PAUSED:
        return [
            _button("Retry step", ids.PLAN_RETRY_STEP, value, "primary"),
            _button("Skip step", ids.PLAN_SKIP_STEP, value, None),
            _button("Abort and roll back", ids.PLAN_ROLL_BACK, value, "danger"),
        ]
    if view.rollback_offered:
        return [_button("Roll back", ids.PLAN_ROLL_BACK, value, "danger")]
    return []


def _confirm_hint(view: PlanView) -> list[str]:
    if not view.confirm_word:
        return []
    return [f":keyboard: High risk in production: approving asks you to type `{escape(view.confirm_word)}`."]


def _button(label: str, action_id: str, value: str, style: str | None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": plain(label, 75),
    }
    if style:
        button["style"] = style
    return button


def _footer(view: PlanView) -> str:
    footer = f"plan `{view.id}` · created {slack_date(view.created_at)}"
    if view.finished_at is not None:
        took = duration((view.finished_at - view.created_at).total_seconds())
        footer += f" · ended {slack_date(view.finished_at)} ({took} after creation)"
    return footer
