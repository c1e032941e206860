"""What a person can do to a plan, end to end: change it in one transaction, then show it.

These are the entry points for Slack listeners, the CLI and tests alike; they take domain values,
never Slack payloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import (
    audit,
    break_glass,
    escalation,
    freezes,
    plan_links,
    plan_rate,
    plan_views,
    planner,
    plans,
    resolutions,
    verify_checks,
)
from bot.after_ack import AfterAck
from bot.approval_rules import ApprovalRules
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.context import views as context_views
from bot.context.collector import ContextCollector
from bot.db.engine import AsyncSession, SessionFactory
from bot.db.models import Plan
from bot.domain import Actor, PlanDraft, PlannerRef, PlanView, Resolution, StepStage, WorkflowInfo
from bot.errors import UserError
from bot.jobs import JobRunner
from bot.llm.model import Model
from bot.notifier import Notifier
from bot.plan_rate import PlanRate
from bot.planners import RULES, Investigate, Planner, Proposal, RulesPlanner
from bot.planning_context import PlanningContextProvider
from bot.policy import Policy
from bot.slack_files import SlackFiles
from bot.steps import run_action
from bot.tasks import TaskSupervisor
from bot.verify_checks import VerifyCheck
from bot.worker import Worker
from bot.workflows.base import PlanningContext, WorkflowInputs
from bot.workflows.catalog import Catalog, WorkflowRequest
from tools.common.registry import Registry

if TYPE_CHECKING:
    from bot.home import HomePublisher
    from bot.scheduler import Scheduler


@dataclass(frozen=True)
class Runtime:
    """The long-lived services one process shares between its listeners, worker and CLI."""

    sessions: SessionFactory
    notifier: Notifier
    supervisor: TaskSupervisor
    # Listeners hand the work they promised in an ack to this, not to the supervisor directly.
    after_ack: AfterAck
    worker: Worker | None
    registry: Registry
    policy: Policy
    environment: str
    cluster: str
    workflows: Catalog
    # Files for people (audit exports, context pictures): direct messages and uploads.
    files: SlackFiles
    context: ContextCollector
    security_channel: str = ""
    verify_checks: Sequence[VerifyCheck] = ()
    approvals: ApprovalRules | None = None
    # Runs scheduled jobs (escalation steps, notifications); None: this runtime schedules none.
    jobs: JobRunner | None = None
    planner: Planner = field(default_factory=RulesPlanner)
    # The configured model (PLANNER=openai|anthropic), which also investigates; None with the rules.
    model: Model | None = None
    context_providers: Sequence[PlanningContextProvider] = ()
    investigate_max_calls: int = 8
    # The App Home tabs this process publishes, and the scheduler it runs (bot/app.py builds both).
    home: HomePublisher | None = None
    scheduler: Scheduler | None = None
    # PLAN_RATE_LIMIT; None: anyone may ask for any number of plans.
    plan_rate: PlanRate | None = None


@dataclass(frozen=True)
class WorkflowStart:
    """A workflow with inputs its model accepted; planning it reads what its steps pin. `planner`
    is who read it from text (None when a person typed the inputs)."""

    name: str
    inputs: WorkflowInputs
    planner: PlannerRef | None = None


def understand(runtime: Runtime, text: str) -> PlanDraft | WorkflowStart:
    """Read `text` as a workflow with checked inputs, or as a plan for this deployment; raises
    UserError with examples, or InvalidInputs naming the inputs that are wrong. No I/O."""
    read = planner.read(text, environment=runtime.environment, workflows=runtime.workflows)
    if isinstance(read, WorkflowRequest):
        return workflow_start(runtime, read, planner=RULES)
    return _finish(runtime, read.model_copy(update={"planner": RULES}))


def workflow_catalog(runtime: Runtime) -> list[WorkflowInfo]:
    """Every workflow in the version active for this deployment's environment."""
    return [runtime.workflows.info(workflow.name, runtime.environment) for workflow in runtime.workflows]


def workflow_start(
    runtime: Runtime, request: WorkflowRequest, *, planner: PlannerRef | None = None
) -> WorkflowStart:
    """Check a workflow request's inputs (with its environment's defaults); no I/O."""
    inputs = runtime.workflows.inputs(request, environment=runtime.environment)
    return WorkflowStart(request.name, inputs, planner)


async def start_workflow(
    runtime: Runtime,
    *,
    requester: Actor,
    channel_id: str,
    thread_ts: str | None,
    start: WorkflowStart,
    intent: str,
    source_key: str,
    min_approvals: int = 0,
    rate_limited: bool = True,
) -> int:
    """Plan the workflow (its reads pin what the apply will use), then store and post it as any plan."""
    return await request_plan(
        runtime,
        requester=requester,
        channel_id=channel_id,
        thread_ts=thread_ts,
        draft=await draft_workflow(runtime, requester=requester, start=start, intent=intent),
        source_key=source_key,
        min_approvals=min_approvals,
        rate_limited=rate_limited,
    )


async def plan_proposal(
    runtime: Runtime,
    *,
    requester: Actor,
    channel_id: str,
    thread_ts: str | None,
    proposal: Proposal,
    intent: str,
    source_key: str,
) -> int:
    """Store and post what a planner proposed, checked as if a person had typed it: a workflow's
    inputs by its model, a plan's steps by the configured tools."""
    read = proposal.read
    if isinstance(read, Investigate):
        raise ValueError("an investigation is not a plan; run it with bot.investigation")
    if isinstance(read, WorkflowRequest):
        start = workflow_start(runtime, read, planner=proposal.made_by)
        return await start_workflow(
            runtime,
            requester=requester,
            channel_id=channel_id,
            thread_ts=thread_ts,
            start=start,
            intent=intent,
            source_key=source_key,
        )
    draft = _finish(runtime, read.model_copy(update={"planner": proposal.made_by}))
    return await request_plan(
        runtime,
        requester=requester,
        channel_id=channel_id,
        thread_ts=thread_ts,
        draft=draft,
        source_key=source_key,
    )


async def draft_workflow(
    runtime: Runtime, *, requester: Actor, start: WorkflowStart, intent: str
) -> PlanDraft:
    """The workflow's plan for this deployment; its reads pin what the apply will use."""
    context = PlanningContext(requester=requester, cluster=runtime.cluster, registry=runtime.registry)
    proposed = await runtime.workflows.draft(start.name, start.inputs, context, intent=intent)
    return _finish(runtime, proposed.model_copy(update={"planner": start.planner}))


def for_this_deployment(runtime: Runtime, proposed: PlanDraft) -> PlanDraft:
    """A draft made elsewhere (a playbook) finished as every plan here is; see _finish."""
    return _finish(runtime, proposed)


def _finish(runtime: Runtime, proposed: PlanDraft) -> PlanDraft:
    """The draft for this deployment's cluster, with the configured service checks in its verify
    stage; refused when a step's tool is not configured here."""
    proposed = verify_checks.with_checks(_on_cluster(runtime, proposed), runtime.verify_checks)
    missing = sorted({step.action for step in proposed.steps if step.action not in runtime.registry})
    if missing:
        tools = ", ".join(sorted({name.split(".")[0] for name in missing}))
        raise UserError(f"I cannot run {', '.join(missing)}: {tools} is not configured on this Carapulse.")
    return proposed


def _on_cluster(runtime: Runtime, proposed: PlanDraft) -> PlanDraft:
    """Pin the plan to this deployment's cluster: on its target, and as the `cluster` argument of every
    step whose action takes one (a kubeconfig context), so a step never runs against another."""
    if not runtime.cluster:
        return proposed
    steps = [
        step.model_copy(update={"args": {**step.args, "cluster": runtime.cluster}})
        if _takes_cluster(runtime.registry, step.action)
        else step
        for step in proposed.steps
    ]
    target = proposed.target.model_copy(update={"cluster": runtime.cluster})
    return proposed.model_copy(update={"target": target, "steps": steps})


def _takes_cluster(registry: Registry, action: str) -> bool:
    return action in registry and "cluster" in registry.get(action).args_model.model_fields


async def request_plan(
    runtime: Runtime,
    *,
    requester: Actor,
    channel_id: str,
    thread_ts: str | None,
    draft: PlanDraft,
    source_key: str,
    min_approvals: int = 0,
    rate_limited: bool = True,
) -> int:
    """Store the plan and post its card; the plan's id. A repeated delivery of one request posts
    nothing new. A plan made in an incident's thread, or in a change session, becomes part of it.

    `rate_limited`: a person asked, so PLAN_RATE_LIMIT may refuse it (RateLimited); plans made on
    someone's behalf (schedules, incidents) pass False and are only counted."""
    rate = runtime.plan_rate if rate_limited else None
    async with runtime.sessions.begin() as session:
        if rate is not None:
            await plan_rate.lock(session, requester=requester)
        created = await plans.submit(
            session,
            requester=requester,
            channel_id=channel_id,
            source_key=source_key,
            draft=await _with_dependents(session, requester.team_id, draft),
            policy=runtime.policy,
            approvals=runtime.approvals,
            min_approvals=min_approvals,
        )
        if rate is not None and created.is_new:
            await plan_rate.check_stored(session, rate=rate, requester=requester, now=utcnow())
        if created.is_new:
            await plan_links.link_plan(
                session,
                team_id=requester.team_id,
                channel_id=channel_id,
                thread_ts=thread_ts,
                plan_id=created.plan.id,
            )
        escalating = created.is_new and await schedule_escalation(runtime, session, created.plan)
    if escalating and runtime.jobs is not None:
        runtime.jobs.wake()
    if created.is_new:
        await runtime.notifier.post_card(
            team_id=requester.team_id,
            plan_id=created.plan.id,
            channel_id=channel_id,
            thread_ts=thread_ts,
        )
        _wake_worker(runtime)
    return created.plan.id


async def _with_dependents(session: AsyncSession, team_id: str, draft: PlanDraft) -> PlanDraft:
    """The draft with its blast radius in the context graph: the services that depend on its target."""
    dependents = await context_views.dependents_of(session, team_id=team_id, name=draft.target.name)
    return draft.model_copy(update={"risk": draft.risk.model_copy(update={"dependents": dependents})})


async def schedule_escalation(runtime: Runtime, session: AsyncSession, plan: Plan) -> bool:
    """Schedule the escalation steps of the plan's current version, in the caller's transaction;
    whether any was (then wake the job runner once it is committed)."""
    if runtime.jobs is None or runtime.approvals is None:
        return False
    return await escalation.schedule(
        session,
        plan=plan,
        rules=runtime.approvals.of(plan.target["environment"]),
        now=runtime.jobs.clock.now(),
        can_page=escalation.PAGE_ACTION in runtime.registry,
    )


async def approve(
    runtime: Runtime,
    *,
    approver: Actor,
    plan_id: int,
    version: int | None = None,
    confirmation: str | None = None,
) -> PlanView:
    """`version` is the one the approver saw; an approval of any other is refused (None: current).
    `confirmation` is what they typed, for a plan that asks for it."""
    async with runtime.sessions.begin() as session:
        approved = await plans.approve(
            session,
            plan_id=plan_id,
            approver=approver,
            policy=runtime.policy,
            version=version,
            confirmation=confirmation,
        )
    runtime.notifier.plan_changed(approver.team_id, plan_id)
    if approved.execution is not None:
        _wake_worker(runtime)
    return await status(runtime, actor=approver, plan_id=plan_id)


async def reject(runtime: Runtime, *, actor: Actor, plan_id: int, reason: str) -> PlanView:
    async with runtime.sessions.begin() as session:
        await plans.reject(session, plan_id=plan_id, actor=actor, reason=reason)
    runtime.notifier.plan_finished(actor.team_id, plan_id)
    return await status(runtime, actor=actor, plan_id=plan_id)


async def cancel(runtime: Runtime, *, actor: Actor, plan_id: int) -> PlanView:
    async with runtime.sessions.begin() as session:
        plan = await plans.cancel(session, plan_id=plan_id, actor=actor, policy=runtime.policy)
        ended = plan.finished_at is not None
    if ended:
        runtime.notifier.plan_finished(actor.team_id, plan_id)
    else:
        runtime.notifier.plan_changed(actor.team_id, plan_id)
        if runtime.worker is not None:
            runtime.worker.cancels.notify(plan_id)
    return await status(runtime, actor=actor, plan_id=plan_id)


async def resolve(runtime: Runtime, *, actor: Actor, plan_id: int, resolution: Resolution) -> PlanView:
    """An approver's choice for a paused plan (retry, skip, roll back) or a cancelled one (roll back)."""
    async with runtime.sessions.begin() as session:
        await resolutions.resolve(
            session, plan_id=plan_id, actor=actor, resolution=resolution, policy=runtime.policy
        )
    runtime.notifier.plan_changed(actor.team_id, plan_id)
    _wake_worker(runtime)
    return await status(runtime, actor=actor, plan_id=plan_id)


async def dry_run(runtime: Runtime, *, actor: Actor, plan_id: int) -> None:
    """Rehearse each act step against its system (server-side dry run), change nothing, and post
    what the systems answered in the plan's thread. Verify steps are left out: they check a change
    that a dry run does not make."""
    async with runtime.sessions() as session:
        plan = await plans.get(session, team_id=actor.team_id, plan_id=plan_id)
        specs = (await plans.plan_facts(session, plan)).steps
    view = await status(runtime, actor=actor, plan_id=plan_id)
    results = []
    # The view's arguments are masked for display; the stored steps carry the real ones. Plan steps
    # come first in the view, in the same order.
    for step, spec in zip(view.steps, specs, strict=False):
        if spec.stage != StepStage.ACT:
            continue
        outcome = await run_action(runtime.registry, spec.action, spec.args, rehearse=True)
        results.append((step, outcome.ok, outcome.summary if outcome.ok else outcome.error))
    async with runtime.sessions.begin() as session:
        await audit.record(
            session,
            team_id=actor.team_id,
            actor_id=actor.user_id,
            kind=AuditKind.PLAN_DRY_RUN,
            plan_id=plan_id,
            detail={"results": [{"action": s.action, "ok": ok, "said": m} for s, ok, m in results]},
        )
    await runtime.notifier.post_dry_run(
        team_id=actor.team_id, plan_id=plan_id, user_id=actor.user_id, results=results
    )


async def freeze(runtime: Runtime, *, actor: Actor, argument: str) -> str:
    """Freeze an environment from `<environment> <duration> <reason>`; the sentence to confirm it."""
    environment, length, reason = freezes.parse(argument)
    async with runtime.sessions.begin() as session:
        row = await freezes.freeze(
            session,
            actor=actor,
            policy=runtime.policy,
            environment=environment,
            length=length,
            reason=reason,
        )
    return f"{environment} is frozen until {row.until:%Y-%m-%d %H:%M} UTC ({reason}): writes are denied."


async def unfreeze(runtime: Runtime, *, actor: Actor, environment: str) -> str:
    """Lift the freeze and start the plans it was blocking that policy now lets run."""
    environment = environment.strip()
    async with runtime.sessions.begin() as session:
        lifted = await freezes.unfreeze(session, actor=actor, policy=runtime.policy, environment=environment)
        released = (
            await break_glass.release_blocked(
                session, team_id=actor.team_id, environment=environment, policy=runtime.policy
            )
            if lifted
            else []
        )
    if not lifted:
        return f"{environment} was not frozen."
    for plan_id in released:
        runtime.notifier.plan_changed(actor.team_id, plan_id)
    if released:
        _wake_worker(runtime)
        started = ", ".join(f"#{plan_id}" for plan_id in released)
        return f"{environment} is no longer frozen; blocked plans {started} are running."
    return f"{environment} is no longer frozen."


async def check_can_break_glass(runtime: Runtime, *, actor: Actor, plan_id: int) -> PlanView:
    """Fail early, before the reason modal opens, for non-admins and plans that are not open."""
    async with runtime.sessions() as session:
        await break_glass.check_allowed(session, plan_id=plan_id, actor=actor, policy=runtime.policy)
    return await status(runtime, actor=actor, plan_id=plan_id)


async def break_glass_plan(runtime: Runtime, *, actor: Actor, plan_id: int, reason: str) -> PlanView:
    """Force the plan through, then say so loudly: in its thread and in the security channel."""
    async with runtime.sessions.begin() as session:
        broken = await break_glass.break_glass(
            session, plan_id=plan_id, actor=actor, reason=reason, policy=runtime.policy
        )
    runtime.notifier.plan_changed(actor.team_id, plan_id)
    _wake_worker(runtime)
    await runtime.notifier.post_break_glass_notice(
        team_id=actor.team_id,
        plan_id=plan_id,
        admin_id=actor.user_id,
        reason=reason.strip(),
        bypassed=broken.bypassed,
        security_channel=runtime.security_channel,
    )
    return await status(runtime, actor=actor, plan_id=plan_id)


async def status(runtime: Runtime, *, actor: Actor, plan_id: int) -> PlanView:
    async with runtime.sessions() as session:
        return await plan_views.load(session, team_id=actor.team_id, plan_id=plan_id)


async def check_can_approve(
    runtime: Runtime, *, actor: Actor, plan_id: int, version: int | None = None
) -> PlanView:
    """Fail early, before the confirmation dialog opens, when the approval would be refused."""
    async with runtime.sessions() as session:
        await plans.check_can_approve(
            session, plan_id=plan_id, approver=actor, policy=runtime.policy, version=version
        )
    return await status(runtime, actor=actor, plan_id=plan_id)


async def check_can_reject(runtime: Runtime, *, actor: Actor, plan_id: int) -> PlanView:
    """Fail early, before a modal opens, when the plan can no longer be rejected."""
    view = await status(runtime, actor=actor, plan_id=plan_id)
    plans.require_open_for_decision(view.id, view.status, verb="reject")
    return view


def _wake_worker(runtime: Runtime) -> None:
    if runtime.worker is not None:
        runtime.worker.wake()
