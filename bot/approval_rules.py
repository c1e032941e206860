"""How approvals go in each environment (the `APPROVALS` setting): what an approver types to
confirm a high-risk plan in production, and when a plan nobody approves pings the approvers, pages
on-call and expires."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain import PlanDraft, RiskLevel
from bot.errors import unknown_environment

Seconds = Annotated[float, Field(gt=0)]
# The escalation steps, in order, and the kind of job each is scheduled as (bot/jobs.py).
ESCALATION_STEPS = ("ping", "page", "expire")
ESCALATION_KINDS = {step: f"escalation.{step}" for step in ESCALATION_STEPS}
ConfirmWith = Literal["environment", "target", "none"]


class EnvironmentApprovals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    confirm_with: ConfirmWith = "environment"
    """What an approver of a high-risk plan in a production environment types: the environment's
    name, the target's name, or nothing (no typed confirmation)."""
    ping_after_seconds: Seconds | None = None
    """A plan still missing approvals this long after it was made (or edited) pings `usergroup` in its
    thread."""
    page_after_seconds: Seconds | None = None
    """... and this long after, pages on-call through PagerDuty (when the tool can send alerts)."""
    expire_after_seconds: Seconds | None = None
    """The approval window: a plan not let run by then expires. None: it waits until decided."""
    usergroup: str = Field(default="", pattern=r"^(S[A-Z0-9]+)?$")
    """The Slack user group (S…) of the approvers to ping; empty: the ping names nobody."""

    @model_validator(mode="after")
    def _in_order(self) -> EnvironmentApprovals:
        steps = [
            (name, value)
            for name, value in (
                ("ping_after_seconds", self.ping_after_seconds),
                ("page_after_seconds", self.page_after_seconds),
                ("expire_after_seconds", self.expire_after_seconds),
            )
            if value is not None
        ]
        for (earlier, first), (later, second) in itertools.pairwise(steps):
            if second <= first:
                raise ValueError(f"{later} ({second:g}) must be later than {earlier} ({first:g})")
        return self

    def delays(self) -> dict[str, timedelta]:
        """How long after the plan was made (or edited) each configured escalation step comes."""
        configured = {
            "ping": self.ping_after_seconds,
            "page": self.page_after_seconds,
            "expire": self.expire_after_seconds,
        }
        return {step: timedelta(seconds=after) for step, after in configured.items() if after is not None}


class ApprovalRules:
    """The `APPROVALS` setting read against the configured environments."""

    def __init__(
        self, environments: Mapping[str, EnvironmentApprovals], *, production: Mapping[str, bool]
    ) -> None:
        unknown = sorted(set(environments) - set(production))
        if unknown:
            raise unknown_environment("APPROVALS", unknown[0], production)
        self._environments = dict(environments)
        self._production = dict(production)

    def of(self, environment: str) -> EnvironmentApprovals:
        return self._environments.get(environment) or EnvironmentApprovals()

    def confirm_word(self, draft: PlanDraft) -> str | None:
        """What an approver must type to approve this plan; None when a click is enough (it is not
        high risk, or not in a production environment, or the environment asks for no typing)."""
        environment = draft.target.environment
        if draft.risk.level != RiskLevel.HIGH or not self._production.get(environment, False):
            return None
        match self.of(environment).confirm_with:
            case "environment":
                return environment
            case "target":
                return draft.target.name
            case _:
                return None
