"""The Grafana tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`,
their arguments in `args`, the HTTP API client in `client`, and dashboard links in `links`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, HttpUrl, SecretStr

from tools.common.base import Action
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.grafana.actions import Annotate, DeleteAnnotation, GetPanelLink, ListDashboards
from tools.grafana.client import GrafanaClient


def actions(client: GrafanaClient) -> list[Action[Any]]:
    return [Annotate(client), DeleteAnnotation(client), ListDashboards(client), GetPanelLink(client)]


class GrafanaSettings(ToolSettings):
    url: HttpUrl = Field(alias="GRAFANA_URL")
    # A service-account token (glsa_…); its role decides what Carapulse may annotate.
    token: SecretStr = Field(alias="GRAFANA_TOKEN", min_length=1)


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: every action shares one client, closed with the toolset."""
    settings = read_settings("grafana", GrafanaSettings, environ, required="GRAFANA_URL")
    client = GrafanaClient.connect(str(settings.url), settings.token.get_secret_value())
    return Toolset(
        name="grafana", actions=actions(client), status=f"enabled, {client.base_url}", closers=[client.close]
    )
