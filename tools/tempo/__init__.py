"""The Tempo tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`, the
HTTP API client in `client`, and traces read into what a thread shows in `traces`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, HttpUrl, SecretStr, StringConstraints

from tools.common.base import Action
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.tempo.actions import GetTrace, QueryTraces
from tools.tempo.client import TempoClient

# Tempo's tenant ids: letters, digits and !-_.*'() (Cortex's rules), at most 150 characters.
TenantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!_.*'()-]{1,150}$")]


def actions(client: TempoClient) -> list[Action[Any]]:
    return [QueryTraces(client), GetTrace(client)]


class TempoSettings(ToolSettings):
    url: HttpUrl = Field(alias="TEMPO_URL")
    # Both optional: a bare Tempo needs neither; a gateway wants a token, multi-tenant Tempo a tenant.
    token: SecretStr | None = Field(default=None, alias="TEMPO_TOKEN")
    tenant: TenantId | None = Field(default=None, alias="TEMPO_TENANT")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: both actions share one client, closed with the toolset."""
    settings = read_settings("tempo", TempoSettings, environ, required="TEMPO_URL")
    token = settings.token.get_secret_value() if settings.token else None
    client = TempoClient.connect(str(settings.url), token=token, tenant=settings.tenant)
    tenant = f", tenant {settings.tenant}" if settings.tenant else ""
    return Toolset(
        name="tempo", actions=actions(client), status=f"enabled, {client.url}{tenant}", closers=[client.close]
    )
