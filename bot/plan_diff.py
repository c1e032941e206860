"""What changed between two versions of a plan, in short lines an approver reads on the card.

Arguments are masked with the shared redaction before they are compared, so a value under a
secret-sounding key never reaches a line (both sides read as masked, and the line says only that
the argument changed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import StepSpec
from tools.common.redaction import Redactor

MAX_LINES = 8
MAX_VALUE_LENGTH = 60

_REDACTOR = Redactor()


@dataclass(frozen=True)
class PlanContent:
    """The parts of a plan version an approver looks at."""

    intent: str
    target: dict[str, Any]
    steps: Sequence[StepSpec]
    rollback: str


def changes(before: PlanContent, after: PlanContent) -> list[str]:
    """One line per change, steps compared by position; past MAX_LINES, a count of the rest."""
    lines: list[str] = []
    if before.intent != after.intent:
        lines.append(f"request: {_short(before.intent)} → {_short(after.intent)}")
    for key in sorted(set(before.target) | set(after.target)):
        if before.target.get(key) != after.target.get(key):
            lines.append(f"{key}: {_value(before.target.get(key))} → {_value(after.target.get(key))}")
    for number in range(1, max(len(before.steps), len(after.steps)) + 1):
        old = before.steps[number - 1] if number <= len(before.steps) else None
        new = after.steps[number - 1] if number <= len(after.steps) else None
        lines.extend(_step_changes(number, old, new))
    if before.rollback != after.rollback:
        lines.append("rollback: reworded")
    if len(lines) > MAX_LINES:
        return [*lines[: MAX_LINES - 1], f"and {len(lines) - MAX_LINES + 1} more changes"]
    return lines


def _step_changes(number: int, old: StepSpec | None, new: StepSpec | None) -> list[str]:
    if old is None and new is not None:
        return [f"step {number} added: {new.action} {_args(new.args)}"]
    if new is None and old is not None:
        return [f"step {number} removed: {old.action}"]
    if old is None or new is None or old == new:
        return []
    if old.action != new.action or old.stage != new.stage:
        return [f"step {number}: {old.stage} {old.action} → {new.stage} {new.action} {_args(new.args)}"]
    before, after = _REDACTOR.redact_data(old.args), _REDACTOR.redact_data(new.args)
    changed = [
        f"{key} {_value(before.get(key))} → {_value(after.get(key))}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    if not changed and old.args != new.args:
        changed = ["a masked argument changed"]
    if old.description != new.description and not changed:
        changed = ["description reworded"]
    if not changed:
        changed = ["timeout, risk or rerun changed"]
    return [f"step {number} {new.action}: {', '.join(changed)}"]


def _args(args: dict[str, Any]) -> str:
    return _short(json.dumps(_REDACTOR.redact_data(args), sort_keys=True, separators=(", ", ": ")))


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    return _short(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _short(text: str) -> str:
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"
