"""Small builders for domain objects that many tests need."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot import executions, planner, plans, workflows
from bot.db.engine import SessionFactory
from bot.domain import Actor, PlanDraft, StepStage, StepState
from bot.executions import Lease, PlannedStep
from bot.policy import Policy
from bot.policy_engine import EnvironmentConfig, GuardedPolicy
from bot.workflows.base import PlanningContext
from bot.workflows.catalog import WorkflowRequest
from tools.common.registry import Registry

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


def restart_draft(text: str = "restart checkout in shop") -> PlanDraft:
    """A plan the rules planner makes itself (no workflow): a rollout restart in prod."""
    draft = planner.read(text, environment="prod", workflows=())
    assert isinstance(draft, PlanDraft), f"{text!r} is read as a workflow"
    return draft


async def scale_draft(text: str = "scale checkout to 5 in shop") -> PlanDraft:
    """The plan the scale_service workflow makes of `text` in prod, with no tool configured."""
    catalog = workflows.build_catalog(None, environments=ENVIRONMENTS)
    request = planner.read(text, environment="prod", workflows=catalog)
    assert isinstance(request, WorkflowRequest), f"{text!r} is not a workflow sentence"
    inputs = catalog.inputs(request, environment="prod")
    context = PlanningContext(requester=ALICE, cluster="", registry=Registry())
    return await catalog.draft(request.name, inputs, context, intent=text)


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
    async with sessions.begin() as session:
        created = await plans.submit(
            session,
            requester=requester,
            channel_id="C0123OPSCHN",
            source_key=source_key,
            draft=draft or await scale_draft(),
            policy=using or POLICY,
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
    await start_planned_step(conn, lease, first)
    return lease, first


async def start_planned_step(
    conn: AsyncConnection, lease: Lease, step: PlannedStep, *, synchronous: bool = True
) -> None:
    """Record `step` of the leased execution as started, as the worker does before running it."""
    await executions.start_step(
        conn,
        lease,
        stage=StepStage(step.stage),
        position=step.position,
        action=step.action,
        args=step.args,
        plan_step_id=step.id,
        synchronous=synchronous,
    )


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
