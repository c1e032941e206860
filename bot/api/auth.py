"""Who is calling the API, from its `Authorization: Bearer` header: a static API token (cpt_…)
looked up by its hash, or a CI provider's OIDC token verified by `OidcVerifier`. Either becomes an
Actor of the configured workspace with a `token:` or `oidc:` id, which no Slack user id can be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.api import tokens
from bot.api.errors import Unauthorized
from bot.api.identities import token_actor
from bot.db.engine import SessionFactory
from bot.domain import Actor

# Longer credentials are refused before anything parses them.
MAX_CREDENTIAL_LENGTH = 16 * 1024


class TokenVerifier(Protocol):
    async def actor(self, token: str, *, team_id: str) -> Actor:
        """Raises Unauthorized (the token proves nothing) or Forbidden (no identity for it)."""
        ...


@dataclass(frozen=True)
class Authenticator:
    sessions: SessionFactory
    team_id: str
    oidc: TokenVerifier | None = None

    async def caller(self, authorization: str | None) -> Actor:
        credential = _bearer(authorization)
        if credential.startswith(tokens.TOKEN_PREFIX):
            async with self.sessions() as session:
                row = await tokens.find_active(session, team_id=self.team_id, token=credential)
            if row is None:
                raise Unauthorized("the API token is unknown or revoked")
            return token_actor(self.team_id, row.name, row.roles)
        if credential.count(".") == 2:
            if self.oidc is None:
                raise Unauthorized(
                    "OIDC tokens are not accepted here: no provider is configured (API_OIDC_PROVIDERS)"
                )
            return await self.oidc.actor(credential, team_id=self.team_id)
        raise Unauthorized("the bearer token is neither a Carapulse API token (cpt_…) nor a JWT")


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no credentials: send `Authorization: Bearer <token>`")
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthorized("the Authorization header must be `Bearer <token>`")
    if len(credential) > MAX_CREDENTIAL_LENGTH:
        raise Unauthorized(f"the bearer token is longer than {MAX_CREDENTIAL_LENGTH} characters")
    return credential
