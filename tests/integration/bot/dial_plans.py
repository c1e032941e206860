"""Plans over the in-memory dial system, and an observer that records what the worker reported."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import plan_views, plans
from bot.db.engine import SessionFactory
from bot.domain import (
    BlastRadius,
    PlanDraft,
    PlanView,
    Risk,
    RiskLevel,
    StepSpec,
    StepStage,
    Target,
)
from tests.builders import BOB, POLICY, TEAM, stored_plan


@dataclass
class RecordingObserver:
    changes: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        self.changes.append(plan_id)

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        self.finished.append(plan_id)


def dial_draft(*steps: StepSpec) -> PlanDraft:
    return PlanDraft(
        intent="turn the dials",
        summary="turn the dials",
        target=Target(environment="test", namespace="lab", name="dials"),
        steps=list(steps),
        rollback="set each dial back",
        risk=Risk(level=RiskLevel.MEDIUM, blast_radius=BlastRadius.NAMESPACE, targets=["dials"]),
    )


def set_dial(name: str, value: int) -> StepSpec:
    return StepSpec(
        stage=StepStage.ACT, action="dial.set", args={"name": name, "value": value}, description="set"
    )


def check_dial(name: str, expect: int) -> StepSpec:
    return StepSpec(
        stage=StepStage.VERIFY,
        action="dial.check",
        args={"name": name, "expect": expect},
        description="check",
    )


async def approved_plan(sessions: SessionFactory, draft: PlanDraft, *, source_key: str = "trigger-1") -> int:
    plan_id = await stored_plan(sessions, draft=draft, source_key=source_key)
    async with sessions.begin() as session:
        await plans.approve(session, plan_id=plan_id, approver=BOB, policy=POLICY)
    return plan_id


async def view(sessions: SessionFactory, plan_id: int) -> PlanView:
    async with sessions() as session:
        return await plan_views.load(session, team_id=TEAM, plan_id=plan_id)
