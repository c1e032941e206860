"""Builds the tool registry from every installed `carapulse.tools` entry point; each tool reports one
line at start-up (enabled, or what would enable it), and a tool configured wrongly stops start-up."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import ConfigError
from tools.base import ToolError
from tools.registry import Registry, installed_toolsets
from tools.toolset import NotConfigured, Toolset, ToolsetFactory

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
    toolbox = Toolbox(registry=Registry(), status={})
    for name in sorted(factories):
        try:
            built = factories[name](environ)
        except NotConfigured as reason:
            toolbox.status[name] = f"disabled, {reason.reason}"
            continue
        except ToolError as exc:
            raise ConfigError(exc.message) from None
        for action in built.actions:
            toolbox.registry.add(action)
        toolbox.toolsets.append(built)
        toolbox.status[name] = built.status
    for name, status in toolbox.status.items():
        log.info("%s: %s", name, status)
    return toolbox
