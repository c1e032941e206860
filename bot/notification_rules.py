"""Which plan events go where, per environment (the `NOTIFY` setting), checked at start-up against
the sinks that are configured: e-mail (SMTP_*), a webhook (NOTIFY_WEBHOOK_*) and PagerDuty (its
tool's alerts, for failures and rollbacks)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot.errors import ConfigError, unknown_environment

PlanEvent = Literal[
    "created", "approved", "rejected", "started", "succeeded", "failed", "rolled_back", "expired", "cancelled"
]
Sink = Literal["email", "webhook", "pagerduty"]
# PagerDuty wakes people: only what went wrong goes there.
PAGEABLE_EVENTS = frozenset({"failed", "rolled_back"})
Address = Annotated[str, StringConstraints(pattern=r"^[^@\s<>,]+@[^@\s<>,]+$")]


class Route(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    events: list[PlanEvent] = Field(min_length=1)


class EmailRoute(Route):
    to: list[Address] = Field(min_length=1)


class PagerDutyRoute(Route):
    @field_validator("events")
    @classmethod
    def _only_failures(cls, events: list[str]) -> list[str]:
        others = sorted(set(events) - PAGEABLE_EVENTS)
        if others:
            raise ValueError(f"PagerDuty takes only failed and rolled_back, not {', '.join(others)}")
        return events


class EnvironmentNotifications(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email: EmailRoute | None = None
    webhook: Route | None = None
    pagerduty: PagerDutyRoute | None = None


class NotificationRoutes:
    """`NOTIFY` read against the configured environments and sinks; a route to a sink that is not
    configured stops start-up with one line naming it."""

    def __init__(
        self,
        routes: Mapping[str, EnvironmentNotifications],
        *,
        environments: Iterable[str],
        configured: Mapping[Sink, str],
    ) -> None:
        """`configured` maps each sink to "" when it can send, else the setting it is missing."""
        known = set(environments)
        for environment, sinks in routes.items():
            if environment not in known:
                raise unknown_environment("NOTIFY", environment, known)
            for sink in _SINKS:
                if getattr(sinks, sink) is not None and configured.get(sink):
                    raise ConfigError(f"NOTIFY: {environment} sends to {sink}, but {configured[sink]}")
        self._routes = dict(routes)

    def __bool__(self) -> bool:
        return bool(self._routes)

    def sinks_for(self, environment: str, event: str) -> list[Sink]:
        sinks = self._routes.get(environment)
        if sinks is None:
            return []
        return [
            sink for sink in _SINKS if (route := getattr(sinks, sink)) is not None and event in route.events
        ]

    def email_to(self, environment: str) -> list[str]:
        email = self._routes[environment].email
        return list(email.to) if email else []


_SINKS: tuple[Sink, ...] = ("email", "webhook", "pagerduty")
