"""The demo world the playground starts: three people, a channel, the shop's Deployments, and the
bot's settings pointed at the stand-ins.

The settings come from here alone, never from the environment or CARAPULSE_CONFIG: a token, a
Vault address or a model key set for real use must not make the playground reach a real system.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.slack.state import ALICE, BOB, OPS_CHANNEL
from bot.playground.slack.web_api import FakeSlack
from bot.settings import Settings

CAROL = "U0123CAROL3"
NAMESPACE = "shop"
ENVIRONMENT = "prod"
# Deployment -> replicas at start; each is also a service with its own error-ratio series.
DEPLOYMENTS = {"checkout": 2, "payments": 3, "cart": 2, "catalog": 2}
ALERTNAME = "HighErrorRate"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    part: str
    roles: tuple[str, ...]


PEOPLE = (
    Person(ALICE, "alice", "requester", ("operator", "approver")),
    Person(BOB, "bob", "approver", ("approver",)),
    Person(CAROL, "carol", "admin", ("operator", "approver", "admin")),
)

# The verify check every plan gets: the target's 5xx ratio stays under 5 % for a few seconds.
ERROR_CHECK = {
    "label": "5xx ratio",
    "expr": 'service:http_errors:ratio_rate5m{{namespace="{namespace}",service="{name}"}}',
    "comparator": "<",
    "threshold": 0.05,
    "window_seconds": 6,
    "interval_seconds": 3,
}


@dataclass(frozen=True)
class Secrets:
    """Made afresh for each run: only the page server holds them."""

    bot_token: str
    signing_secret: str
    hook_token: str

    @classmethod
    def fresh(cls) -> Secrets:
        return cls(
            bot_token=f"xoxb-playground-{secrets.token_hex(12)}",
            signing_secret=secrets.token_hex(16),
            hook_token=secrets.token_urlsafe(24),
        )


class PlaygroundSettings(Settings):
    """Settings read from the values given and nothing else."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def prepare_slack(slack: FakeSlack) -> None:
    slack.add_user(CAROL, "carol")
    # Members are everyone known (carol included), as in add_channel's default.
    slack.workspace.channels[OPS_CHANNEL].members = list(slack.workspace.users)


def prepare_cluster(kube: FakeKubernetes) -> None:
    for name, replicas in DEPLOYMENTS.items():
        kube.add_deployment(NAMESPACE, name, replicas=replicas)


def settings(*, slack_api_url: str, database_url: str, keys: Secrets) -> PlaygroundSettings:
    return PlaygroundSettings(
        **settings_values(slack_api_url=slack_api_url, database_url=database_url, keys=keys)
    )


def settings_values(*, slack_api_url: str, database_url: str, keys: Secrets) -> dict[str, Any]:
    services = {
        name: {"channel": OPS_CHANNEL, "namespace": NAMESPACE, "deployment": name} for name in DEPLOYMENTS
    }
    return {
        "slack_bot_token": keys.bot_token,
        "slack_signing_secret": keys.signing_secret,
        "slack_api_url": slack_api_url,
        "database_url": database_url,
        "environment": ENVIRONMENT,
        "environments": {ENVIRONMENT: {"production": True}},
        "roles": {person.id: list(person.roles) for person in PEOPLE},
        "security_channel": OPS_CHANNEL,
        "verify_checks": [ERROR_CHECK],
        "card_update_interval_seconds": 0.5,
        "home_update_interval_seconds": 1.0,
        "worker_poll_seconds": 1.0,
        "alertmanager_hook_token": keys.hook_token,
        "incident_default_channel": OPS_CHANNEL,
        "incident_services": services,
        "incident_remediations": [
            {
                "alertname": ALERTNAME,
                "workflow": "incident_remediation",
                "inputs": {"remediation": "restart", "service": "{service}", "namespace": NAMESPACE},
            }
        ],
    }


def tool_environ(*, kubeconfig: str, prometheus_url: str) -> Mapping[str, str]:
    """What the tools read instead of the process environment: only the stand-ins are configured."""
    return {"KUBECONFIG": kubeconfig, "PROMETHEUS_URL": prometheus_url}
