"""Tables of what people keep beside their plans: operator notes, runbooks, playbooks and schedules
with their run history. Every row carries its workspace's team id; runbooks and playbooks read
from files carry FILES_TEAM instead (see bot/library_files.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, Plan, TeamId, UserId

ServiceName = String(64)

# "My recent plans" on the App Home: one user's plans in one workspace, newest first.
Index("ix_plans_team_requester", Plan.team_id, Plan.requester_id, Plan.id)


class OperatorNote(Base):
    """A short note about a service ("never scale below 3 in prod"), shown on its plan cards."""

    __tablename__ = "operator_notes"
    __table_args__ = (
        Index("ix_operator_notes_team", "team_id", "id"),
        Index("ix_operator_notes_team_service", "team_id", "service", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    service: Mapped[str] = mapped_column(ServiceName)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(UserId)
    # Where it came from: "" when typed, "message <channel>/<ts>" when taken from a Slack message.
    source: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]


class Runbook(Base):
    """Markdown steps for a service, and optionally the workflow (with inputs) that remediates the
    alerts linked to it in runbook_alerts."""

    __tablename__ = "runbooks"
    __table_args__ = (UniqueConstraint("team_id", "service", "title", name="uq_runbooks_team_service_title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    service: Mapped[str] = mapped_column(ServiceName)
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    workflow_name: Mapped[str | None] = mapped_column(String(64))
    workflow_inputs: Mapped[dict[str, Any]]
    # "" when written in Slack; else the file's path relative to LIBRARY_DIR.
    source: Mapped[str] = mapped_column(String(255), default="")
    # The file's git commit, or sha256:<content hash> outside a repository; a counter for Slack edits.
    version: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RunbookAlert(Base):
    """An alertname whose remediation is a runbook's workflow: one runbook per (service, alertname)."""

    __tablename__ = "runbook_alerts"
    __table_args__ = (
        UniqueConstraint("team_id", "service", "alertname", name="uq_runbook_alerts_team_service_alert"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    service: Mapped[str] = mapped_column(ServiceName)
    alertname: Mapped[str] = mapped_column(String(128))
    runbook_id: Mapped[int] = mapped_column(ForeignKey("runbooks.id", ondelete="CASCADE"), index=True)


class Playbook(Base):
    """A named sequence of tool steps with `{input}` placeholders, started like a workflow."""

    __tablename__ = "playbooks"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_playbooks_team_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    name: Mapped[str] = mapped_column(String(64))
    # The definition as bot.playbooks.PlaybookSpec dumps it (description, inputs, target, steps).
    spec: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(255), default="")
    version: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Schedule(Base):
    """A cron expression in a time zone and the request it makes when due (a sentence or a workflow
    start), planned as its creator in the channel it was created in. `next_run_at` is None while
    paused, so the scheduler's index holds only schedules that will fire."""

    __tablename__ = "schedules"
    __table_args__ = (
        Index("ix_schedules_team", "team_id", "id"),
        Index("ix_schedules_team_next", "team_id", "next_run_at"),
        Index("ix_schedules_next", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(UserId)
    enabled: Mapped[bool]
    next_run_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduleRun(Base):
    """One firing of a schedule. The unique (schedule, due time) lets exactly one replica fire each
    due run; a replica that dies between claiming and planning leaves a lease that expires, and the
    next one plans it (the plan's source key keeps that to one plan)."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "due_at", name="uq_schedule_runs_due"),
        Index("ix_schedule_runs_history", "schedule_id", "id"),
        Index("ix_schedule_runs_lease", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    # "cron" or "manual" (run now).
    kind: Mapped[str] = mapped_column(String(16))
    # "claimed", then "planned" or "failed".
    state: Mapped[str] = mapped_column(String(16))
    # Due runs that passed while no replica was up, folded into this one (the missed-run rule).
    missed: Mapped[int] = mapped_column(Integer, default=0)
    plan_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[str] = mapped_column(UserId)
    claimed_by: Mapped[str] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
