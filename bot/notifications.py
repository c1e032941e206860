"""Plan and execution events for the world beyond Slack (e-mail, a webhook, PagerDuty).

The feed watches where state changes are already observed: it is one more observer of the Notifier,
so every change the worker or a person makes reaches it after it is stored. Observing costs the
caller nothing (the plan is marked and a loop of its own reads it later); the loop works out which
events the plan's stored state implies (a succeeded plan was created, approved and started), and
schedules one job per event and sink it has not scheduled before (bot/jobs.py). A job scheduled
twice, by two processes or after a restart, is stored once; sending is the job runner's, with its
retries, so nothing is lost silently and no sender ever waits for a receiver.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select

from bot import jobs, plan_views
from bot.clock import Clock
from bot.db.engine import SessionFactory
from bot.db.models import Execution, Plan
from bot.domain import PlanStatus, PlanView
from bot.jobs import JobRunner
from bot.metrics import JOBS
from bot.notification_rules import NotificationRoutes

log = logging.getLogger(__name__)

KIND_PREFIX = "notify."
RETRY_SECONDS = 1.0
REMEMBERED = 10_000
# Outcomes that are events of their own name.
_ENDINGS = {
    PlanStatus.SUCCEEDED: "succeeded",
    PlanStatus.FAILED: "failed",
    PlanStatus.ROLLED_BACK: "rolled_back",
    PlanStatus.REJECTED: "rejected",
    PlanStatus.EXPIRED: "expired",
    PlanStatus.CANCELLED: "cancelled",
}


def events_of(status: PlanStatus, *, queued: bool, started: bool) -> list[str]:
    """Every event a plan in this state has been through, in order: a plan that is running now was
    also created and approved, even if nobody was watching when it was."""
    events = ["created"]
    if queued:
        events.append("approved")
    if started:
        events.append("started")
    if status in _ENDINGS:
        events.append(_ENDINGS[status])
    return events


def event_document(event: str, view: PlanView) -> dict[str, Any]:
    """What every sink is told about an event: the JSON body of the webhook, and the facts an e-mail
    or a page is written from."""
    return {
        "event": event,
        "team_id": view.team_id,
        "plan_id": view.id,
        "version": view.version,
        "summary": view.summary,
        "request": view.intent,
        "status": view.status.value,
        "environment": view.target.environment,
        "target": view.target.model_dump(mode="json"),
        "risk": view.risk.level.value,
        "requester": view.requester_id,
        "approvers": [approval.user_id for approval in view.approvals],
        "reason": view.status_reason,
        "workflow": view.workflow.label if view.workflow else None,
        "steps": [
            {
                "stage": step.stage.value,
                "action": step.action,
                "state": step.state.value,
                "summary": step.output_summary,
            }
            for step in view.steps
        ],
    }


class EventFeed:
    """A PlanObserver that schedules the notifications a plan's changes call for."""

    def __init__(
        self, *, sessions: SessionFactory, routes: NotificationRoutes, jobs: JobRunner, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._routes = routes
        self._jobs = jobs
        self._clock = clock
        self._marked: set[tuple[str, int]] = set()
        self._signal = asyncio.Event()
        self._draining = asyncio.Lock()
        # Events already scheduled for plans that may still change, so a plan's every step costs no
        # insert; a plan is forgotten once it has ended.
        self._scheduled: dict[tuple[str, int], set[str]] = {}

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        self._marked.add((team_id, plan_id))
        self._signal.set()

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        self.plan_changed(team_id, plan_id)

    async def run_forever(self) -> None:
        while True:
            await self._signal.wait()
            await self.drain()

    async def drain(self) -> None:
        """Schedule what the plans marked so far call for; returns once that is stored, also when
        another drain was already at work on some of them."""
        async with self._draining:
            await self._drain()

    async def _drain(self) -> None:
        self._signal.clear()
        while self._marked:
            team_id, plan_id = self._marked.pop()
            try:
                await self._observe(team_id, plan_id)
            except Exception:
                # The database is away: look at the plan again shortly, so its events are not lost.
                log.exception("could not work out the notifications of plan %s; retrying", plan_id)
                JOBS.labels(kind="notify.feed", outcome="retried").inc()
                self._marked.add((team_id, plan_id))
                await asyncio.sleep(RETRY_SECONDS)

    async def _observe(self, team_id: str, plan_id: int) -> None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Plan.status, Plan.target, Execution.id, Execution.started_at)
                    .outerjoin(Execution, Execution.plan_id == Plan.id)
                    .where(Plan.team_id == team_id, Plan.id == plan_id)
                )
            ).first()
        if row is None:
            return
        status, target, execution_id, started_at = row
        seen = self._remembered(team_id, plan_id)
        events = events_of(
            PlanStatus(status), queued=execution_id is not None, started=started_at is not None
        )
        wanted = [
            (event, sink)
            for event in events
            if event not in seen
            for sink in self._routes.sinks_for(target["environment"], event)
        ]
        if wanted:
            await self._schedule(team_id, plan_id, wanted)
        seen.update(events)
        if PlanStatus(status).is_final:
            self._scheduled.pop((team_id, plan_id), None)

    def _remembered(self, team_id: str, plan_id: int) -> set[str]:
        """The events scheduled for a plan; plans that end in another process are never seen to
        end here, so past REMEMBERED plans the oldest is forgotten (its events are then only
        inserted again and found stored)."""
        key = (team_id, plan_id)
        if key not in self._scheduled and len(self._scheduled) >= REMEMBERED:
            self._scheduled.pop(next(iter(self._scheduled)))
        return self._scheduled.setdefault(key, set())

    async def _schedule(self, team_id: str, plan_id: int, wanted: list[tuple[str, str]]) -> None:
        async with self._sessions.begin() as session:
            view = await plan_views.load(session, team_id=team_id, plan_id=plan_id)
            for event, sink in wanted:
                await jobs.schedule(
                    session,
                    team_id=team_id,
                    plan_id=plan_id,
                    kind=KIND_PREFIX + sink,
                    key=event,
                    due_at=self._clock.now(),
                    payload=event_document(event, view),
                )
        self._jobs.wake()
