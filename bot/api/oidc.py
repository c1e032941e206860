"""Verifies a CI provider's OIDC token (GitHub Actions, GitLab CI) and maps its claims to a
Carapulse identity.

The token's issuer picks the provider; its algorithm must be one the provider's configuration
allows (asymmetric only, so `none` and HS* never pass); its key id must name a key the provider
publishes; then the signature, `iss`, `aud`, `exp`, `nbf` and `iat` are checked with the provider's
bounded leeway. A valid token whose claims match none of the provider's identities is refused with
403: it proves who calls, but that caller may not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import jwt
from jwt import PyJWK

from bot.api.errors import Forbidden, Unauthorized
from bot.api.identities import oidc_actor
from bot.api.jwks import JwksCache
from bot.api.oidc_config import OidcProvider
from bot.domain import Actor

# Claims every accepted token must carry.
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]
# Time claims say nothing about who calls; they stay out of the claims the policy sees.
_TIME_CLAIMS = frozenset({"exp", "iat", "nbf"})
_REFUSALS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (nbf or iat is in the future)"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
)


class OidcVerifier:
    def __init__(
        self,
        providers: Sequence[OidcProvider],
        *,
        http: aiohttp.ClientSession,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._providers = {provider.issuer: provider for provider in providers}
        self._keys = {
            provider.issuer: JwksCache(provider=provider.name, url=provider.jwks_url, http=http, clock=clock)
            for provider in providers
        }
        self._http = http

    async def actor(self, token: str, *, team_id: str) -> Actor:
        provider, algorithm, kid = _provider_of(token, self._providers)
        jwk = await self._keys[provider.issuer].key(kid)
        claims = _verified(token, provider, algorithm, jwk)
        scalars = _scalar_claims(claims)
        rule = provider.identity_for(scalars)
        if rule is None:
            subject = scalars.get("sub", "")
            raise Forbidden(
                f"no identity configured for {provider.name} matches this token (sub {subject!r})"
            )
        return oidc_actor(team_id, rule.identity, list(rule.roles), {**scalars, "provider": provider.name})

    async def aclose(self) -> None:
        await self._http.close()


def _provider_of(token: str, providers: dict[str, OidcProvider]) -> tuple[OidcProvider, str, str]:
    """What the token says of itself, before anything is trusted: its provider, algorithm and key id."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.DecodeError as exc:
        raise Unauthorized(f"the token is not a readable JWT: {exc}") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm.lower() == "none":
        raise Unauthorized("unsigned tokens (alg none) are refused")
    issuer = unverified.get("iss")
    provider = providers.get(issuer) if isinstance(issuer, str) else None
    if provider is None:
        raise Unauthorized(f"tokens from issuer {issuer!r} are not accepted here")
    if algorithm not in provider.algorithms:
        accepted = ", ".join(provider.algorithms)
        raise Unauthorized(f"algorithm {algorithm} is not accepted from {provider.name} (only {accepted})")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("the token names no signing key (kid)")
    return provider, algorithm, kid


def _verified(token: str, provider: OidcProvider, algorithm: str, jwk: dict[str, Any]) -> dict[str, Any]:
    try:
        # A key that states its algorithm is held to it; one that does not is read for the token's.
        key = PyJWK(jwk, algorithm=jwk.get("alg") or algorithm)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"the signing key {jwk.get('kid')!r} cannot verify {algorithm}: {exc}") from None
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=provider.audience,
            issuer=provider.issuer,
            leeway=provider.leeway_seconds,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidAudienceError:
        raise Unauthorized(
            f"the token is for another audience; this Carapulse is {provider.audience!r}"
        ) from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"the token has no {exc.claim} claim") from None
    except jwt.PyJWTError as exc:
        reason = next(
            (text for kind, text in _REFUSALS if isinstance(exc, kind)), f"the token is invalid: {exc}"
        )
        raise Unauthorized(reason) from None


def _scalar_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The claims that say who and where (repository, ref, environment, …), as text for the
    identity rules and the policy."""
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in claims.items()
        if isinstance(value, str | int | float | bool) and name not in _TIME_CLAIMS
    }
