"""The API's request and response bodies. /api/v1/openapi.json is generated from these models, so
what the document promises is what the handlers read and write."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain import (
    ApprovalView,
    ExecutionStatus,
    PlanStatus,
    PolicyDecision,
    Risk,
    StepView,
    Target,
    WorkflowRef,
)

InputValue = Annotated[str, Field(max_length=3000)] | int | float | bool
MAX_PAGE = 100


class ErrorBody(BaseModel):
    """Every refusal: a stable `error` code, a sentence saying what to fix, and for bad bodies or
    workflow inputs one message per field."""

    model_config = ConfigDict(defer_build=True)

    error: str
    message: str
    problems: dict[str, str] = Field(default_factory=dict)


class PlanCreate(BaseModel):
    """A plan from a workflow and its inputs, or from a sentence as typed after `/carapulse`."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    workflow: str | None = Field(default=None, min_length=1, max_length=64, examples=["scale_service"])
    inputs: dict[str, InputValue] = Field(
        default_factory=dict, examples=[{"name": "checkout", "namespace": "shop", "replicas": 5}]
    )
    intent: str | None = Field(
        default=None, min_length=1, max_length=2000, examples=["scale checkout to 5 in shop"]
    )

    @model_validator(mode="after")
    def _workflow_or_intent(self) -> PlanCreate:
        if (self.workflow is None) == (self.intent is None):
            raise ValueError("give either `workflow` (with `inputs`) or `intent`, not both and not neither")
        if self.intent is not None and self.inputs:
            raise ValueError("`inputs` go with `workflow`; an `intent` carries its own")
        return self


class PlanCreated(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: int
    status: PlanStatus
    url: str = Field(description="This plan in the API")
    slack_permalink: str | None = Field(
        description="The plan card in Slack, where people approve it; null when Slack gave none"
    )


class ExecutionOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: ExecutionStatus
    attempts: int
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class PlanOut(BaseModel):
    """A plan and its execution. Step arguments and outputs are redacted as on the card."""

    model_config = ConfigDict(defer_build=True)

    id: int
    status: PlanStatus
    final: bool = Field(description="The plan has ended and will not change state again")
    summary: str
    intent: str
    requester_id: str
    target: Target
    risk: Risk
    decision: PolicyDecision
    rollback: str
    workflow: WorkflowRef | None = None
    steps: list[StepView]
    approvals: list[ApprovalView]
    created_at: datetime
    finished_at: datetime | None = None
    status_reason: str = ""
    status_actor_id: str = ""
    execution: ExecutionOut | None = None


class PlanSummary(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: int
    status: PlanStatus
    summary: str
    requester_id: str
    environment: str
    workflow: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


class PlanPage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    plans: list[PlanSummary]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next, older page; null at the end")


class PlanQuery(BaseModel):
    """Newest first; `cursor` is the `next_cursor` of the page before."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    limit: int = Field(default=20, ge=1, le=MAX_PAGE)
    cursor: int | None = Field(default=None, ge=1)
    status: PlanStatus | None = None
    requester: str | None = Field(default=None, min_length=1, max_length=32)
