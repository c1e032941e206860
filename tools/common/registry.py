"""An explicit, ordered list of actions, looked up by name; a duplicate name is a start-up error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from typing import Any

from tools.common.base import Action
from tools.common.redaction import Redactor
from tools.common.toolset import ToolsetFactory

ENTRY_POINT_GROUP = "carapulse.tools"


class DuplicateActionError(Exception):
    pass


class UnknownActionError(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown tool action {self.name!r}"


class Registry:
    """The actions the worker may run, and the redactor every step's output passes through."""

    def __init__(self, actions: Iterable[Action[Any]] = (), *, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self._actions: dict[str, Action[Any]] = {}
        for action in actions:
            self.add(action)

    def add(self, action: Action[Any]) -> None:
        if action.name in self._actions:
            raise DuplicateActionError(f"tool action {action.name!r} is registered twice")
        self._actions[action.name] = action

    def get(self, name: str) -> Action[Any]:
        try:
            return self._actions[name]
        except KeyError:
            raise UnknownActionError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[Action[Any]]:
        return iter(self._actions.values())


def installed_toolsets() -> dict[str, ToolsetFactory]:
    """Toolset factories advertised under the `carapulse.tools` entry-point group, by name."""
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
