"""Small builders for domain objects that many tests need."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot import executions, freezes, planner, plans
from bot.db.engine import SessionFactory
from bot.domain import Actor, PlanDraft, StepStage, StepState
from bot.executions import Lease, PlannedStep
from bot.policy import PlanFacts, Policy, as_decision
from bot.policy_engine import EnvironmentConfig, GuardedPolicy

TEAM = "T0123ABCDEF"
ALICE = Actor(team_id=TEAM, user_id="U0123ALICE1")
BOB = Actor(team_id=TEAM, user_id="U0123BOBBY2")
CAROL = Actor(team_id=TEAM, user_id="U0123CAROL3")
READS = frozenset({"kubernetes.get_deployment", "kubernetes.rollout_status", "dial.check"})
POLICIES = Path(__file__).resolve().parents[1] / "policies"
ENVIRONMENTS = {"prod": EnvironmentConfig(production=True), "test": EnvironmentConfig()}


@cache
def _engine() -> GuardedPolicy:
    return GuardedPolicy(POLICIES)


def policy(*, roles: dict[str, list[str]] | None = None) -> Policy:
    """The real Rego policy; everyone may plan and approve unless `roles` says otherwise."""
    return Policy(
        engine=_engine(),
        environments=ENVIRONMENTS,
        roles=roles or {},
        default_roles=("operator", "approver"),
        read_actions=READS,
    )


POLICY = policy()


def scale_draft(text: str = "scale checkout to 5 in shop") -> PlanDraft:
    return planner.plan(text, environment="prod")


async def stored_plan(
    sessions: SessionFactory,
    *,
    requester: Actor = ALICE,
    draft: PlanDraft | None = None,
    source_key: str = "trigger-1",
    using: Policy | None = None,
) -> int:
    """A plan stored as request_plan stores it: decided by `using` (default POLICY) under the
    freezes active in the database."""
    draft = draft or scale_draft()
    using = using or POLICY
    facts = PlanFacts(
        requester_id=requester.user_id,
        environment=draft.target.environment,
        steps=draft.steps,
        targets=draft.risk.targets,
    )
    async with sessions() as session:
        frozen = await freezes.active(session, team_id=requester.team_id)
    decision = as_decision(using.decide("plan.create", actor=requester, plan=facts, freezes=frozen))
    async with sessions.begin() as session:
        created = await plans.create(
            session,
            requester=requester,
            channel_id="C0123OPSCHN",
            source_key=source_key,
            draft=draft,
            decision=decision,
        )
    return created.plan.id


async def start_first_step(
    session: AsyncSession, *, owner: str, lease_seconds: float = 30
) -> tuple[Lease, PlannedStep]:
    """Claim the queued execution as worker `owner` and record its first step as started, as the
    worker does; the caller's transaction commits it (or a test leaves it there as a crash would)."""
    conn = await session.connection()
    lease = await executions.claim(conn, owner=owner, lease_seconds=lease_seconds)
    assert lease is not None, "no queued execution to claim"
    [first, *_] = await executions.plan_steps(conn, lease)
    await executions.start_step(
        conn,
        lease,
        stage=StepStage(first.stage),
        position=first.position,
        action=first.action,
        args=first.args,
        plan_step_id=first.id,
    )
    return lease, first


async def finish_started_step(
    session: AsyncSession, lease: Lease, step: PlannedStep, *, summary: str = "", output: dict[str, object]
) -> None:
    """Record `step`, started by start_first_step, as succeeded with `output`."""
    await executions.finish_step(
        await session.connection(),
        lease,
        stage=StepStage(step.stage),
        position=step.position,
        action=step.action,
        state=StepState.SUCCEEDED,
        summary=summary,
        output=output,
    )
