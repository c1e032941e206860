"""What a strategic merge patch changes, and the patch that puts those fields back.

Both walk the patch itself, not the whole object: the fields a patch names are the fields it can
change, and lists with a merge key (containers by name, ports by containerPort, …) are matched item by
item the way the API server merges them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

# patchMergeKey of the list fields a Deployment patch reaches, from the Kubernetes OpenAPI schema.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
PATCH_DIRECTIVE = "$patch"


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any


def changes(patch: JSON, before: JSON, after: JSON) -> list[Change]:
    """Every field the patch names whose value differs between `before` and `after` (None: absent)."""
    found: list[Change] = []
    _diff(patch, before, after, "", found)
    return found


def inverse(patch: JSON, before: JSON) -> JSON:
    """A strategic merge patch that sets every field `patch` names back to its value in `before`:
    fields it added are deleted (null), list items it added are removed (`$patch: delete`)."""
    undo: JSON = {}
    for key, value in patch.items():
        old = before.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            undo[key] = inverse(value, old)
        elif key in MERGE_KEYS and isinstance(value, list) and isinstance(old, list):
            undo[key] = [_inverse_item(item, old, MERGE_KEYS[key]) for item in value]
        else:
            undo[key] = copy.deepcopy(old)
    return undo


def is_delete_directive(item: Any, merge_key: str) -> bool:
    return (
        isinstance(item, dict)
        and item.keys() == {merge_key, PATCH_DIRECTIVE}
        and item[PATCH_DIRECTIVE] == "delete"
    )


def _diff(patch: JSON, before: Any, after: Any, path: str, found: list[Change]) -> None:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    for key, value in patch.items():
        here = _join(path, key)
        old, new = before.get(key), after.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and isinstance(new, dict):
            _diff(value, old, new, here, found)
        elif key in MERGE_KEYS and isinstance(value, list):
            _diff_items(value, old, new, here, MERGE_KEYS[key], found)
        elif old != new:
            found.append(Change(here, old, new))


def _diff_items(
    items: list[Any], before: Any, after: Any, path: str, merge_key: str, found: list[Change]
) -> None:
    for item in items:
        if not isinstance(item, dict) or merge_key not in item:
            continue
        here = f"{path}[{merge_key}={item[merge_key]}]"
        old, new = _item(before, merge_key, item[merge_key]), _item(after, merge_key, item[merge_key])
        if old is None or new is None:
            if old != new:
                found.append(Change(here, old, new))
            continue
        fields = {k: v for k, v in item.items() if k not in (merge_key, PATCH_DIRECTIVE)}
        _diff(fields, old, new, here, found)


def _inverse_item(item: JSON, before: list[Any], merge_key: str) -> JSON:
    key = item[merge_key]
    old = _item(before, merge_key, key)
    if old is None:
        return {merge_key: key, PATCH_DIRECTIVE: "delete"}
    if is_delete_directive(item, merge_key):
        return copy.deepcopy(old)
    fields = {k: v for k, v in item.items() if k != merge_key}
    return {merge_key: key, **inverse(fields, old)}


def _item(items: Any, merge_key: str, key: Any) -> JSON | None:
    if not isinstance(items, list):
        return None
    return next((i for i in items if isinstance(i, dict) and i.get(merge_key) == key), None)


def _join(path: str, key: str) -> str:
    if "." in key or "/" in key:
        return f'{path}["{key}"]'
    return f"{path}.{key}" if path else key
