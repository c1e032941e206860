"""The Argo CD tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`,
the API client in `client`, and what Argo CD's documents say in `state`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from tools.argocd.actions import AppStatus, GetApp, GetDiff, GetResources, ListHistory, RollbackApp, SyncApp
from tools.argocd.client import ArgoCDClient
from tools.argocd.inventory import ListApps
from tools.common.base import Action
from tools.common.toolset import Toolset, ToolSettings, read_settings


def actions(client: ArgoCDClient, *, poll_seconds: float = 2.0) -> list[Action[Any]]:
    return [
        GetApp(client, poll_seconds=poll_seconds),
        GetResources(client, poll_seconds=poll_seconds),
        GetDiff(client, poll_seconds=poll_seconds),
        ListHistory(client, poll_seconds=poll_seconds),
        AppStatus(client, poll_seconds=poll_seconds),
        SyncApp(client, poll_seconds=poll_seconds),
        RollbackApp(client, poll_seconds=poll_seconds),
        ListApps(client),
    ]


class ArgoCDSettings(ToolSettings):
    """The argocd CLI's own variables: the server as host[:port] (https) or a URL, and an API token."""

    server: str = Field(alias="ARGOCD_SERVER")
    token: SecretStr = Field(alias="ARGOCD_AUTH_TOKEN", min_length=1)
    insecure: bool = Field(default=False, alias="ARGOCD_INSECURE")

    @field_validator("server")
    @classmethod
    def _as_url(cls, value: str) -> str:
        url = value.strip() if "://" in value else f"https://{value.strip()}"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
            raise ValueError("expected host[:port] or an http(s) URL, e.g. argocd.example.com")
        _ = parts.port  # raises ValueError for a port that is not a number
        return url.rstrip("/")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: every action shares one client, closed with the toolset."""
    settings = read_settings("argocd", ArgoCDSettings, environ, required="ARGOCD_SERVER")
    client = ArgoCDClient.connect(
        settings.server, settings.token.get_secret_value(), insecure=settings.insecure
    )
    tls = " (TLS not verified)" if settings.insecure else ""
    return Toolset(
        name="argocd",
        actions=actions(client),
        status=f"enabled, {settings.server}{tls}",
        closers=[client.close],
    )
