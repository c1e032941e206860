"""Escalation of plans nobody approves: each version of a waiting plan gets its environment's steps
as scheduled jobs (bot/jobs.py), timed from when it was made or edited. A ping names the approvers'
user group in the plan's thread; a page raises a PagerDuty alert through the PagerDuty tool; the end
of the approval window expires the plan, with a note on its card and in its thread. Each step is
audited, and one that finds the plan decided, edited or already approved enough does nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from blocks.escalations import expired_reason, page_reply, ping_reply
from bot import audit, jobs, plan_views, plans
from bot.approval_rules import ESCALATION_KINDS, ApprovalRules, EnvironmentApprovals
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.db.models import Plan
from bot.domain import PlanStatus, PlanView
from bot.jobs import Handler, Job, RetryLater
from bot.notifier import Notifier
from bot.steps import run_action
from tools.common.registry import Registry

PAGE_ACTION = "pagerduty.trigger_alert"


async def schedule(
    session: AsyncSession, *, plan: Plan, rules: EnvironmentApprovals, now: datetime, can_page: bool
) -> bool:
    """Schedule the steps of the plan's current version, if it waits for a decision; whether any
    was. `can_page` says whether the PagerDuty tool can send alerts here."""
    if plan.status not in plans.OPEN_FOR_DECISION:
        return False
    delays = rules.delays()
    if not can_page:
        delays.pop("page", None)
    for step, delay in delays.items():
        await jobs.schedule(
            session,
            team_id=plan.team_id,
            plan_id=plan.id,
            kind=ESCALATION_KINDS[step],
            key=f"v{plan.version}",
            due_at=now + delay,
            payload={"version": plan.version},
        )
    return bool(delays)


class Escalation:
    """Runs the escalation jobs."""

    def __init__(
        self, *, sessions: SessionFactory, notifier: Notifier, registry: Registry, approvals: ApprovalRules
    ) -> None:
        self._sessions = sessions
        self._notifier = notifier
        self._registry = registry
        self._approvals = approvals

    def handlers(self) -> dict[str, Handler]:
        return {
            ESCALATION_KINDS["ping"]: self.ping,
            ESCALATION_KINDS["page"]: self.page,
            ESCALATION_KINDS["expire"]: self.expire,
        }

    async def ping(self, job: Job) -> str:
        view = await self._waiting(job)
        if isinstance(view, str):
            return view
        usergroup = self._approvals.of(view.target.environment).usergroup
        text, blocks = ping_reply(view, usergroup=usergroup)
        await self._notifier.post_in_thread(
            team_id=job.team_id, plan_id=job.plan_id, text=text, blocks=blocks
        )
        await self._record(job, "ping", {"usergroup": usergroup})
        return f"pinged {usergroup or 'the thread'}"

    async def page(self, job: Job) -> str:
        view = await self._waiting(job)
        if isinstance(view, str):
            return view
        waited = self._approvals.of(view.target.environment).page_after_seconds or 0
        args = {
            "summary": f"Plan #{view.id} ({view.summary}) in {view.target.environment} still needs "
            f"{view.approvals_missing} approval(s) after {waited / 60:.0f} minutes",
            "source": "carapulse",
            "severity": "warning",
            "dedup_key": f"carapulse-{job.team_id}-plan-{view.id}-v{view.version}-approval",
            "custom_details": {
                "plan": str(view.id),
                "version": str(view.version),
                "requester": view.requester_id,
            },
        }
        outcome = await run_action(self._registry, PAGE_ACTION, args)
        if not outcome.ok:
            raise RetryLater(f"PagerDuty did not take the page: {outcome.error}")
        text, blocks = page_reply(view)
        await self._notifier.post_in_thread(
            team_id=job.team_id, plan_id=job.plan_id, text=text, blocks=blocks
        )
        await self._record(job, "page", {"dedup_key": args["dedup_key"]})
        return "paged"

    async def expire(self, job: Job) -> str:
        async with self._sessions.begin() as session:
            plan = await plans.get(session, team_id=job.team_id, plan_id=job.plan_id, for_update=True)
            why = _not_needed(plan.status, plan.version, job)
            if why:
                return why
            window = self._approvals.of(plan.target["environment"]).expire_after_seconds or 0
            reason = expired_reason(plan.version, window)
            plans.finish(plan, PlanStatus.EXPIRED, actor_id="", reason=reason)
            await audit.record(
                session,
                team_id=plan.team_id,
                actor_id="carapulse",
                kind=AuditKind.PLAN_EXPIRED,
                plan_id=plan.id,
                detail={"version": plan.version, "window_seconds": window},
            )
        # The card says so, and the outcome reply in its thread.
        self._notifier.plan_finished(job.team_id, job.plan_id)
        return "expired"

    async def _waiting(self, job: Job) -> PlanView | str:
        """The plan if it still waits for approvals in the job's version, else why nothing is done."""
        async with self._sessions() as session:
            view = await plan_views.load(session, team_id=job.team_id, plan_id=job.plan_id)
        why = _not_needed(view.status, view.version, job)
        if not why and view.approvals_missing == 0:
            why = "not needed: the approvals are in"
        return why or view

    async def _record(self, job: Job, step: str, detail: dict[str, str]) -> None:
        async with self._sessions.begin() as session:
            await audit.record(
                session,
                team_id=job.team_id,
                actor_id="carapulse",
                kind=AuditKind.PLAN_ESCALATED,
                plan_id=job.plan_id,
                detail={"step": step, "version": job.payload["version"], **detail},
            )
        self._notifier.plan_changed(job.team_id, job.plan_id)


def _not_needed(status: str, version: int, job: Job) -> str:
    if status not in plans.OPEN_FOR_DECISION:
        return f"not needed: the plan is {status}"
    if version != job.payload["version"]:
        return f"not needed: the plan was edited to v{version}"
    return ""
