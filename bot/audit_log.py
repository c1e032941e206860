"""The audit log for people: search it, verify it, as the policy lets each person (audit.read,
audit.verify). Entry points for listeners and tests, like bot.operations; export is in audit_export."""

from __future__ import annotations

from datetime import datetime

from bot import audit, audit_search
from bot.audit import Verification
from bot.audit_search import AuditFilter
from bot.domain import Actor, AuditPage
from bot.operations import Runtime


async def search(
    runtime: Runtime, *, actor: Actor, audit_filter: AuditFilter, before: tuple[datetime, int] | None = None
) -> AuditPage:
    runtime.policy.require("audit.read", actor=actor)
    async with runtime.sessions() as session:
        return await audit_search.search(
            session, team_id=actor.team_id, audit_filter=audit_filter, before=before
        )


async def verify(runtime: Runtime, *, actor: Actor) -> Verification:
    """Walk the workspace's whole log (a page at a time) and report the first break."""
    runtime.policy.require("audit.verify", actor=actor)
    async with runtime.sessions() as session:
        return await audit.verify_team(session, team_id=actor.team_id)
