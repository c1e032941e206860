"""Interim policy until the Rego engine lands: reads run at once, writes need one other approver.

Every decision goes through `decide` and `may_approve`, so swapping in Rego changes this module only.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain import Actor, PolicyDecision, StepSpec


def decide(*, requester: Actor, steps: Iterable[StepSpec], read_actions: set[str]) -> PolicyDecision:
    """Anything not known to be a read counts as a write, so an unknown action fails closed."""
    writes = sorted({step.action for step in steps if step.action not in read_actions})
    if not writes:
        return PolicyDecision(allow=True, required_approvals=0, reasons=["read-only plan"])
    return PolicyDecision(
        allow=True,
        required_approvals=1,
        reasons=[f"Needs 1 approval from someone other than the requester (writes: {', '.join(writes)})"],
    )


def may_approve(*, approver: Actor, requester_id: str) -> str | None:
    """None when `approver` may approve; otherwise the sentence to show them."""
    if approver.user_id == requester_id:
        return "You requested this plan, so your approval does not count. Ask someone else to approve it."
    return None


def may_cancel(*, actor: Actor, requester_id: str) -> str | None:
    """The requester may cancel their plan, and so may anyone who could approve it."""
    if actor.user_id == requester_id:
        return None
    return may_approve(approver=actor, requester_id=requester_id)
