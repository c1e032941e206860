"""How statuses read on the card: one label and one emoji per state."""

from __future__ import annotations

from bot.domain import PlanStatus, StepState

PLAN_STATUS_LABELS: dict[PlanStatus, str] = {
    PlanStatus.AWAITING_APPROVAL: ":hourglass_flowing_sand: Awaiting approval",
    PlanStatus.BLOCKED: ":lock: Blocked by policy",
    PlanStatus.APPROVED: ":thumbsup: Approved",
    PlanStatus.RUNNING: ":arrows_counterclockwise: Running",
    PlanStatus.PAUSED: ":double_vertical_bar: Needs a decision",
    PlanStatus.SUCCEEDED: ":white_check_mark: Succeeded",
    PlanStatus.FAILED: ":x: Failed",
    PlanStatus.ROLLED_BACK: ":rewind: Rolled back",
    PlanStatus.REJECTED: ":no_entry: Rejected",
    PlanStatus.CANCELLED: ":no_entry_sign: Cancelled",
    PlanStatus.EXPIRED: ":alarm_clock: Expired",
}

STEP_STATE_LABELS: dict[StepState, str] = {
    StepState.QUEUED: ":white_circle: queued",
    StepState.RUNNING: ":arrows_counterclockwise: running",
    StepState.SUCCEEDED: ":white_check_mark: succeeded",
    StepState.FAILED: ":x: failed",
    StepState.SKIPPED: ":fast_forward: skipped",
}


def plan_status_text(status: PlanStatus) -> str:
    """The label without its emoji, for message fallback text and ephemeral answers."""
    return PLAN_STATUS_LABELS[status].split(" ", 1)[1]
