"""Reads and replaces one value of a YAML file by dotted path, leaving every other line as it was.

ruamel.yaml's round-trip mode keeps comments, key order and quoting, but it re-emits the whole file in a
single indentation style. So a file is only edited when loading and dumping it unchanged reproduces it
byte for byte under one of the common styles; otherwise the edit is refused, because a one-value bump
that reformats the file would hide the real change in review.
"""

from __future__ import annotations

import copy
import difflib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import ScalarString

from tools.common.base import ToolError

YamlScalar = str | int | float | bool

# (mapping indent, sequence indent, dash offset) of the layouts people and tools write.
_LAYOUTS = ((2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 4, 2), (4, 6, 4), (2, 3, 1), (3, 3, 0))
_EDIT = "yaml edit"


@dataclass(frozen=True)
class YamlEdit:
    """A file's text before and after replacing the value at `path`; `previous` and `value` are plain
    Python values (for the plan card and verify steps), not ruamel nodes."""

    path: str
    before: str
    after: str
    previous: Any
    value: Any

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self, file: str) -> str:
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"a/{file}",
            tofile=f"b/{file}",
        )
        return "".join(lines)


class YamlDocument:
    """One YAML document; `where` names it in errors ("envs/prod/values.yaml"). Only an `editable`
    document is checked for a faithful round trip: reading a value needs no such guarantee."""

    def __init__(self, text: str, where: str, *, editable: bool = True) -> None:
        self.text = text
        self.where = where
        self._yaml = YAML(typ="rt")
        self._yaml.preserve_quotes = True
        self._yaml.width = 4096
        self._yaml.explicit_start = _first_content_line(text).startswith("---")
        try:
            self._data = self._yaml.load(text)
        except YAMLError as exc:
            problem = str(exc).strip().splitlines()[0]
            raise ToolError(f"{where} is not valid YAML: {problem}", call=_EDIT) from None
        if editable:
            self._choose_layout()

    def get(self, path: str) -> Any:
        parent, key = self._parent(path)
        return _plain(parent[key])

    def node(self, path: str) -> Any:
        parent, key = self._parent(path)
        return parent[key]

    def replace(self, path: str, new: Any) -> YamlEdit:
        """Set the value at `path` (which must exist) to `new`, a plain value or a node of another
        document. A string replacing a quoted string keeps its quotes."""
        parent, key = self._parent(path)
        old = parent[key]
        previous = _plain(old)
        replacement = copy.deepcopy(new)
        if isinstance(old, ScalarString) and isinstance(replacement, str):
            replacement = type(old)(str(replacement))
        parent[key] = replacement
        try:
            after = self._dump()
        finally:
            parent[key] = old
        return YamlEdit(path, self.text, after, previous, _plain(replacement))

    def _parent(self, path: str) -> tuple[Any, Any]:
        """The container holding the value at `path`, and its key or index there."""
        segments = path.split(".")
        node = self._data
        for depth, segment in enumerate(segments):
            here = ".".join(segments[: depth + 1])
            if isinstance(node, Mapping):
                if segment not in node:
                    raise ToolError(f"{self.where} has no {here}", call=_EDIT)
                key: Any = segment
            elif isinstance(node, Sequence) and not isinstance(node, str):
                if not segment.isdigit() or int(segment) >= len(node):
                    raise ToolError(
                        f"{self.where}: {here} is not an item of a {len(node)}-item list", call=_EDIT
                    )
                key = int(segment)
            else:
                raise ToolError(
                    f"{self.where} has no {here}: its parent is not a mapping or list", call=_EDIT
                )
            if depth == len(segments) - 1:
                return node, key
            node = node[key]
        raise ToolError(f"{self.where}: empty path", call=_EDIT)

    def _choose_layout(self) -> None:
        first_difference = ""
        for mapping, sequence, offset in _LAYOUTS:
            self._yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
            rendered = self._dump()
            if rendered == self.text:
                return
            first_difference = first_difference or _first_changed_line(self.text, rendered)
        message = (
            f"{self.where} cannot be edited without reformatting it ({first_difference}); "
            "edit it by hand or normalise its layout first"
        )
        raise ToolError(message, call=_EDIT)

    def _dump(self) -> str:
        buffer = io.StringIO()
        self._yaml.dump(self._data, buffer)
        return buffer.getvalue()


def _plain(node: Any) -> Any:
    """A ruamel node as JSON-able Python: the data the plan card shows and verify steps compare."""
    if isinstance(node, Mapping):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(item) for item in node]
    if isinstance(node, ScalarBoolean | bool):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node if node is None else str(node)


def _first_content_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return ""


def _first_changed_line(before: str, after: str) -> str:
    old, new = before.splitlines(), after.splitlines()
    for number, (was, becomes) in enumerate(zip(old, new, strict=False), start=1):
        if was != becomes:
            return f"line {number} would become {becomes.strip()[:60]!r}"
    return f"line {min(len(old), len(new)) + 1} would change"
