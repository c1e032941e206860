"""What a tool's `carapulse.tools` entry point returns, and how it reads its own configuration.

Every tool, built-in or third-party, is a factory `toolset(environ) -> Toolset`. It reads its settings
from the environment mapping it is given (never `os.environ` directly, so tests pass a dict), raises
`NotConfigured` when its settings are absent, and `ToolError` when they are present but wrong.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from tools.common.base import Action, ToolError

Closer = Callable[[], Awaitable[None] | None]


class NotConfigured(Exception):
    """The tool's settings are absent: it is left out, and `reason` says what would enable it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Toolset:
    """One tool's actions, the line it reports at start-up, and what releases its connections."""

    name: str
    actions: Sequence[Action[Any]]
    status: str
    closers: list[Closer] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in self.closers:
            result = close()
            if inspect.isawaitable(result):
                await result


ToolsetFactory = Callable[[Mapping[str, str]], Toolset]


class ToolSettings(BaseModel):
    """Base for a tool's settings, read from environment variables named by field aliases
    (e.g. `server: str = Field(alias="ARGOCD_SERVER")`); other variables are ignored."""

    # Built on first use: the settings of a tool whose switch is unset are never validated.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)


SettingsT = TypeVar("SettingsT", bound=ToolSettings)


def read_settings(
    tool: str, model: type[SettingsT], environ: Mapping[str, str], *, required: str | None
) -> SettingsT:
    """The tool's settings, or NotConfigured when the variable that switches it on (`required`) is
    unset; a tool that several variables can switch on passes None and decides itself. A set but
    invalid value is a ToolError naming the variable, so start-up stops with one line."""
    if required is not None and not environ.get(required):
        raise NotConfigured(f"set {required} to enable")
    try:
        return model.model_validate(dict(environ))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or required or "settings"
        raise ToolError(f"{tool}: {where}: {error['msg']}", call="configuration") from None
