"""The API's long-lived parts, built once by bot/app.py: the services it calls (the same Runtime the
Slack listeners use), who may call, where its plans' cards go, and the plan-change wake-ups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from bot.api.auth import Authenticator
from bot.operations import Runtime
from bot.plan_changes import PlanChanges
from bot.settings import Settings, require_api_team

if TYPE_CHECKING:
    from bot.api.oidc import OidcVerifier


@dataclass(frozen=True)
class ApiService:
    runtime: Runtime
    auth: Authenticator
    team_id: str
    channel_id: str
    changes: PlanChanges
    recheck_seconds: float
    # Holds the HTTP session its key fetches use, closed with the service.
    oidc: OidcVerifier | None = None

    async def aclose(self) -> None:
        self.changes.close()
        if self.oidc is not None:
            await self.oidc.aclose()


def workspace(settings: Settings) -> str | None:
    """The workspace API callers act in, or None when the API is off (API_CHANNEL not set); raises
    ConfigError naming a missing setting, so start-up checks it before opening anything."""
    return require_api_team(settings) if settings.api_channel else None


def build(
    settings: Settings, *, team_id: str | None, runtime: Runtime, changes: PlanChanges
) -> ApiService | None:
    if team_id is None:
        return None
    oidc = None
    if settings.api_oidc_providers:
        # PyJWT and its cryptography backend load only where a CI provider is configured.
        from bot.api.oidc import OidcVerifier

        oidc = OidcVerifier(settings.api_oidc_providers, http=aiohttp.ClientSession())
    return ApiService(
        runtime=runtime,
        auth=Authenticator(sessions=runtime.sessions, team_id=team_id, oidc=oidc),
        oidc=oidc,
        team_id=team_id,
        channel_id=settings.api_channel,
        changes=changes,
        recheck_seconds=settings.api_events_recheck_seconds,
    )
