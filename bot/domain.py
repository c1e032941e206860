"""Domain types shared by services, blocks and tests; a leaf module that imports nothing of ours."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PlanStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    # Policy stands in the way (a freeze, a closed maintenance window) but break-glass may override.
    BLOCKED = "blocked"
    APPROVED = "approved"
    RUNNING = "running"
    # A step that is not safe to repeat was interrupted (its worker died): a person decides.
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    # Nobody let it run before its approval window closed.
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_PLAN_STATUSES


_FINAL_PLAN_STATUSES = frozenset(
    {
        PlanStatus.SUCCEEDED,
        PlanStatus.FAILED,
        PlanStatus.ROLLED_BACK,
        PlanStatus.REJECTED,
        PlanStatus.CANCELLED,
        PlanStatus.EXPIRED,
    }
)


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"


class Resolution(StrEnum):
    """What an approver chose for a paused execution, or for a cancelled one (roll back only)."""

    RETRY = "retry"
    SKIP = "skip"
    ROLL_BACK = "roll_back"


class StepStage(StrEnum):
    """Act steps make the change, verify steps check it (a failure rolls the change back), and
    follow-up steps record it once verify has passed (an annotation, a ticket note): a failed
    follow-up shows on the card but rolls nothing back. Rollback steps are the worker's own."""

    ACT = "act"
    VERIFY = "verify"
    FOLLOW_UP = "follow_up"
    ROLLBACK = "rollback"


_STAGE_ORDER = {StepStage.ACT: 0, StepStage.VERIFY: 1, StepStage.FOLLOW_UP: 2, StepStage.ROLLBACK: 3}


class StepState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class RiskLevel(StrEnum):
    READ = "read"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BlastRadius(StrEnum):
    NAMESPACE = "namespace"
    CLUSTER = "cluster"
    ACCOUNT = "account"


class PipelineIdentity(BaseModel):
    """A pipeline calling the API (bot/api) rather than a person in Slack: its roles come from its
    token, or from the CI identity its OIDC claims map to, never from ROLES; its claims (repository,
    ref, environment, ...) reach the policy."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    roles: tuple[str, ...]
    claims: dict[str, str] = Field(default_factory=dict)


class Actor(BaseModel):
    """Who is acting, as Slack identifies them: every row carries the team so workspaces never mix.
    A pipeline's `user_id` has a `token:` or `oidc:` prefix, which no Slack user id can have."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    team_id: str
    user_id: str
    pipeline: PipelineIdentity | None = None


class Target(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    environment: str
    cluster: str = ""
    namespace: str
    kind: str = "Deployment"
    name: str


class Risk(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    level: RiskLevel
    blast_radius: BlastRadius
    targets: list[str]
    dependents: list[str] | None = None
    """The services that depend on the plan's target, directly or not, in the context graph when the
    plan was made; None when the graph does not know the target."""


class StepSpec(BaseModel):
    """One step as planned: which tool action runs, with what arguments, in which stage."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    stage: StepStage
    action: str
    args: dict[str, Any]
    description: str
    timeout_seconds: float | None = Field(default=None, gt=0)
    """Overrides the action's own timeout for this step; None keeps the action's."""
    risk: RiskLevel | None = None
    """A floor the planner sets (a secret rotation is high whatever writes it): policy takes the
    higher of it and the action's own risk, so it can raise a step's risk but never lower it."""
    rerun_on_rollback: bool = False
    """Not undone but run again once every other completed step is undone: a restart, so that
    consumers read what the rollback restored."""


class WorkflowRef(BaseModel):
    """Which workflow, in which version, a plan was made from; `override` names the environment file
    that changed the workflow's code-defined steps, if one did."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    version: str
    override: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" + (f" ({self.override})" if self.override else "")


class PlannerRef(BaseModel):
    """Which planner read a plan from text: `rules`, or a model provider with its model. `note` says
    why the rules planner stood in for the configured model, when it had to."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    model: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.model})" if self.model else self.name


class PlanDraft(BaseModel):
    """What the planner proposes before anything is stored or decided."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    intent: str
    summary: str
    target: Target
    steps: list[StepSpec]
    rollback: str
    risk: Risk
    workflow: WorkflowRef | None = None
    workflow_inputs: dict[str, Any] | None = None
    """The workflow's checked inputs (JSON values), kept so an edit can show them again."""
    # None for plans nobody read from text (a workflow form, `workflow start name=value`).
    planner: PlannerRef | None = None

    @field_validator("steps")
    @classmethod
    def _in_stage_order(cls, steps: list[StepSpec]) -> list[StepSpec]:
        """Steps are stored, shown and run act, verify, follow-up: a check added after a follow-up
        step still runs (and is listed) before it. Within a stage the order is kept."""
        return sorted(steps, key=lambda step: _STAGE_ORDER[step.stage])


class FieldKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class FormField(BaseModel):
    """One input of a workflow as a form shows it; `default` and `choices` are text as typed."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    label: str
    kind: FieldKind
    required: bool
    default: str | None = None
    choices: list[str] = Field(default_factory=list)
    hint: str = ""


class WorkflowStepInfo(BaseModel):
    """A step a workflow may plan, as `workflow show` lists it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    stage: StepStage
    actions: list[str]
    description: str
    changed_by_override: bool = False
    enabled: bool = True


class WorkflowInfo(BaseModel):
    """A workflow as the catalog shows it, in the version active for one environment."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    ref: WorkflowRef
    description: str
    examples: list[str]
    fields: list[FormField]
    steps: list[WorkflowStepInfo]


class PolicyDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    allow: bool
    required_approvals: int
    reasons: list[str] = Field(default_factory=list)
    break_glass_offered: bool = False


class StepView(BaseModel):
    """A step with its latest run, as the card shows it: `args` are masked for display, so run
    nothing from a view; the stored plan steps carry the real arguments."""

    model_config = ConfigDict(defer_build=True)

    position: int
    stage: StepStage
    action: str
    args: dict[str, Any]
    description: str
    state: StepState
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output_summary: str = ""
    error: str = ""
    output: dict[str, Any] = Field(default_factory=dict)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ApprovalView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    user_id: str
    approved_at: datetime


class RevisionView(BaseModel):
    """What the last edit of a plan changed against the version before it, and whose approvals of
    that version it voided."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    version: int
    edited_by: str
    edited_at: datetime
    changes: list[str]
    voided_approvers: list[str] = Field(default_factory=list)


class EscalationView(BaseModel):
    """An escalation step of the plan's current version that has been taken."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    step: str
    """"ping" (the approvers' user group, in the thread) or "page" (on-call, through PagerDuty)."""
    at: datetime


class PlanView(BaseModel):
    """Everything the plan card needs, read in one go so rendering never touches the database."""

    model_config = ConfigDict(defer_build=True)

    id: int
    team_id: str
    requester_id: str
    intent: str
    summary: str
    target: Target
    status: PlanStatus
    risk: Risk
    decision: PolicyDecision
    rollback: str
    steps: list[StepView]
    approvals: list[ApprovalView]
    created_at: datetime
    finished_at: datetime | None = None
    status_reason: str = ""
    status_actor_id: str = ""
    execution_note: str = ""
    rollback_offered: bool = False
    """Completed act steps could be undone and nothing has rolled them back (a cancelled plan)."""
    break_glass_by: str = ""
    break_glass_reason: str = ""
    workflow: WorkflowRef | None = None
    version: int = 1
    confirm_word: str = ""
    """What an approver types to approve (a high-risk plan in production); empty: a click will do."""
    revision: RevisionView | None = None
    """Set from v2 on: what the edit that made this version changed."""
    approval_closes_at: datetime | None = None
    """When the plan expires unless it is let run (its environment's approval window)."""
    escalations: list[EscalationView] = Field(default_factory=list)
    planner: PlannerRef | None = None
    notes: list[NoteView] = Field(default_factory=list)
    """What operators noted about the target service, newest first (a few; the rest stay a search away)."""
    session: str = ""
    """The name of the change session the plan was made in; empty: none."""

    @property
    def break_glass_open(self) -> bool:
        """Whether an admin may still force this plan through from its card."""
        return self.decision.break_glass_offered and self.status in (
            PlanStatus.AWAITING_APPROVAL,
            PlanStatus.BLOCKED,
        )

    @property
    def approvals_missing(self) -> int:
        return max(0, self.decision.required_approvals - len(self.approvals))


class IncidentStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentLink(BaseModel):
    """A link on the incident message (Prometheus graph, Grafana dashboard, runbook): http(s) only."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    label: str
    url: str


class IncidentView(BaseModel):
    """Everything the incident message needs, read in one go so rendering never touches the database.
    Labels and annotations come from alerts as sent: render them as untrusted text."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    team_id: str
    service: str
    alertname: str
    severity: str
    title: str
    status: IncidentStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    started_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str = ""
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    alerts_firing: int = 0
    alerts_total: int = 0
    deliveries: int = 0
    links: list[IncidentLink] = Field(default_factory=list)
    channel_id: str | None = None
    ts: str | None = None
    expr: str = ""
    """The PromQL expression of the alert's rule (from its generator URL), charted when known."""


class DiagnosticState(StrEnum):
    OK = "ok"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"


class DiagnosticSection(BaseModel):
    """One source of diagnostics: what it said, or why it said nothing (failed, not configured)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    title: str
    source: str
    state: DiagnosticState
    lines: list[str] = Field(default_factory=list)
    note: str = ""


class TimelineEntry(BaseModel):
    """One thing that happened during an incident or a change session, for its timeline and exports."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    at: datetime
    kind: str
    actor: str = ""
    text: str
    plan_id: int | None = None


class Evidence(BaseModel):
    """One read an investigation made: which action with which arguments, and what it said (masked
    and cut short); `refused` when it was not run (a write, an unknown action, bad arguments)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    number: int
    action: str
    args: dict[str, Any]
    ok: bool
    said: str
    refused: bool = False


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    text: str
    evidence: list[int]
    """Numbers of the Evidence it rests on."""


class Findings(BaseModel):
    """What an investigation found, with the evidence it came from. `note` says why it ended without
    a report, or what in the report did not add up; nothing was changed either way."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    question: str
    summary: str
    findings: list[Finding]
    evidence: list[Evidence]
    made_by: PlannerRef
    note: str = ""


class NoteView(BaseModel):
    """An operator's note about a service, as plan cards and lists show it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    service: str
    text: str
    author_id: str
    created_at: datetime
    source: str = ""


class RunbookView(BaseModel):
    """A runbook: markdown steps for a service, and the workflow (with inputs) that remediates the
    alerts it names. `source` is the file it was read from ("" when written in Slack)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    service: str
    title: str
    body: str
    workflow: str | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    alertnames: list[str] = Field(default_factory=list)
    source: str = ""
    version: str
    updated_by: str
    updated_at: datetime


class PlaybookView(BaseModel):
    """A playbook: steps with `{input}` placeholders that become a plan when someone starts it.
    `inputs` maps each input to its default (None: it must be given)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    name: str
    description: str
    inputs: dict[str, str | None] = Field(default_factory=dict)
    steps: list[StepSpec]
    spec: dict[str, Any]
    """The whole definition as stored (bot.playbooks.PlaybookSpec), which an edit starts from."""
    source: str = ""
    version: str
    updated_by: str
    updated_at: datetime


class ScheduleRunView(BaseModel):
    """One firing of a schedule: when it was due, what it made (a plan, or why not), and how many
    earlier due times it stood for after downtime (`missed`)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    due_at: datetime
    kind: str
    state: str
    missed: int = 0
    plan_id: int | None = None
    detail: str = ""
    actor_id: str


class ScheduleView(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    cron: str
    timezone: str
    request: str
    channel_id: str
    created_by: str
    enabled: bool
    next_run_at: datetime | None = None


class PlanSummary(BaseModel):
    """A plan as one line of a list (the App Home): what, whose, where it stands."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    summary: str
    status: PlanStatus
    requester_id: str
    environment: str
    risk: RiskLevel
    created_at: datetime
    steps_total: int = 0
    steps_done: int = 0


class MaintenanceWindowView(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    environment: str
    start: str
    end: str
    timezone: str
    open_now: bool


class FreezeView(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    environment: str
    until: datetime
    reason: str


class PageInfo(BaseModel):
    """Where a list shown a page at a time is: page `number` (from 0) and whether more follow."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    number: int = 0
    has_more: bool = False


class HomeView(BaseModel):
    """Everything one person's App Home tab shows, read in one go so rendering never touches the
    database. Each list is one page; `pages` says where each is."""

    model_config = ConfigDict(defer_build=True)

    user_id: str
    can_approve: bool
    pending: list[PlanSummary]
    running: list[PlanSummary]
    mine: list[PlanSummary]
    freezes: list[FreezeView]
    windows: list[MaintenanceWindowView]
    upcoming: list[ScheduleView]
    schedules: list[ScheduleView]
    runbooks: list[RunbookView]
    playbooks: list[PlaybookView]
    notes: list[NoteView]
    pages: dict[str, PageInfo] = Field(default_factory=dict)
    notice: str = ""


class AuditEntry(BaseModel):
    """One audit event as search and export show it. `decision` ("allow", "deny", "break-glass" or
    "" when the event records none) and `reasons` are read from its detail; `execution_id` from its
    stream or detail."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    team_id: str
    created_at: datetime
    stream: str
    seq: int
    plan_id: int | None
    execution_id: int | None
    actor_id: str
    action: str
    decision: str
    reasons: list[str]
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """A page of a search, newest first; `older` is the opaque token of the next page (None at the
    end), and `filters` says in words what was searched for."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    entries: list[AuditEntry]
    filters: str
    older: str | None = None
    first: str | None = None
    """The token of the newest page of the same search, when this is not it."""


class RelatedNode(BaseModel):
    """A node next to a service in the context graph, as people read it ("deployment shop/checkout")."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    label: str
    detail: str = ""


class RecentChange(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    plan_id: int
    summary: str
    status: PlanStatus
    created_at: datetime


class ServiceContext(BaseModel):
    """What `/carapulse context <service>` shows: the service's neighbourhood in the latest snapshot."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    environment: str
    owner: str
    channel: str
    runs_on: list[RelatedNode]
    depends_on: list[str]
    dependents: list[str]
    """Every service that depends on this one, directly or not."""
    exposed_by: list[RelatedNode]
    deployed_by: list[RelatedNode]
    alerts: list[RelatedNode]
    recent_changes: list[RecentChange]
    snapshot_taken_at: datetime
    snapshot_checked_at: datetime
    notes: list[str]


class ContextDiff(BaseModel):
    """What changed around a service between two snapshots: edges and node facts, as sentences."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    service: str
    since: datetime
    until: datetime
    added: list[str]
    removed: list[str]
    changed: list[str]


class SessionRole(StrEnum):
    """What a person does in a change or incident session (the usual incident-command roles); it
    grants nothing in policy: who may approve a plan is still ROLES' and the policy's business."""

    LEAD = "lead"
    """Runs the session (the incident commander): decides, ends it, sets its members."""
    OPERATOR = "operator"
    """Hands on the keyboard: requests and runs the changes."""
    COMMS = "comms"
    """Keeps stakeholders and the status page informed."""
    SCRIBE = "scribe"
    """Keeps the notes the timeline does not."""
    OBSERVER = "observer"


class SessionMember(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    role: SessionRole
    joined_at: datetime
    added_by: str


class SessionPlan(BaseModel):
    """A plan made in a session, as it stands: its status, who approved it, how its run ended."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    summary: str
    status: PlanStatus
    approvers: list[str]
    execution_status: str | None = None


class SessionView(BaseModel):
    """A change session with its current members and the plans made in it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: int
    team_id: str
    name: str
    channel_id: str
    thread_ts: str | None
    started_by: str
    started_at: datetime
    ended_by: str | None = None
    ended_at: datetime | None = None
    members: list[SessionMember] = Field(default_factory=list)
    plans: list[SessionPlan] = Field(default_factory=list)
    plans_total: int = 0

    @property
    def leads(self) -> list[str]:
        return [member.user_id for member in self.members if member.role == SessionRole.LEAD]
