"""List requests as the API server answers them: label and field selectors, and `limit`/`continue`
chunking with the server's opaque continue token."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.playground.kubernetes.status import JSON, bad_request

FieldGetter = Callable[[JSON], Any]


def _involved(key: str) -> FieldGetter:
    return lambda event: event["involvedObject"].get(key, "")


def _unschedulable(node: JSON) -> str:
    return str(bool(node["spec"].get("unschedulable"))).lower()


_COMMON_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": lambda o: o["metadata"]["name"],
    "metadata.namespace": lambda o: o["metadata"].get("namespace", ""),
}
# The field selectors each resource supports (its registry's GetAttrs); any other is a 400.
FIELDS: dict[str, dict[str, FieldGetter]] = {
    "deployments": _COMMON_FIELDS,
    "replicasets": {**_COMMON_FIELDS, "status.replicas": lambda o: o["status"].get("replicas", 0)},
    "pods": {
        **_COMMON_FIELDS,
        "spec.nodeName": lambda o: o["spec"].get("nodeName", ""),
        "status.phase": lambda o: o["status"].get("phase", ""),
        "spec.restartPolicy": lambda o: o["spec"].get("restartPolicy", ""),
    },
    "events": {
        **_COMMON_FIELDS,
        **{
            f"involvedObject.{key}": _involved(key)
            for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
        },
        "reason": lambda o: o.get("reason", ""),
        "reportingComponent": lambda o: o.get("reportingComponent", ""),
        "source": lambda o: o.get("source", {}).get("component", ""),
        "type": lambda o: o.get("type", ""),
    },
    "nodes": {"metadata.name": lambda o: o["metadata"]["name"], "spec.unschedulable": _unschedulable},
    "services": _COMMON_FIELDS,
    "ingresses": _COMMON_FIELDS,
}

_SET_REQUIREMENT = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQUALITY = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)\s*$")


def select(resource: str, items: list[JSON], query: Mapping[str, str]) -> list[JSON]:
    labels = _label_matcher(query.get("labelSelector", ""))
    fields = _field_matcher(resource, query.get("fieldSelector", ""))
    return [item for item in items if labels(item["metadata"].get("labels") or {}) and fields(item)]


def page(
    items: list[JSON], query: Mapping[str, str], *, revision: int, selected: bool
) -> tuple[list[JSON], JSON]:
    """One chunk of `items` (sorted by namespace/name, as etcd keys are) and the list metadata."""
    start = _start_key(query.get("continue", ""))
    keyed = [(f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}", i) for i in items]
    remaining = [(key, item) for key, item in keyed if key >= start]
    limit = _limit(query.get("limit", ""))
    chunk = remaining if limit is None else remaining[:limit]
    metadata: JSON = {"resourceVersion": str(revision)}
    if limit is not None and len(remaining) > limit:
        next_key = remaining[limit][0]
        token = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": next_key + "\x00"})
        metadata["continue"] = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
        if not selected:  # with a selector the server cannot know how many more match
            metadata["remainingItemCount"] = len(remaining) - limit
    return [item for _, item in chunk], metadata


def _limit(raw: str) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f'limit: Invalid value: "{raw}": must be an integer') from None
    return value if value > 0 else None


def _start_key(token: str) -> str:
    if not token:
        return ""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return str(decoded["start"]).rstrip("\x00")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad_request(f"continue key is not valid: {token}") from None


def _label_matcher(selector: str) -> Callable[[dict[str, str]], bool]:
    requirements = [_requirement(part) for part in _split(selector)]
    return lambda labels: all(requirement(labels) for requirement in requirements)


def _requirement(text: str) -> Callable[[dict[str, str]], bool]:
    if equality := _EQUALITY.match(text):
        key, operator, value = equality.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _SET_REQUIREMENT.match(text):
        negated, key, operator, values = match.groups()
        if operator is None:
            return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
        if not negated:
            allowed = {v.strip() for v in values.split(",") if v.strip()}
            inside = operator == "in"
            return lambda labels: (key in labels and labels[key] in allowed) == inside
    raise bad_request(f"unable to parse requirement: found '{text}', expected: in, notin, =, ==, !=, gt, lt")


def _field_matcher(resource: str, selector: str) -> Callable[[JSON], bool]:
    known = FIELDS.get(resource, _COMMON_FIELDS)
    checks: list[Callable[[JSON], bool]] = []
    for part in _split(selector):
        match = _EQUALITY.match(part)
        if match is None:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        field, operator, value = match.groups()
        getter = known.get(field)
        if getter is None:
            raise bad_request(f"field label not supported: {field}")
        wanted = operator != "!="
        checks.append(lambda obj, g=getter, v=value, w=wanted: (str(g(obj)) == v) == w)
    return lambda obj: all(check(obj) for check in checks)


def _split(selector: str) -> list[str]:
    """Split on the commas between requirements, not those inside `in (a,b)`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()]
