"""Reads everything one person's App Home tab shows into a HomeView: plans waiting for their
approval, running executions with their progress, their recent plans, freezes and maintenance
windows in force, the coming scheduled runs, and a page each of schedules, runbooks, playbooks and
operator notes. Every list is one page of an indexed query."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, exists, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot import freezes, memory, paging, playbooks, runbooks, schedules
from bot.db.models import Approval, Execution, Plan, PlanStep, StepRun
from bot.domain import (
    FreezeView,
    HomeView,
    MaintenanceWindowView,
    PageInfo,
    PlanStatus,
    PlanSummary,
    RiskLevel,
    StepStage,
    StepState,
)
from bot.paging import Page
from bot.policy import Policy

PAGE_SIZE = 5
UPCOMING = 8
FREEZES_SHOWN = 10
SECTIONS = ("pending", "running", "mine", "schedules", "runbooks", "playbooks", "notes")
APPROVER_ROLES = frozenset({"approver", "admin"})
_OPEN = (PlanStatus.AWAITING_APPROVAL, PlanStatus.BLOCKED)
_ACTIVE = (PlanStatus.APPROVED, PlanStatus.RUNNING, PlanStatus.PAUSED)
_DONE = (StepState.SUCCEEDED, StepState.SKIPPED, StepState.FAILED)


async def load(
    session: AsyncSession,
    *,
    team_id: str,
    user_id: str,
    policy: Policy,
    pages: Mapping[str, int],
    now: datetime,
) -> HomeView:
    page = {section: max(0, int(pages.get(section, 0))) for section in SECTIONS}
    can_approve = bool(APPROVER_ROLES & set(policy.roles.get(user_id, policy.default_roles)))
    plan_lists = await _plan_lists(session, team_id, user_id, page, can_approve=can_approve)
    pending, running, mine = (plan_lists[name] for name in ("pending", "running", "mine"))
    listed = {
        "schedules": await schedules.listing(
            session, team_id=team_id, page=page["schedules"], size=PAGE_SIZE
        ),
        "runbooks": await runbooks.listing(session, team_id=team_id, page=page["runbooks"], size=PAGE_SIZE),
        "playbooks": await playbooks.listing(
            session, team_id=team_id, page=page["playbooks"], size=PAGE_SIZE
        ),
        "notes": await memory.listing(session, team_id=team_id, page=page["notes"], size=PAGE_SIZE),
    }
    in_force = await freezes.active(session, team_id=team_id)
    shown: dict[str, Page[Any]] = {"pending": pending, "running": running, "mine": mine, **listed}
    return HomeView(
        user_id=user_id,
        can_approve=can_approve,
        pending=pending.items,
        running=running.items,
        mine=mine.items,
        freezes=[FreezeView(environment=f.environment, until=f.until, reason=f.reason) for f in in_force][
            :FREEZES_SHOWN
        ],
        windows=_windows(policy, now),
        upcoming=await schedules.upcoming(session, team_id=team_id, limit=UPCOMING),
        schedules=listed["schedules"].items,
        runbooks=listed["runbooks"].items,
        playbooks=listed["playbooks"].items,
        notes=listed["notes"].items,
        pages={name: PageInfo(number=found.number, has_more=found.has_more) for name, found in shown.items()},
    )


async def _plan_lists(
    session: AsyncSession, team_id: str, user_id: str, page: Mapping[str, int], *, can_approve: bool
) -> dict[str, Page[PlanSummary]]:
    """The page of each list of plans, read in one statement: plans waiting for this person (open,
    someone else's, not approved by them as they are now), running plans, and their own."""
    approved = exists().where(
        Approval.plan_id == Plan.id, Approval.user_id == user_id, Approval.plan_hash == Plan.plan_hash
    )
    conditions = {
        "pending": Plan.status.in_(_OPEN) & (Plan.requester_id != user_id) & ~approved,
        "running": Plan.status.in_(_ACTIVE),
        "mine": Plan.requester_id == user_id,
    }
    if not can_approve:
        del conditions["pending"]
    parts = [
        select(paging.window(_listed(team_id, name).where(condition), page[name], PAGE_SIZE).subquery())
        for name, condition in conditions.items()
    ]
    rows = (await session.execute(union_all(*parts))).all()
    return {
        name: paging.page_of([_summary(row) for row in rows if row.section == name], page[name], PAGE_SIZE)
        for name in ("pending", "running", "mine")
    }


def _listed(team_id: str, section: str) -> Select[Any]:
    """A workspace's plans, newest first, as list rows: with their step counts, and named for the
    list they are read for."""
    total = select(func.count()).where(PlanStep.plan_id == Plan.id).scalar_subquery()
    done = (
        select(func.count())
        .select_from(StepRun)
        .join(Execution, Execution.id == StepRun.execution_id)
        .where(Execution.plan_id == Plan.id, StepRun.stage != StepStage.ROLLBACK, StepRun.status.in_(_DONE))
        .scalar_subquery()
    )
    return (
        select(
            literal(section).label("section"),
            Plan.id,
            Plan.summary,
            Plan.status,
            Plan.requester_id,
            Plan.target,
            Plan.risk,
            Plan.created_at,
            total.label("total"),
            done.label("done"),
        )
        .where(Plan.team_id == team_id)
        .order_by(Plan.id.desc())
    )


def _summary(row: Row[Any]) -> PlanSummary:
    return PlanSummary(
        id=row.id,
        summary=row.summary,
        status=PlanStatus(row.status),
        requester_id=row.requester_id,
        environment=row.target["environment"],
        risk=RiskLevel(row.risk["level"]),
        created_at=row.created_at,
        steps_total=row.total,
        steps_done=row.done,
    )


def _windows(policy: Policy, now: datetime) -> list[MaintenanceWindowView]:
    """The configured maintenance windows, and whether each is open at `now`."""
    views = []
    for environment, config in sorted(policy.environments.items()):
        for window in config.maintenance_windows:
            local = now.astimezone(ZoneInfo(window.timezone)).strftime("%H:%M")
            if window.start <= window.end:
                open_now = window.start <= local < window.end
            else:
                open_now = local >= window.start or local < window.end
            views.append(
                MaintenanceWindowView(
                    environment=environment,
                    start=window.start,
                    end=window.end,
                    timezone=window.timezone,
                    open_now=open_now,
                )
            )
    return views
