"""ORM models. Every workspace-owned row carries its Slack team id; uniqueness rules that stop
duplicate plans, approvals and executions live here as constraints, not only as checks in code."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UTCDateTime

TeamId = String(32)
UserId = String(32)
# "team", "plan:<id>" or "execution:<id>" (bot/audit.py).
AuditStream = String(40)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        # One Slack request (its trigger_id) yields at most one plan, however often it is delivered.
        UniqueConstraint("team_id", "source_key", name="uq_plans_team_source"),
        Index("ix_plans_team_status", "team_id", "status"),
        # PLAN_RATE_LIMIT counts a person's recent plans (bot/plan_rate.py).
        Index("ix_plans_team_requester_created", "team_id", "requester_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    source_key: Mapped[str] = mapped_column(String(255))
    requester_id: Mapped[str] = mapped_column(UserId)
    channel_id: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(255))
    target: Mapped[dict[str, Any]]
    risk: Mapped[dict[str, Any]]
    decision: Mapped[dict[str, Any]]
    rollback: Mapped[str] = mapped_column(Text)
    plan_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_actor_id: Mapped[str] = mapped_column(UserId, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # An admin forced the plan past approvals, windows or a freeze: who, why and when.
    break_glass_by: Mapped[str | None] = mapped_column(UserId)
    break_glass_reason: Mapped[str | None] = mapped_column(Text)
    break_glass_at: Mapped[datetime | None]
    # The workflow (and version, and environment override file) the plan was made from, if any.
    workflow_name: Mapped[str | None] = mapped_column(String(64))
    workflow_version: Mapped[str | None] = mapped_column(String(64))
    workflow_override: Mapped[str | None] = mapped_column(String(255))
    # The workflow's inputs as checked, so an edit can show them again (bot/revisions.py).
    workflow_inputs: Mapped[dict[str, Any] | None]
    # 1, then one more for each edit; approvals are bound to the version through plan_hash.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # What an approver must type to approve (a high-risk plan in production); None: a click will do.
    confirm_word: Mapped[str | None] = mapped_column(String(255))
    # Which planner read the plan from text (rules, openai, anthropic), its model, and why the rules
    # planner stood in for a model if it did; None when nobody read it from text.
    planner: Mapped[str | None] = mapped_column(String(32))
    planner_model: Mapped[str | None] = mapped_column(String(128))
    planner_note: Mapped[str | None] = mapped_column(Text)

    steps: Mapped[list[PlanStep]] = relationship(
        order_by="PlanStep.position", cascade="all, delete-orphan", lazy="raise"
    )


class PlanStep(Base):
    __tablename__ = "plan_steps"
    __table_args__ = (UniqueConstraint("plan_id", "position", name="uq_plan_steps_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    position: Mapped[int]
    stage: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]]
    description: Mapped[str] = mapped_column(Text)
    timeout_seconds: Mapped[float | None]
    risk: Mapped[str | None] = mapped_column(String(16))
    rerun_on_rollback: Mapped[bool] = mapped_column(default=False, server_default=false())


class PlanVersion(Base):
    """A version of a plan as it was when an edit replaced it: what approvers had seen, whose
    approvals the edit voided, and who edited it. The current version lives on the plan itself."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_plan_versions_plan_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    version: Mapped[int]
    plan_hash: Mapped[str] = mapped_column(String(64))
    intent: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(255))
    target: Mapped[dict[str, Any]]
    rollback: Mapped[str] = mapped_column(Text)
    # {"steps": [StepSpec as JSON, ...], "workflow_inputs": {...} | None}
    content: Mapped[dict[str, Any]]
    # Whose approvals of this version the edit made void (user ids).
    voided_approvers: Mapped[list[str]] = mapped_column(JSON)
    replaced_by: Mapped[str] = mapped_column(UserId)
    replaced_at: Mapped[datetime]


class ScheduledJob(Base):
    """Work a plan has coming at a moment: an escalation step, a notification to send. Any process
    may run a due job; claiming it moves `due_at` on by a lease, conditioned on the `due_at` it read,
    so two processes never both take it, and one that dies leaves it due again when the lease ends."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        # An escalation step of a plan version, or an event to one sink, is scheduled once.
        UniqueConstraint("plan_id", "kind", "key", name="uq_scheduled_jobs_plan_kind_key"),
        Index("ix_scheduled_jobs_due", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    # What running it came to ("pinged", "sent", "not needed: ...", "failed: ..."); the last error
    # while it is still to be retried.
    outcome: Mapped[str] = mapped_column(Text, default="")


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        # A double click or a Slack retry cannot approve twice.
        UniqueConstraint("plan_id", "user_id", "plan_hash", name="uq_approvals_plan_user_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(UserId)
    decision: Mapped[str] = mapped_column(String(16))
    plan_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = (
        # However many approvals race, a plan runs once.
        UniqueConstraint("plan_id", name="uq_executions_plan"),
        Index("ix_executions_claim", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    # What a person chose for a paused (or cancelled) execution; the worker acts on it when it
    # claims the execution again. See domain.Resolution.
    resolution: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class StepRun(Base):
    __tablename__ = "step_runs"
    __table_args__ = (UniqueConstraint("execution_id", "stage", "position", name="uq_step_runs_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[int] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    plan_step_id: Mapped[int | None] = mapped_column(ForeignKey("plan_steps.id"))
    stage: Mapped[str] = mapped_column(String(16))
    position: Mapped[int]
    action: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    output_summary: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    # The inverse of this step ({"action", "args"}), worked out when it succeeded from the state it
    # read before changing anything; None when it has none. Rollback runs what is stored here. A
    # step marked rerun_on_rollback stores itself with "rerun": true, run after the other undos.
    undo: Mapped[dict[str, Any] | None]


class SlackMessage(Base):
    """Where a plan's card lives, so every later state change edits that one message."""

    __tablename__ = "slack_messages"
    __table_args__ = (UniqueConstraint("plan_id", name="uq_slack_messages_plan"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class ChangeFreeze(Base):
    """While a freeze of an environment lasts, the policy denies writes to it."""

    __tablename__ = "change_freezes"
    __table_args__ = (Index("ix_change_freezes_team_env", "team_id", "environment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    environment: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(UserId)


class AuditEvent(Base):
    """Append-only, hash-chained per stream (see bot/audit.py): `seq` numbers the events of one
    stream 1, 2, ... and is unique in it, so a stream cannot fork. A trigger refuses UPDATE and
    DELETE (migration 0015)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("team_id", "stream", "seq", name="uq_audit_events_stream_seq"),
        Index("ix_audit_events_plan", "team_id", "plan_id"),
        # Search and export page through a workspace's events by time, newest or oldest first.
        Index("ix_audit_events_time", "team_id", "created_at", "id"),
        Index("ix_audit_events_actor", "team_id", "actor_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    stream: Mapped[str] = mapped_column(AuditStream)
    seq: Mapped[int]
    plan_id: Mapped[int | None]
    actor_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChain(Base):
    """The head of one audit stream: its last event's `seq` and hash. Every append moves it in the
    same statement or transaction, so events cut from the end of a stream no longer match it."""

    __tablename__ = "audit_chains"

    team_id: Mapped[str] = mapped_column(TeamId, primary_key=True)
    stream: Mapped[str] = mapped_column(AuditStream, primary_key=True)
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A static token for the pipeline API (bot/api): only its SHA-256 is kept, so the database
    never holds a usable token. Revoked tokens stay, for the audit log's sake."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_api_tokens_team_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    name: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Incident(Base):
    """One alert group (alertname + service by default) while it fires, and its Slack message.

    `open_key` is the group key while the incident is open and NULL once it is resolved: the unique
    constraint on it lets one incident per group be open, however many webhooks or replicas race.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("team_id", "open_key", name="uq_incidents_open_group"),
        Index("ix_incidents_team_group", "team_id", "group_key", "resolved_at"),
        Index("ix_incidents_team_message", "team_id", "channel_id", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    group_key: Mapped[str] = mapped_column(String(512))
    open_key: Mapped[str | None] = mapped_column(String(512))
    service: Mapped[str] = mapped_column(String(128))
    alertname: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    generator_url: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str] = mapped_column(String(128), default="")
    acknowledged_by: Mapped[str] = mapped_column(UserId, default="")
    acknowledged_at: Mapped[datetime | None]
    # Webhook deliveries that carried this incident's alerts (the counter on its message).
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    # Which process posts the message (a replica takes over once the claim has lapsed), and where.
    post_owner: Mapped[str | None] = mapped_column(String(64))
    post_claim_until: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    timeline_posted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IncidentAlert(Base):
    """One alert (by Alertmanager's fingerprint) of an incident: a repeated delivery updates it."""

    __tablename__ = "incident_alerts"
    __table_args__ = (
        UniqueConstraint("incident_id", "fingerprint", name="uq_incident_alerts_fingerprint"),
        Index("ix_incident_alerts_status", "incident_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    receipts: Mapped[int] = mapped_column(Integer, default=1)


class ServiceEvent(Base):
    """Something that happened to a service: a deploy or a Kubernetes event from a webhook, or what
    someone did to one of its incidents. The incident timeline is made of these (and of plans)."""

    __tablename__ = "service_events"
    __table_args__ = (
        Index("ix_service_events_service", "team_id", "service", "occurred_at"),
        Index("ix_service_events_incident", "team_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    service: Mapped[str] = mapped_column(String(128))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128), default="")
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]


class IncidentPlan(Base):
    """A plan made in an incident's thread (or from its buttons): part of the incident's story."""

    __tablename__ = "incident_plans"
    __table_args__ = (UniqueConstraint("plan_id", name="uq_incident_plans_plan"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))


class ContextSnapshot(Base):
    """One collection of a workspace's context graph. A collection that finds the same graph as the
    latest snapshot only moves that snapshot's `checked_at` (bot/context/store.py)."""

    __tablename__ = "context_snapshots"
    __table_args__ = (Index("ix_context_snapshots_team_time", "team_id", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(TeamId)
    taken_at: Mapped[datetime]
    checked_at: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(64))
    # One line per source: what it found, or why it was skipped or left out.
    notes: Mapped[list[str]] = mapped_column(JSON)
    node_count: Mapped[int]
    edge_count: Mapped[int]


class ContextNode(Base):
    __tablename__ = "context_nodes"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "key", name="uq_context_nodes_key"),
        Index("ix_context_nodes_name", "snapshot_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("context_snapshots.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(TeamId)
    key: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    namespace: Mapped[str] = mapped_column(String(63))
    environment: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]]


class ContextEdge(Base):
    __tablename__ = "context_edges"
    __table_args__ = (
        Index("ix_context_edges_source", "snapshot_id", "source"),
        Index("ix_context_edges_target", "snapshot_id", "target", "relation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("context_snapshots.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(TeamId)
    source: Mapped[str] = mapped_column(String(512))
    target: Mapped[str] = mapped_column(String(512))
    relation: Mapped[str] = mapped_column(String(16))


class Lease(Base):
    """A named job that one replica runs at a time (the context collection): whoever holds an
    unexpired lease does it, and renews it each time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


# The tables of notes, runbooks, playbooks and schedules join Base.metadata with their module.
from bot.db import home_models as home_models  # noqa: E402

# The tables of change sessions, likewise.
from bot.db import session_models as session_models  # noqa: E402

# The tables of OAuth installs, as slack_sdk's stores define them.
from bot.db import slack_tables as slack_tables  # noqa: E402
