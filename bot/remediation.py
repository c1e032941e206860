"""Where a proposed remediation for an incident comes from. `RemediationSource` is the seam: the
runbook linked to the alert answers first (a workspace's own, then the deployment's files), then
the INCIDENT_REMEDIATIONS rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot import runbooks
from bot.db.engine import SessionFactory
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


class RunbookRemediations:
    """The remediation workflow of the runbook that names the alert (bot/runbooks.py)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def remediation_for(self, *, team_id: str, service: str, alertname: str) -> Proposal | None:
        async with self._sessions() as session:
            found = await runbooks.remediation_for(
                session, team_id=team_id, service=service, alertname=alertname
            )
        if found is None:
            return None
        source = f"runbook #{found.runbook_id} {found.runbook_title} ({found.runbook_version})"
        return Proposal(found.workflow, _filled(found.inputs, service, alertname), source=source)


class FirstOf:
    """The first proposal any of the sources makes, asked in order."""

    def __init__(self, sources: Sequence[RemediationSource]) -> None:
        self._sources = list(sources)

    async def remediation_for(self, *, team_id: str, service: str, alertname: str) -> Proposal | None:
        for source in self._sources:
            proposal = await source.remediation_for(team_id=team_id, service=service, alertname=alertname)
            if proposal is not None:
                return proposal
        return None


class ConfiguredRemediations:
    """The first INCIDENT_REMEDIATIONS rule whose alertname and service match (a rule that leaves
    one out matches any); `{service}` and `{alertname}` in its inputs are filled in."""

    def __init__(self, rules: Sequence[RemediationRule]) -> None:
        self._rules = list(rules)

    async def remediation_for(self, *, team_id: str, service: str, alertname: str) -> Proposal | None:
        for number, rule in enumerate(self._rules):
            if rule.alertname not in (None, alertname) or rule.service not in (None, service):
                continue
            inputs = _filled(rule.inputs, service, alertname)
            return Proposal(rule.workflow, inputs, source=f"INCIDENT_REMEDIATIONS[{number}]")
        return None


def _filled(inputs: Mapping[str, str], service: str, alertname: str) -> dict[str, str]:
    """`{service}` and `{alertname}` in input values, filled in for the alert at hand."""
    return {
        name: str(value).replace("{service}", service).replace("{alertname}", alertname)
        for name, value in inputs.items()
    }
