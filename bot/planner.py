"""Deterministic planner: turns a sentence into a plan draft, or says which sentences it understands.

The LLM planner comes later and will produce the same `PlanDraft`; this one is the fallback and the
reference for tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.domain import BlastRadius, PlanDraft, Risk, RiskLevel, StepSpec, StepStage, Target
from bot.errors import UserError

DEFAULT_NAMESPACE = "default"
MAX_REPLICAS = 1000

EXAMPLES = (
    "scale checkout to 5 in shop",
    "scale deployment checkout to 5 replicas in shop",
    "scale checkout in namespace shop to 5",
    "restart checkout in shop",
    "rollout restart deployment/checkout -n shop",
)

_NAME = r"(?:deployment/|deploy/)?(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
_NS = r"(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
_IN_NS = rf"(?:(?:in|-n|--namespace)\s+(?:namespace\s+)?{_NS})"
_COUNT = r"(?P<count>\d+)(?:\s+replicas?)?"

_SCALE_PATTERNS = (
    re.compile(rf"^scale\s+(?:deployment\s+|deploy\s+)?{_NAME}\s+to\s+{_COUNT}(?:\s+{_IN_NS})?$"),
    re.compile(rf"^scale\s+(?:deployment\s+|deploy\s+)?{_NAME}\s+{_IN_NS}\s+to\s+{_COUNT}$"),
)
_RESTART_PATTERN = re.compile(
    rf"^(?:rollout\s+)?restart\s+(?:deployment\s+|deploy\s+)?{_NAME}(?:\s+{_IN_NS})?$"
)


def plan(text: str, *, environment: str) -> PlanDraft:
    """Parse `text` into a draft; raise `UserError` with examples when it is not understood."""
    normalized = " ".join(text.strip().lower().split())
    for parse in _PARSERS:
        draft = parse(normalized, environment)
        if draft is not None:
            return draft
    raise UserError(
        f"I could not read a plan from {text.strip()!r}. Try one of:\n"
        + "\n".join(f"• `/carapulse {example}`" for example in EXAMPLES)
    )


def _parse_scale(text: str, environment: str) -> PlanDraft | None:
    match = next((m for p in _SCALE_PATTERNS if (m := p.match(text))), None)
    if match is None:
        return None
    replicas = int(match["count"])
    if replicas > MAX_REPLICAS:
        raise UserError(f"{replicas} replicas is more than the {MAX_REPLICAS} I will plan for.")
    target = _target(match, environment)
    ref = {"namespace": target.namespace, "name": target.name}
    return PlanDraft(
        intent=text,
        summary=f"scale {target.name} to {replicas} replicas ({target.namespace})",
        target=target,
        steps=[
            StepSpec(
                stage=StepStage.ACT,
                action="kubernetes.scale",
                args={**ref, "replicas": replicas},
                description=f"Scale deployment {target.namespace}/{target.name} to {replicas}",
            ),
            StepSpec(
                stage=StepStage.VERIFY,
                action="kubernetes.rollout_status",
                args=ref,
                description=f"Wait until {target.namespace}/{target.name} has rolled out",
            ),
        ],
        rollback="Scale back to the replica count read just before the change",
        risk=_single_target_risk(target, RiskLevel.MEDIUM),
    )


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


_PARSERS: tuple[Callable[[str, str], PlanDraft | None], ...] = (_parse_scale, _parse_restart)
