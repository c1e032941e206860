"""The reads people ask for most, as plain sentences: a plan of read steps that policy lets run at
once, so the answer lands in the thread without anyone approving it.

`pods of checkout [in shop]`, `logs of checkout [in shop]`, `history of checkout [in shop]` and
`alerts for checkout` (Alertmanager's alerts whose `service` label is checkout).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.domain import BlastRadius, PlanDraft, Risk, RiskLevel, StepSpec, StepStage, Target

EXAMPLES = (
    "pods of checkout in shop",
    "logs of checkout in shop",
    "history of checkout in shop",
    "alerts for checkout",
)
DEFAULT_NAMESPACE = "default"
# The label alerts carry for the service they are about, as Alertmanager's own examples use it.
SERVICE_LABEL = "service"

_NAME = r"(?P<name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)"
_IN_NS = r"(?: (?:in|-n|--namespace) (?:namespace )?(?P<namespace>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?))?"
_DEPLOYMENT_READ = re.compile(rf"^(?P<what>pods|logs|history) (?:of|for) (?:deployment )?{_NAME}{_IN_NS}$")
_ALERTS = re.compile(rf"^alerts (?:of|for) {_NAME}$")


def read(normalized: str, environment: str) -> PlanDraft | None:
    """The read plan for a sentence (lower-cased, single spaces), or None when it is no read."""
    if match := _DEPLOYMENT_READ.match(normalized):
        namespace = match["namespace"] or DEFAULT_NAMESPACE
        action, args, description = _DEPLOYMENT_READS[match["what"]](namespace, match["name"])
        target = Target(environment=environment, namespace=namespace, name=match["name"])
        return _draft(normalized, target, action, args, description)
    if match := _ALERTS.match(normalized):
        target = Target(environment=environment, namespace="", kind="Service", name=match["name"])
        matchers = [f'{SERVICE_LABEL}="{match["name"]}"']
        description = f"Alerts whose {SERVICE_LABEL} label is {match['name']}"
        return _draft(normalized, target, "alertmanager.list_alerts", {"matchers": matchers}, description)
    return None


Read = tuple[str, dict[str, Any], str]


def _pods(namespace: str, name: str) -> Read:
    return "kubernetes.list_pods", {"namespace": namespace, "deployment": name}, f"Pods of {namespace}/{name}"


def _logs(namespace: str, name: str) -> Read:
    args = {"namespace": namespace, "name": name}
    return "kubernetes.get_deployment_logs", args, f"Recent logs of the pods of {namespace}/{name}"


def _history(namespace: str, name: str) -> Read:
    args = {"namespace": namespace, "name": name}
    return "kubernetes.get_deployment_summary", args, f"Revisions and events of {namespace}/{name}"


_DEPLOYMENT_READS: dict[str, Callable[[str, str], Read]] = {"pods": _pods, "logs": _logs, "history": _history}


def _draft(sentence: str, target: Target, action: str, args: dict[str, Any], description: str) -> PlanDraft:
    where = f"{target.namespace}/{target.name}" if target.namespace else target.name
    return PlanDraft(
        intent=sentence,
        summary=f"{sentence.split(' ', 1)[0]} of {where}",
        target=target,
        steps=[StepSpec(stage=StepStage.ACT, action=action, args=args, description=description)],
        rollback="None needed: nothing is changed",
        risk=Risk(level=RiskLevel.READ, blast_radius=BlastRadius.NAMESPACE, targets=[where]),
    )
