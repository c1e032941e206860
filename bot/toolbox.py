"""Builds the tool registry from every installed `carapulse.tools` entry point; each tool reports one
line at start-up (enabled, or what would enable it), and a tool configured wrongly stops start-up."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import ConfigError
from tools.common.base import ToolError
from tools.common.redaction import SECRET_KEY, Redactor
from tools.common.registry import Registry, installed_toolsets
from tools.common.toolset import NotConfigured, Toolset, ToolsetFactory

log = logging.getLogger(__name__)


@dataclass
class Toolbox:
    registry: Registry
    status: dict[str, str]
    toolsets: list[Toolset] = field(default_factory=list)

    async def aclose(self) -> None:
        for built in self.toolsets:
            await built.aclose()


def build(environ: Mapping[str, str], factories: Mapping[str, ToolsetFactory] | None = None) -> Toolbox:
    """`factories` defaults to the installed entry points, sorted by name so start-up is repeatable."""
    factories = installed_toolsets() if factories is None else factories
    toolbox = Toolbox(registry=Registry(redactor=redactor_for(environ)), status={})
    for name in sorted(factories):
        try:
            built, toolbox.status[name] = configure(factories[name], environ)
        except ToolError as exc:
            raise ConfigError(exc.message) from None
        if built is not None:
            for action in built.actions:
                toolbox.registry.add(action)
            toolbox.toolsets.append(built)
    for name, status in toolbox.status.items():
        log.info("%s: %s", name, status)
    return toolbox


def configure(factory: ToolsetFactory, environ: Mapping[str, str]) -> tuple[Toolset | None, str]:
    """One tool built from the environment with its status line; None when it is not configured.
    A tool configured wrongly raises ToolError."""
    try:
        built = factory(environ)
    except NotConfigured as reason:
        return None, f"disabled, {reason.reason}"
    return built, built.status


def redactor_for(environ: Mapping[str, str]) -> Redactor:
    """Masks the service's own secrets wherever a tool echoes them: the value of every variable
    whose name sounds secret (SLACK_BOT_TOKEN, VAULT_TOKEN, BOUNDARY_PASSWORD, …), plus the regular
    expressions in REDACT_PATTERNS (a JSON list)."""
    literals = [value for name, value in environ.items() if SECRET_KEY.search(name)]
    raw_patterns = environ.get("REDACT_PATTERNS", "[]")
    try:
        patterns = json.loads(raw_patterns)
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ValueError("expected a JSON list of strings")
        for pattern in patterns:
            re.compile(pattern)
    except (ValueError, re.error) as exc:
        raise ConfigError(f"REDACT_PATTERNS: {exc}") from None
    return Redactor.with_secrets(literals, patterns)
