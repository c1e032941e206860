"""One error hierarchy: each class carries text the person in Slack can act on."""

from __future__ import annotations

from collections.abc import Iterable


class CarapulseError(Exception):
    """Base for every error Carapulse shows to a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(CarapulseError):
    """The request itself is wrong (bad text, bad arguments); the message says how to fix it."""


class NotFound(CarapulseError):
    pass


class Conflict(CarapulseError):
    """The request clashes with the current state (plan already finished, already approved)."""


class PolicyDenied(CarapulseError):
    pass


class ConfigError(CarapulseError):
    """A setting is missing or invalid; the message names it and fits on one line."""


def unknown_environment(setting: str, environment: str, known: Iterable[str]) -> ConfigError:
    """A per-environment setting names an environment that is not configured."""
    listed = ", ".join(sorted(known))
    return ConfigError(f"{setting}: environment {environment} is not configured (ENVIRONMENTS has {listed})")
