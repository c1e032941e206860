"""An action as a JSON document: what it does, whether it reads or writes, and the JSON Schema of
its arguments, generated from its pydantic args model. `carapulse tools schema` prints these, and a
model planner is shown the same for the actions it may use."""

from __future__ import annotations

from typing import Any

from tools.common.base import Action


def describe(action: type[Action[Any]] | Action[Any]) -> dict[str, Any]:
    """Class-level facts only, so an action class describes itself before its tool is configured."""
    return {
        "description": action.description,
        "effect": action.effect.value,
        "risk": action.risk.value if action.risk is not None else None,
        "idempotent": action.idempotent,
        "timeout_seconds": action.timeout_seconds,
        "args": action.args_model.model_json_schema(),
    }
