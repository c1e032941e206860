"""Every installed tool's action classes, found without configuring the tool, so `carapulse tools
list` and `tools schema` can describe a tool on a machine where it is not set up yet."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from tools.common.base import Action
from tools.common.registry import ENTRY_POINT_GROUP


@dataclass(frozen=True)
class ToolEntry:
    name: str
    module: str
    actions: tuple[type[Action[Any]], ...]


def installed_tools() -> list[ToolEntry]:
    """One entry per `carapulse.tools` entry point, sorted by tool name; its actions are the concrete
    Action classes named `<tool>.…` in the entry point's module (and its submodules, for a package)."""
    entries = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        module = importlib.import_module(point.module)
        entries.append(ToolEntry(point.name, point.module, _action_classes(point.name, module)))
    return entries


def _action_classes(tool: str, module: ModuleType) -> tuple[type[Action[Any]], ...]:
    found: dict[str, type[Action[Any]]] = {}
    for scope in (module, *_submodules(module)):
        for _, candidate in inspect.getmembers(scope, inspect.isclass):
            name = getattr(candidate, "name", None)
            if (
                issubclass(candidate, Action)
                and not inspect.isabstract(candidate)
                and isinstance(name, str)
                and name.startswith(f"{tool}.")
            ):
                found[name] = candidate
    return tuple(found[name] for name in sorted(found))


def _submodules(module: ModuleType) -> list[ModuleType]:
    if not hasattr(module, "__path__"):
        return []
    return [
        importlib.import_module(f"{module.__name__}.{info.name}")
        for info in pkgutil.iter_modules(module.__path__)
    ]
