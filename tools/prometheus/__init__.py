"""The Prometheus tool (or Thanos Query in front of it): its settings and the `carapulse.tools` entry
point. The actions are in `actions`, the HTTP API client in `client`, reading results in `results`, and
the threshold check verify steps use in `threshold`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, HttpUrl, SecretStr, StringConstraints
from yarl import URL

from tools.common.base import Action
from tools.common.http import TRANSIENT_STATUSES, JsonHttpClient
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.prometheus.actions import (
    ListAlerts,
    ListRules,
    ListSeries,
    ListTargets,
    Query,
    QueryExemplars,
    QueryRange,
)
from tools.prometheus.client import PrometheusClient, ThanosParams, prometheus_error
from tools.prometheus.threshold import QueryThreshold

# Prometheus durations ("5m", "1h30m") or "auto", as Thanos reads max_source_resolution.
SourceResolution = Annotated[str, StringConstraints(pattern=r"^(auto|([0-9]+(ms|s|m|h|d|w|y))+)$")]


def actions(client: PrometheusClient) -> list[Action[Any]]:
    return [
        Query(client),
        QueryRange(client),
        ListRules(client),
        ListAlerts(client),
        ListTargets(client),
        ListSeries(client),
        QueryExemplars(client),
        QueryThreshold(client),
    ]


class PrometheusSettings(ToolSettings):
    """PROMETHEUS_URL, or THANOS_URL for a Thanos Query endpoint (which then answers every query);
    THANOS=1 says PROMETHEUS_URL itself is Thanos Query."""

    url: HttpUrl | None = Field(default=None, alias="PROMETHEUS_URL")
    token: SecretStr | None = Field(default=None, alias="PROMETHEUS_TOKEN")
    thanos: bool = Field(default=False, alias="THANOS")
    thanos_url: HttpUrl | None = Field(default=None, alias="THANOS_URL")
    dedup: bool = Field(default=True, alias="THANOS_DEDUP")
    partial_response: bool = Field(default=False, alias="THANOS_PARTIAL_RESPONSE")
    max_source_resolution: SourceResolution = Field(default="auto", alias="THANOS_MAX_SOURCE_RESOLUTION")

    def endpoint(self) -> str:
        url = self.thanos_url or self.url
        return str(url).rstrip("/")

    def thanos_params(self) -> ThanosParams | None:
        if not (self.thanos or self.thanos_url):
            return None
        return ThanosParams(self.dedup, self.partial_response, self.max_source_resolution)


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: PROMETHEUS_URL (or THANOS_URL) switches it on."""
    required = "THANOS_URL" if environ.get("THANOS_URL") else "PROMETHEUS_URL"
    settings = read_settings("prometheus", PrometheusSettings, environ, required=required)
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"} if settings.token else {}
    http = JsonHttpClient(
        "prometheus",
        settings.endpoint(),
        headers=headers,
        error_message=prometheus_error,
        # Prometheus answers 503 for a query that timed out or was cancelled: repeating it only adds load.
        retry_statuses=TRANSIENT_STATUSES - {503},
    )
    client = PrometheusClient(http, thanos=settings.thanos_params())
    return Toolset(
        name="prometheus",
        actions=actions(client),
        status=f"enabled, {_where(settings, client)}",
        closers=[client.close],
    )


def _where(settings: PrometheusSettings, client: PrometheusClient) -> str:
    shown = str(URL(client.url).with_user(None))
    if client.thanos is None:
        return shown
    where = f"Thanos Query at {shown} ({client.thanos.describe()})"
    if settings.thanos_url and settings.url:
        where += "; PROMETHEUS_URL is not used while THANOS_URL is set"
    return where
