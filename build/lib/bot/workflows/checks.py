"""A PromQL check typed as one line, `<expression> <comparator> <number>`, as a workflow input: the
verify step that holds the service to it after the change."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from bot.verify_checks import CHECK_ACTION
from bot.workflows.base import PlannedStep

_CHECK = re.compile(
    r"^(?P<expr>.+?)\s*(?P<comparator><=|>=|==|!=|<|>)\s*(?P<threshold>[-+]?[0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)$"
)
WINDOW_SECONDS = 60.0
INTERVAL_SECONDS = 10.0


def _readable(text: str) -> str:
    if _CHECK.match(text.strip()) is None:
        raise ValueError(
            "write it as <PromQL> <comparator> <number>, e.g. sum(rate(http_errors_total[5m])) < 1"
        )
    return text.strip()


PromqlCheck = Annotated[
    str,
    Field(
        max_length=2000, description='PromQL that must hold after the change, e.g. `up{job="checkout"} == 1`'
    ),
    AfterValidator(_readable),
]


def check_step(step_id: str, check: str, *, label: str) -> PlannedStep:
    """The verify step for a check typed as `PromqlCheck` (already validated)."""
    match = _CHECK.match(check)
    if match is None:
        raise ValueError(f"not a PromQL check: {check!r}")
    comparator, threshold = match["comparator"], float(match["threshold"])
    return PlannedStep(
        id=step_id,
        action=CHECK_ACTION,
        args={
            "expr": match["expr"],
            "comparator": comparator,
            "threshold": threshold,
            "window_seconds": WINDOW_SECONDS,
            "interval_seconds": INTERVAL_SECONDS,
            "label": label,
        },
        description=f"Check {label} {comparator} {threshold:g} for {WINDOW_SECONDS:g}s",
    )
