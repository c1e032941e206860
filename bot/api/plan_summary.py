"""Plans as the CLI prints them: one line in a list, a few lines for one plan. Pure text."""

from __future__ import annotations

from bot.api.models import PlanOut, PlanSummary
from bot.domain import PlanStatus


def label(status: PlanStatus) -> str:
    return status.value.replace("_", " ")


def line(plan: PlanSummary) -> str:
    workflow = f" [{plan.workflow}]" if plan.workflow else ""
    where = f"{plan.environment:<12} {plan.requester_id:<16}"
    return f"#{plan.id:<6} {label(plan.status):<18} {where} {plan.summary}{workflow}"


def summary(plan: PlanOut) -> list[str]:
    """What a pipeline log should show: the outcome, who decided, and each step as it ended."""
    lines = [f"Plan #{plan.id} {label(plan.status)}: {plan.summary}"]
    approvers = ", ".join(approval.user_id for approval in plan.approvals) or "nobody yet"
    lines.append(f"  requested by {plan.requester_id}; approved by {approvers}")
    if plan.status_reason or plan.status_actor_id:
        by = f" by {plan.status_actor_id}" if plan.status_actor_id else ""
        reason = f": {plan.status_reason}" if plan.status_reason else ""
        lines.append(f"  {label(plan.status)}{by}{reason}")
    for step in plan.steps:
        said = step.error or step.output_summary
        lines.append(
            f"  {step.state.value:<9} {step.stage.value:<9} {step.description}"
            + (f" ({said})" if said else "")
        )
    return lines
