"""Rules planner: reads a sentence as a workflow request, or as a plan of its own, or says which
sentences it understands.

The LLM planner comes later and will produce the same results; this one is the fallback and the
reference for tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from bot import reads
from bot.domain import BlastRadius, PlanDraft, Risk, RiskLevel, StepSpec, StepStage, Target
from bot.errors import UserError
from bot.workflows.base import Workflow
from bot.workflows.catalog import WorkflowRequest

DEFAULT_NAMESPACE = "default"

RESTART_EXAMPLES = (
    "restart checkout in shop",
    "rollout restart deployment/checkout -n shop",
)

_NAME = r"(?:deployment/|deploy/)?(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
_NS = r"(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
_IN_NS = rf"(?:(?:in|-n|--namespace)\s+(?:namespace\s+)?{_NS})"
_RESTART_PATTERN = re.compile(
    rf"^(?:rollout\s+)?restart\s+(?:deployment\s+|deploy\s+)?{_NAME}(?:\s+{_IN_NS})?$"
)


def read(text: str, *, environment: str, workflows: Iterable[Workflow[Any]]) -> PlanDraft | WorkflowRequest:
    """Read `text` as one of the workflows' sentences or as a plan of its own; raise `UserError`
    with examples when it is not understood."""
    normalized = " ".join(text.strip().lower().split())
    workflows = list(workflows)
    for workflow in workflows:
        for sentence in workflow.sentences:
            typed = sentence.read(normalized)
            if typed is not None:
                return WorkflowRequest(name=workflow.name, typed=typed)
    for parse in _PARSERS:
        draft = parse(normalized, environment)
        if draft is not None:
            return draft
    raise UserError(
        f"I could not read a plan from {text.strip()!r}. Try one of:\n"
        + "\n".join(f"• `/carapulse {example}`" for example in examples(workflows))
    )


def examples(workflows: Iterable[Workflow[Any]]) -> list[str]:
    """Every sentence the planner reads, one example each, as help lists them."""
    workflow_examples = (example for workflow in workflows for example in workflow.examples)
    return [*workflow_examples, *RESTART_EXAMPLES, *reads.EXAMPLES]


def _parse_restart(text: str, environment: str) -> PlanDraft | None:
    match = _RESTART_PATTERN.match(text)
    if match is None:
        return None
    target = _target(match, environment)
    ref = {"namespace": target.namespace, "name": target.name}
    return PlanDraft(
        intent=text,
        summary=f"rollout restart {target.name} ({target.namespace})",
        target=target,
        steps=[
            StepSpec(
                stage=StepStage.ACT,
                action="kubernetes.rollout_restart",
                args=ref,
                description=f"Restart the pods of {target.namespace}/{target.name} (rolling)",
            ),
            StepSpec(
                stage=StepStage.VERIFY,
                action="kubernetes.rollout_status",
                args=ref,
                description=f"Wait until {target.namespace}/{target.name} has rolled out",
            ),
        ],
        rollback="None needed: a restart changes no spec beyond the restart annotation",
        risk=_single_target_risk(target, RiskLevel.MEDIUM),
    )


def _target(match: re.Match[str], environment: str) -> Target:
    return Target(
        environment=environment,
        namespace=match["ns"] or DEFAULT_NAMESPACE,
        name=match["name"],
    )


def _single_target_risk(target: Target, level: RiskLevel) -> Risk:
    return Risk(
        level=level,
        blast_radius=BlastRadius.NAMESPACE,
        targets=[f"deployment/{target.namespace}/{target.name}"],
    )


_PARSERS: tuple[Callable[[str, str], PlanDraft | None], ...] = (_parse_restart, reads.read)
