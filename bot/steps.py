"""Runs one tool action for the worker: argument parsing, the action's timeout, and turning every
way it can fail into a sentence for the plan card."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from bot.validation import first_error
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry, UnknownActionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    cancelled: bool = False


async def run_action(
    registry: Registry,
    name: str,
    raw_args: dict[str, Any],
    *,
    time_left: float | None = None,
    rehearse: bool = False,
) -> StepOutcome:
    """Run one action (or its dry run when `rehearse`) within its own timeout, or within
    `time_left` of the execution if shorter. The outcome is redacted here, the one place every
    step's output passes before it is stored, audited or shown."""
    outcome = await _run(registry, name, raw_args, time_left=time_left, rehearse=rehearse)
    redactor = registry.redactor
    return replace(
        outcome,
        summary=redactor.redact(outcome.summary),
        data=redactor.redact_data(outcome.data),
        error=redactor.redact(outcome.error),
    )


async def _run(
    registry: Registry, name: str, raw_args: dict[str, Any], *, time_left: float | None, rehearse: bool
) -> StepOutcome:
    limit = 0.0
    try:
        action = registry.get(name)
        args = action.parse_args(raw_args)
        limit = action.timeout_seconds if time_left is None else min(action.timeout_seconds, time_left)
        # A timeout scope rather than wait_for, which would run the call in a task of its own.
        async with asyncio.timeout(limit):
            result = await (action.dry_run(args) if rehearse else action.run(args))
    except UnknownActionError as exc:
        return StepOutcome(ok=False, error=f"{exc}; is the tool configured?")
    except ValidationError as exc:
        return StepOutcome(ok=False, error=f"invalid arguments for {name}: {first_error(exc)}")
    except ToolError as exc:
        return StepOutcome(ok=False, error=exc.message)
    except TimeoutError:
        return StepOutcome(ok=False, error=f"{name} timed out after {round(limit, 1):g}s")
    except Exception:
        reference = uuid.uuid4().hex[:8]
        log.exception("step %s failed unexpectedly (ref %s)", name, reference)
        return StepOutcome(ok=False, error=f"{name} failed unexpectedly (ref {reference}, see logs)")
    return StepOutcome(ok=True, summary=result.summary, data=result.data)


def rollback_for(
    registry: Registry, name: str, raw_args: dict[str, Any], summary: str, data: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The inverse of a completed step, from the state it recorded before changing anything."""
    action: Action[Any] = registry.get(name)
    step = action.rollback(action.parse_args(raw_args), ActionResult(summary=summary, data=data))
    return None if step is None else (step.action, step.args)
