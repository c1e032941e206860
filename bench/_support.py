"""What the durable-execution benchmarks share: a no-op tool action and plans of it queued for the worker.

The plans go through `plans.create` with a policy decision that needs no approval, which queues
their execution in the same transaction, as a plan that policy lets run straight away is queued.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import Field

from bot import plans
from bot.db.engine import SessionFactory
from bot.domain import (
    Actor,
    BlastRadius,
    PlanDraft,
    PolicyDecision,
    Risk,
    RiskLevel,
    StepSpec,
    StepStage,
    Target,
)
from tools.common.base import Action, ActionArgs, ActionResult, Effect

TEAM = "T0123ABCDEF"
REQUESTER = Actor(team_id=TEAM, user_id="U0123ALICE1")
CHANNEL = "C0123OPSCHN"
RUN_AT_ONCE = PolicyDecision(allow=True, required_approvals=0)
# Plans per transaction while queueing: one commit per plan would time the set-up, not the worker.
_BATCH = 100


class NoopArgs(ActionArgs):
    plan: int = Field(ge=0)
    step: int = Field(ge=0)
    hold_seconds: float = Field(default=0.0, ge=0)


class NoopAction(Action[NoopArgs]):
    """Changes nothing and returns at once (or after `hold_seconds`, standing in for a step that takes
    time), so a benchmark measures what the worker and the notifier cost around a step.

    Every run is recorded as (plan, step), so a benchmark can prove that each step ran exactly once.
    """

    name: ClassVar[str] = "bench.noop"
    description: ClassVar[str] = "Do nothing; used by the benchmarks in bench/."
    args_model: ClassVar[type[ActionArgs]] = NoopArgs
    effect: ClassVar[Effect] = Effect.READ
    idempotent: ClassVar[bool] = True

    def __init__(self) -> None:
        self.runs: list[tuple[int, int]] = []

    async def run(self, args: NoopArgs) -> ActionResult:
        if args.hold_seconds:
            await asyncio.sleep(args.hold_seconds)
        self.runs.append((args.plan, args.step))
        return ActionResult(summary=f"no-op {args.step + 1} of plan {args.plan}")


class NoopWriteAction(NoopAction):
    """The no-op as a step with write effect: the worker treats it as one that changes something, so
    its records wait for the disk (bot/worker.py), as a real write step's do."""

    name: ClassVar[str] = "bench.noop_write"
    description: ClassVar[str] = "Do nothing, as a step that changes something; used by bench/."
    effect: ClassVar[Effect] = Effect.WRITE


def noop_draft(
    plan: int, *, steps: int, hold_seconds: float = 0.0, action: str = NoopAction.name
) -> PlanDraft:
    target = Target(environment="prod", namespace="bench", name=f"noop-{plan}")
    return PlanDraft(
        intent=f"run {steps} no-op steps",
        summary=f"{steps} no-op steps (bench plan {plan})",
        target=target,
        steps=[
            StepSpec(
                stage=StepStage.ACT,
                action=action,
                args=NoopArgs(plan=plan, step=step, hold_seconds=hold_seconds).model_dump(),
                description=f"no-op {step + 1} of {steps}",
            )
            for step in range(steps)
        ],
        rollback="nothing to undo",
        risk=Risk(level=RiskLevel.READ, blast_radius=BlastRadius.NAMESPACE, targets=[f"bench/noop-{plan}"]),
    )


async def queue_plans(
    sessions: SessionFactory,
    *,
    count: int,
    steps: int,
    hold_seconds: float = 0.0,
    action: str = NoopAction.name,
) -> list[int]:
    """Store `count` plans of `steps` no-op act steps (of `action`) with their executions queued;
    the plan ids."""
    plan_ids: list[int] = []
    for first in range(0, count, _BATCH):
        async with sessions.begin() as session:
            for n in range(first, min(first + _BATCH, count)):
                created = await plans.create(
                    session,
                    requester=REQUESTER,
                    channel_id=CHANNEL,
                    source_key=f"bench-{n}",
                    draft=noop_draft(n, steps=steps, hold_seconds=hold_seconds, action=action),
                    decision=RUN_AT_ONCE,
                )
                plan_ids.append(created.plan.id)
    return plan_ids
