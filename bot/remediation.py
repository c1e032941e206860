"""Where a proposed remediation for an incident comes from. `RemediationSource` is the seam: the
one shipped here reads INCIDENT_REMEDIATIONS; runbooks can answer behind the same protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.incident_settings import RemediationRule


@dataclass(frozen=True)
class Proposal:
    """A workflow to plan for an incident, with inputs as typed (checked by the workflow's model),
    and where the proposal came from, for the thread."""

    workflow: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    source: str = ""


class RemediationSource(Protocol):
    async def remediation_for(self, *, team_id: str, service: str, alertname: str) -> Proposal | None: ...


class ConfiguredRemediations:
    """The first INCIDENT_REMEDIATIONS rule whose alertname and service match (a rule that leaves
    one out matches any); `{service}` and `{alertname}` in its inputs are filled in."""

    def __init__(self, rules: Sequence[RemediationRule]) -> None:
        self._rules = list(rules)

    async def remediation_for(self, *, team_id: str, service: str, alertname: str) -> Proposal | None:
        for number, rule in enumerate(self._rules):
            if rule.alertname not in (None, alertname) or rule.service not in (None, service):
                continue
            inputs = {
                name: value.replace("{service}", service).replace("{alertname}", alertname)
                for name, value in rule.inputs.items()
            }
            return Proposal(rule.workflow, inputs, source=f"INCIDENT_REMEDIATIONS[{number}]")
        return None
