"""Static API tokens: created with a name and roles (the token is shown once), looked up by their
SHA-256, revoked by name. Services never commit; the caller's transaction does.

A token is 32 random bytes, so a plain SHA-256 is enough to keep the stored value useless to whoever
reads the database: there is no password to guess, so no slow hash is needed, and lookups stay one
indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.api.identities import API_ROLES, is_api_name
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.models import ApiToken
from bot.errors import Conflict, NotFound, UserError

# Recognisable in a leaked log or a secret scanner (tools/redaction.py masks this shape).
TOKEN_PREFIX = "cpt_"
PAGE_SIZE = 50


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    token: str


async def create(
    session: AsyncSession, *, team_id: str, name: str, roles: Sequence[str], created_by: str
) -> IssuedToken:
    _check_name(name)
    unknown = sorted(set(roles) - set(API_ROLES))
    if not roles or unknown:
        raise UserError(
            f"Roles of an API token are {' and '.join(API_ROLES)}"
            + (f"; {', '.join(unknown)} is not one" if unknown else "; give at least one")
            + ". Approving stays with people in Slack."
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        team_id=team_id,
        name=name,
        token_hash=token_hash(token),
        roles=sorted(set(roles)),
        created_by=created_by,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"An API token named {name} already exists (revoked ones keep their name).") from None
    await audit.record(
        session,
        team_id=team_id,
        actor_id=created_by,
        kind=AuditKind.API_TOKEN_CREATED,
        detail={"name": name, "roles": row.roles},
    )
    return IssuedToken(row=row, token=token)


async def revoke(session: AsyncSession, *, team_id: str, name: str, revoked_by: str) -> ApiToken:
    row = await session.scalar(
        select(ApiToken).where(ApiToken.team_id == team_id, ApiToken.name == name).with_for_update()
    )
    if row is None:
        raise NotFound(f"There is no API token named {name}.")
    if row.revoked_at is not None:
        raise Conflict(f"The API token {name} was already revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC.")
    row.revoked_at = utcnow()
    await audit.record(
        session, team_id=team_id, actor_id=revoked_by, kind=AuditKind.API_TOKEN_REVOKED, detail={"name": name}
    )
    return row


async def page(
    session: AsyncSession, *, team_id: str, after: str = "", limit: int = PAGE_SIZE
) -> list[ApiToken]:
    """Tokens by name, `limit` of them after the name `after`."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.team_id == team_id, ApiToken.name > after)
        .order_by(ApiToken.name)
        .limit(limit)
    )
    return list(rows.all())


async def find_active(session: AsyncSession, *, team_id: str, token: str) -> ApiToken | None:
    """The unrevoked token of this workspace that `token` is, if any."""
    return await session.scalar(
        select(ApiToken).where(
            ApiToken.team_id == team_id,
            ApiToken.token_hash == token_hash(token),
            ApiToken.revoked_at.is_(None),
        )
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str) -> None:
    if not is_api_name(name):
        raise UserError(
            f"{name!r} is not a token name: up to 26 lower-case letters, digits, '.', '_' or '-'."
        )
