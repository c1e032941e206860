"""Thread replies and ephemeral answers: the outcome summary, help, and error notes."""

from __future__ import annotations

from typing import Any

from blocks.labels import PLAN_STATUS_LABELS
from blocks.text import context, duration, escape, section, user
from bot.domain import PlanStatus, PlanView, RiskLevel, StepStage, StepState, StepView

HELP_LINES = (
    ("`/carapulse help`", "this list"),
    ("`/carapulse plan <text>`", "plan a change; free text after `/carapulse` means the same"),
    ("`/carapulse status <plan id>`", "where a plan is, shown only to you"),
    ("`/carapulse approve <plan id>`", "approve a plan, like its Approve button"),
    ("`/carapulse cancel <plan id>`", "cancel a plan that has not finished"),
    ("`/carapulse workflow list`", "the workflows, their inputs and sentences"),
    ("`/carapulse workflow show <name>`", "the steps of a workflow as this environment runs it"),
    ("`/carapulse workflow start <name> [name=value …]`", "start a workflow (a form without values)"),
    ("`/carapulse freeze <env> <duration> <reason>`", "deny writes to an environment for a while (admins)"),
    ("`/carapulse unfreeze <env>`", "lift a freeze (admins)"),
    (
        '`/carapulse schedule add "<cron>" [tz=Area/City] <request>`',
        "plan a request on a schedule (or `schedule new`)",
    ),
    ("`/carapulse schedule list|show|pause|resume|delete|run <id>`", "schedules, their history, run one now"),
    ("`/carapulse runbook <service>` / `runbook new|edit`", "a service's runbooks, and writing one"),
    ("`/carapulse playbook list|start <name> [name=value …]|new|edit <name>`", "plans made of steps"),
    ("`/carapulse memory add <service> <note>`", "a note shown on the service's plan cards"),
    ("`/carapulse memory list [service]` / `search <text>` / `delete <id>`", "read and tidy the notes"),
    ("`/carapulse audit [plan id] [@user] [action] [since <time>]`", "search the audit log, newest first"),
    ("`/carapulse audit export <from> <to>`", "the audit log as CSV and JSON Lines, in a DM (admins)"),
    ("`/carapulse audit verify`", "check the audit log's hash chain (admins)"),
    ("`/carapulse context <service>`", "what it runs on, depends on, who owns it, recent changes, a picture"),
    ("`/carapulse context diff <service> [since]`", "what changed around a service between snapshots"),
    ("`/carapulse context refresh`", "collect the context graph now"),
    (
        "`/carapulse session start <name>`",
        "make this channel a change session that you lead (no name: a form)",
    ),
    (
        "`/carapulse session` / `session members` / `session end`",
        "the session here, its roles, its end and timeline",
    ),
)

PLAN_EXAMPLES_TITLE = "Sentences I read:"


def help_blocks(examples: tuple[str, ...]) -> list[dict[str, Any]]:
    commands = "\n".join(f"• {command}: {what}" for command, what in HELP_LINES)
    sample = "\n".join(f"• `/carapulse {example}`" for example in examples)
    return [
        section(f"*Carapulse commands*\n{commands}"),
        section(f"*{PLAN_EXAMPLES_TITLE}*\n{sample}"),
    ]


def outcome_reply(view: PlanView) -> tuple[str, list[dict[str, Any]]]:
    """The thread reply posted once a plan ends: what changed, who approved, how long it took."""
    headline = f"Plan #{view.id} {PLAN_STATUS_LABELS[view.status].split(' ', 1)[1].lower()}"
    if view.finished_at is not None:
        headline += f" after {duration((view.finished_at - view.created_at).total_seconds())}"
    lines = [f"*{headline}*"]
    lines += _answers(view) if view.risk.level == RiskLevel.READ else _changes(view)
    if view.status in (PlanStatus.FAILED, PlanStatus.ROLLED_BACK, PlanStatus.EXPIRED) and view.status_reason:
        lines.append(f":warning: {escape(view.status_reason)}")
    nobody = "nobody" if view.status == PlanStatus.EXPIRED else "nobody (none needed)"
    approvers = ", ".join(user(a.user_id) for a in view.approvals) or nobody
    blocks = [
        section("\n".join(lines)),
        context(f"Requested by {user(view.requester_id)} · approved by {approvers}"),
    ]
    return headline, blocks


def _changes(view: PlanView) -> list[str]:
    changes = [
        f"• {escape(step.output_summary)}"
        for step in view.steps
        if step.stage in (StepStage.ACT, StepStage.ROLLBACK)
        and step.state == StepState.SUCCEEDED
        and step.output_summary
    ]
    return changes or ["• nothing was changed"]


def _answers(view: PlanView) -> list[str]:
    """A read-only plan is a question: its reply is what each step found."""
    return [
        f"• `{step.action}`: {escape(step.output_summary or step.error or str(step.state))}"
        for step in view.steps
        if step.stage != StepStage.ROLLBACK
    ]


def error_blocks(message: str) -> list[dict[str, Any]]:
    return [section(f":warning: {message}")]


def dry_run_reply(
    plan_id: int, user_id: str, results: list[tuple[StepView, bool, str]]
) -> tuple[str, list[dict[str, Any]]]:
    """The thread reply for a dry run: each act step, whether the system accepted it, and what it said."""
    headline = f"Dry run of plan #{plan_id}: nothing was changed"
    lines = [f"*{headline}*"]
    for step, ok, message in results:
        mark = ":white_check_mark:" if ok else ":x:"
        lines.append(f"{mark} `{step.action}` {escape(message)}")
    return headline, [section("\n".join(lines)), context(f"Requested by {user(user_id)}")]


def break_glass_notice(
    view: PlanView, *, admin_id: str, reason: str, bypassed: list[str], card_channel_id: str
) -> tuple[str, list[dict[str, Any]]]:
    """The loud notice for the security channel and the plan's thread: who, why, and what it overrode."""
    headline = f":rotating_light: Break-glass: {escape(view.summary)} in {escape(view.target.environment)}"
    overrode = "\n".join(f"• {escape(r)}" for r in bypassed) or "• nothing: policy would have let it run"
    lines = [
        f"*{headline}*",
        f"{user(admin_id)} forced plan #{view.id} to run. Reason: {escape(reason)}",
        f"*Overrode:*\n{overrode}",
    ]
    approvers = ", ".join(user(a.user_id) for a in view.approvals) or "nobody"
    footer = f"Requested by {user(view.requester_id)} · approved by {approvers}"
    if card_channel_id:
        footer += f" · plan card in <#{card_channel_id}>"
    return f"Break-glass on plan #{view.id} by <@{admin_id}>", [section("\n".join(lines)), context(footer)]
