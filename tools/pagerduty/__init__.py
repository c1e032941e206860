"""The PagerDuty tool: its settings and the `carapulse.tools` entry point. The actions are in
`actions`, the REST and Events v2 clients in `client`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SecretStr, StringConstraints

from tools.common.base import Action, ToolError
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.pagerduty.actions import (
    AcknowledgeIncident,
    AnnotateIncident,
    GetIncident,
    ListIncidents,
    ListOnCalls,
    ResolveAlert,
    ResolveIncident,
    TriggerAlert,
)
from tools.pagerduty.client import EVENTS_URL, REST_URL, PagerDutyApi, events_client, rest_client


def actions(api: PagerDutyApi) -> list[Action[Any]]:
    """The reads always; incident changes when there is a user to make them as; alerts when there is
    a routing key to send them with."""
    found: list[Action[Any]] = [ListIncidents(api), GetIncident(api), ListOnCalls(api)]
    if api.from_email:
        found += [AcknowledgeIncident(api), ResolveIncident(api), AnnotateIncident(api)]
    if api.routing_key:
        found += [TriggerAlert(api), ResolveAlert(api)]
    return found


Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+")]


class PagerDutySettings(ToolSettings):
    token: SecretStr = Field(alias="PAGERDUTY_TOKEN")
    from_email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")] | None = Field(
        default=None, alias="PAGERDUTY_FROM_EMAIL"
    )
    routing_key: SecretStr | None = Field(default=None, alias="PAGERDUTY_ROUTING_KEY")
    api_url: Url = Field(default=REST_URL, alias="PAGERDUTY_API_URL")
    events_url: Url = Field(default=EVENTS_URL, alias="PAGERDUTY_EVENTS_URL")
    timeout: float = Field(default=30.0, gt=0, le=300, alias="PAGERDUTY_TIMEOUT")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point; one REST and one Events client, closed with the toolset."""
    settings = read_settings("pagerduty", PagerDutySettings, environ, required="PAGERDUTY_TOKEN")
    routing_key = settings.routing_key.get_secret_value() if settings.routing_key else None
    if routing_key is not None and len(routing_key) != 32:
        raise ToolError(
            "pagerduty: PAGERDUTY_ROUTING_KEY must be a 32-character integration key", call="configuration"
        )
    api = PagerDutyApi(
        rest_client(settings.token.get_secret_value(), base_url=settings.api_url, timeout=settings.timeout),
        events_client(base_url=settings.events_url, timeout=settings.timeout),
        from_email=settings.from_email,
        routing_key=routing_key,
    )
    if settings.from_email:
        writes = f"changes incidents as {settings.from_email}"
    else:
        writes = "read-only incidents (set PAGERDUTY_FROM_EMAIL to change them)"
    alerts = "sends alerts" if routing_key else "no alerts (set PAGERDUTY_ROUTING_KEY)"
    return Toolset(
        name="pagerduty",
        actions=actions(api),
        status=f"enabled, {settings.api_url}: {writes}; {alerts}",
        closers=[api.close],
    )
