"""Start-up of alert-driven incidents: the settings checked against the workflow catalog, the bot's
identity read from Slack (webhooks carry no team), and the desk built."""

from __future__ import annotations

import os
import socket
import uuid

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError, NotFound
from bot.incident_desk import Identity, IncidentDesk
from bot.incident_settings import IncidentSettings
from bot.incident_slack import IncidentSlack
from bot.operations import Runtime
from bot.remediation import ConfiguredRemediations, FirstOf, RunbookRemediations
from bot.workflows.catalog import Catalog


def check(settings: IncidentSettings, catalog: Catalog) -> None:
    """Raise ConfigError naming the setting that cannot work."""
    if (
        settings.alertmanager_hook_token or settings.alertmanager_hook_secret
    ) and not settings.incident_default_channel:
        raise ConfigError(
            "INCIDENT_DEFAULT_CHANNEL is missing: alerts of services without a channel in INCIDENT_SERVICES "
            "need one"
        )
    for number, rule in enumerate(settings.incident_remediations):
        try:
            catalog.get(rule.workflow)
        except NotFound as exc:
            raise ConfigError(f"INCIDENT_REMEDIATIONS[{number}]: {exc.message}") from None


async def identity(client: AsyncWebClient) -> Identity:
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        raise ConfigError(
            f"SLACK_BOT_TOKEN: auth.test failed ({error}); the webhooks need its team"
        ) from None
    return Identity(team_id=str(response["team_id"]), user_id=str(response["user_id"]))


def desk(
    runtime: Runtime,
    client: AsyncWebClient,
    settings: IncidentSettings,
    identity: Identity,
    *,
    min_interval: float,
) -> IncidentDesk:
    """`min_interval` is the least time between two edits of one incident message."""
    return IncidentDesk(
        runtime=runtime,
        slack=IncidentSlack(client=client, settings=settings),
        settings=settings,
        identity=identity,
        remediations=FirstOf(
            [RunbookRemediations(runtime.sessions), ConfiguredRemediations(settings.incident_remediations)]
        ),
        owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}",
        min_interval=min_interval,
    )
