"""Service-level checks added to every plan's verify stage: a PromQL expression held against a
threshold over a window after the change (e.g. the target's 5xx ratio stays under 1 %), so a change
that rolls out cleanly but breaks the service is still caught and rolled back.

Configured once in VERIFY_CHECKS; `{namespace}`, `{name}`, `{environment}` and `{cluster}` in the
expression are filled from the plan's target.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from bot.domain import PlanDraft, StepSpec, StepStage, Target

CHECK_ACTION = "prometheus.query_threshold"
PLACEHOLDERS = frozenset({"namespace", "name", "environment", "cluster"})


class VerifyCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Annotated[str, Field(min_length=1, max_length=80)]
    expr: Annotated[str, Field(min_length=1, max_length=4000)]
    comparator: Literal["<", "<=", ">", ">=", "==", "!="]
    threshold: Annotated[float, Field(allow_inf_nan=False)]
    window_seconds: Annotated[float, Field(ge=0, le=3600)] = 60
    interval_seconds: Annotated[float, Field(gt=0, le=300)] = 10
    allow_empty: bool = False
    environments: list[str] = Field(default_factory=list)
    """Only plans for these environments get the check; empty means every environment."""

    @property
    def sentence(self) -> str:
        return f"Check {self.label} {self.comparator} {self.threshold:g} for {self.window_seconds:g}s"

    @field_validator("expr")
    @classmethod
    def _known_placeholders(cls, expr: str, info: ValidationInfo) -> str:
        """PromQL is full of braces: a label matcher's `{` must be doubled (`{{`) to stay literal.

        A workflow override's checks may also name the workflow's inputs; it passes them in the
        validation context as `placeholders`."""
        allowed = (info.context or {}).get("placeholders", PLACEHOLDERS)
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(expr) if field is not None}
        except ValueError as exc:
            raise ValueError(f"{exc}; write PromQL's own braces as {{{{ and }}}}") from None
        unknown = names - allowed
        if unknown:
            known = ", ".join(sorted(allowed))
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}} (known: {known}); "
                "write PromQL's own braces as {{ and }}"
            )
        return expr


def with_checks(draft: PlanDraft, checks: Sequence[VerifyCheck]) -> PlanDraft:
    """The draft with one verify step per check that applies to its environment."""
    fields = target_fields(draft.target)
    added = [
        check_step(check, fields)
        for check in checks
        if not check.environments or draft.target.environment in check.environments
    ]
    return draft.model_copy(update={"steps": [*draft.steps, *added]}) if added else draft


def target_fields(target: Target) -> dict[str, str]:
    """What `{namespace}`, `{name}`, `{environment}` and `{cluster}` stand for in a check."""
    return {
        "namespace": target.namespace,
        "name": target.name,
        "environment": target.environment,
        "cluster": target.cluster,
    }


def check_step(check: VerifyCheck, fields: Mapping[str, object]) -> StepSpec:
    """The verify step that holds `check`, its placeholders filled from `fields`."""
    return StepSpec(
        stage=StepStage.VERIFY,
        action=CHECK_ACTION,
        args={
            "expr": check.expr.format_map(fields),
            "comparator": check.comparator,
            "threshold": check.threshold,
            "window_seconds": check.window_seconds,
            "interval_seconds": check.interval_seconds,
            "allow_empty": check.allow_empty,
            "label": check.label,
        },
        description=check.sentence,
    )
