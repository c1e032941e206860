"""The configuration of the CI providers whose OIDC tokens the API accepts (API_OIDC_PROVIDERS), and
how a token's claims map to a Carapulse identity and its roles."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.api.identities import ApiName, ApiRole

# Asymmetric algorithms only: a shared-secret (HS*) or unsigned (`none`) token could be made by
# anyone who knows the published keys, or by anyone at all.
Algorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
MAX_LEEWAY_SECONDS = 300.0


class IdentityRule(BaseModel):
    """Tokens whose claims all match `claims` act as `identity` with `roles`. A claim pattern is
    exact or shell-style (`refs/tags/v*`); a claim the token lacks never matches."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    identity: ApiName
    roles: Annotated[list[ApiRole], Field(min_length=1)]
    claims: Annotated[dict[str, str], Field(min_length=1)]

    def matches(self, claims: dict[str, str]) -> bool:
        return all(
            name in claims and fnmatchcase(claims[name], pattern) for name, pattern in self.claims.items()
        )


class OidcProvider(BaseModel):
    """A CI provider: GitHub Actions (issuer https://token.actions.githubusercontent.com, keys at
    …/.well-known/jwks) or GitLab CI (issuer https://gitlab.com, keys at …/oauth/discovery/keys)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: ApiName
    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    jwks_url: str
    algorithms: Annotated[list[Algorithm], Field(min_length=1)] = Field(default_factory=lambda: ["RS256"])
    leeway_seconds: float = Field(default=60.0, ge=0, le=MAX_LEEWAY_SECONDS)
    identities: Annotated[list[IdentityRule], Field(min_length=1)]

    @field_validator("jwks_url")
    @classmethod
    def _fetched_securely(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError("must be an https:// URL (plain http only on loopback)")
        return value

    def identity_for(self, claims: dict[str, str]) -> IdentityRule | None:
        """The first rule, in configured order, that the claims match."""
        return next((rule for rule in self.identities if rule.matches(claims)), None)
