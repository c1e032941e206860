"""The Alertmanager tool: its settings and the `carapulse.tools` entry point. The actions are in
`actions`, the API v2 client in `client`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, HttpUrl
from yarl import URL

from tools.alertmanager.actions import CreateSilence, ExpireSilence, ListAlertGroups, ListAlerts, ListSilences
from tools.alertmanager.client import AlertmanagerClient, alertmanager_error
from tools.common.base import Action
from tools.common.http import JsonHttpClient
from tools.common.toolset import Toolset, ToolSettings, read_settings


def actions(client: AlertmanagerClient) -> list[Action[Any]]:
    return [
        ListAlerts(client),
        ListAlertGroups(client),
        ListSilences(client),
        CreateSilence(client),
        ExpireSilence(client),
    ]


class AlertmanagerSettings(ToolSettings):
    url: HttpUrl = Field(alias="ALERTMANAGER_URL")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: ALERTMANAGER_URL switches it on."""
    settings = read_settings("alertmanager", AlertmanagerSettings, environ, required="ALERTMANAGER_URL")
    url = str(settings.url).rstrip("/")
    client = AlertmanagerClient(JsonHttpClient("alertmanager", url, error_message=alertmanager_error))
    return Toolset(
        name="alertmanager",
        actions=actions(client),
        status=f"enabled, {URL(url).with_user(None)}",
        closers=[client.close],
    )
