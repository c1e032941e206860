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


class Actor(BaseModel):
    """Who is acting, as Slack identifies them: every row carries the team so workspaces never mix."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    team_id: str
    user_id: str


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
