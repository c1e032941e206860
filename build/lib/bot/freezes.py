"""Change freezes: an admin freezes an environment for a while, and the policy denies writes to it
until the freeze ends or is lifted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import ChangeFreeze
from bot.domain import Actor
from bot.errors import PolicyDenied, UserError
from bot.policy import Policy
from bot.policy_engine import Freeze

MAX_FREEZE = timedelta(days=30)
USAGE = "Use `/carapulse freeze <environment> <duration> <reason>`, e.g. `freeze prod 2h release`."
_DURATION = re.compile(r"^(?P<amount>\d+)(?P<unit>[mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse(argument: str) -> tuple[str, timedelta, str]:
    """`prod 2h release freeze` → ("prod", 2 hours, "release freeze")."""
    parts = argument.split(maxsplit=2)
    if len(parts) < 3:
        raise UserError(USAGE)
    environment, duration, reason = parts
    match = _DURATION.match(duration.lower())
    if match is None:
        raise UserError(f"{duration!r} is not a duration like 30m, 2h or 1d. {USAGE}")
    length = timedelta(**{_UNITS[match["unit"]]: int(match["amount"])})
    if not timedelta(0) < length <= MAX_FREEZE:
        raise UserError("A freeze lasts more than 0 and at most 30 days.")
    return environment, length, reason.strip()


async def freeze(
    session: AsyncSession,
    *,
    actor: Actor,
    policy: Policy,
    environment: str,
    length: timedelta,
    reason: str,
) -> ChangeFreeze:
    _require_admin(policy, actor, "freeze")
    if environment not in policy.environments:
        known = ", ".join(sorted(policy.environments))
        raise UserError(f"{environment} is not a configured environment (known: {known}).")
    now = utcnow()
    row = ChangeFreeze(
        team_id=actor.team_id,
        environment=environment,
        until=now + length,
        reason=reason,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.FREEZE_STARTED,
        detail={"environment": environment, "until": row.until.isoformat(), "reason": reason},
    )
    return row


async def unfreeze(session: AsyncSession, *, actor: Actor, policy: Policy, environment: str) -> int:
    """Lift every active freeze of `environment`; the number lifted (0 when none was active)."""
    _require_admin(policy, actor, "unfreeze")
    now = utcnow()
    rows = (
        await session.scalars(
            _active_query(actor.team_id, now).where(ChangeFreeze.environment == environment)
        )
    ).all()
    for row in rows:
        row.lifted_at = now
        row.lifted_by = actor.user_id
    if rows:
        await audit.record(
            session,
            team_id=actor.team_id,
            actor_id=actor.user_id,
            kind=AuditKind.FREEZE_LIFTED,
            detail={"environment": environment, "lifted": len(rows)},
        )
    return len(rows)


async def active(session: AsyncSession, *, team_id: str) -> Sequence[Freeze]:
    rows = (await session.scalars(_active_query(team_id, utcnow()))).all()
    return [Freeze(environment=r.environment, until=r.until, reason=r.reason) for r in rows]


def _active_query(team_id: str, now: datetime) -> Select[tuple[ChangeFreeze]]:
    return (
        select(ChangeFreeze)
        .where(
            ChangeFreeze.team_id == team_id,
            ChangeFreeze.lifted_at.is_(None),
            ChangeFreeze.until > now,
        )
        .order_by(ChangeFreeze.id)
        .limit(100)
    )


def _require_admin(policy: Policy, actor: Actor, verb: str) -> None:
    if not policy.is_admin(actor.user_id):
        raise PolicyDenied(f"Only admins can {verb} an environment.")
