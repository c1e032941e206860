"""Slack request bodies as bytes: the three encodings Slack uses, and edits by dotted path for tests
that break a real payload (`without(payload, "actions.0.action_id")`)."""

import copy
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def form_body(fields: Mapping[str, str]) -> bytes:
    """A slash command's body."""
    return urllib.parse.urlencode(fields).encode()


def interactive_body(payload: Any) -> bytes:
    """Any JSON value as the `payload` form field, the way Slack sends interactivity."""
    return ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()


def json_body(value: Any) -> bytes:
    """An Events API body."""
    return json.dumps(value).encode()


def without(value: Any, path: str) -> Any:
    """A copy of `value` with the key or list item at `path` removed."""
    edited = copy.deepcopy(value)
    parent, last = _locate(edited, path)
    del parent[last]
    return edited


def with_value(value: Any, path: str, new: Any) -> Any:
    """A copy of `value` with `new` at `path` (the parent must exist)."""
    edited = copy.deepcopy(value)
    parent, last = _locate(edited, path)
    parent[last] = new
    return edited


def paths(value: Any, prefix: str = "") -> list[str]:
    """Every dotted path inside `value`, parents before children."""
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        children = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(str(index), item) for index, item in enumerate(value)]
    found: list[str] = []
    for key, item in children:
        path = f"{prefix}.{key}" if prefix else key
        found += [path, *paths(item, path)]
    return found


def _locate(value: Any, path: str) -> tuple[Any, Any]:
    *parents, last = path.split(".")
    for key in parents:
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value, int(last) if isinstance(value, list) else last
