"""The three patch types the API server accepts: JSON patch (RFC 6902), merge patch (RFC 7386) and
strategic merge patch (merge patch whose keyed lists merge item by item, with `$patch: delete`)."""

from __future__ import annotations

import copy
from typing import Any

from bot.playground.kubernetes.status import JSON, bad_request, patch_failed, status_error

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

# Strategic merge patch merges these lists by key instead of replacing them (patchMergeKey).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
}


def check_content_type(content_type: str) -> None:
    if content_type not in PATCH_TYPES:
        accepted = ", ".join(PATCH_TYPES)
        message = (
            f"the body of the request was in an unknown format - accepted media types include: {accepted}"
        )
        raise status_error(415, "UnsupportedMediaType", message)


def apply_patch(obj: JSON, patch: Any, content_type: str) -> JSON:
    if content_type == JSON_PATCH:
        return _json_patch(obj, patch)
    if not isinstance(patch, dict):
        raise bad_request("error decoding patch: patch is not a JSON object")
    return _merge(obj, patch, strategic=content_type == STRATEGIC_MERGE_PATCH)


def _merge(target: Any, patch: JSON, *, strategic: bool) -> JSON:
    """RFC 7386 merge patch; with `strategic`, lists named in MERGE_KEYS merge item by item."""
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = _merge(result.get(key), value, strategic=strategic)
        elif strategic and key in MERGE_KEYS and isinstance(value, list):
            result[key] = _merge_list(result.get(key, []), value, MERGE_KEYS[key])
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_list(current: list[JSON], patch: list[JSON], key: str) -> list[JSON]:
    merged = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"map: map[] does not contain declared merge key: {key}")
        position = next((i for i, old in enumerate(merged) if old.get(key) == item[key]), None)
        directive = item.get("$patch")
        if directive == "delete":
            if position is not None:
                del merged[position]
        elif directive is not None:
            raise bad_request(f"Unknown patch type: {directive}")
        elif position is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[position] = _merge(merged[position], item, strategic=True)
    return merged


def _json_patch(obj: JSON, operations: Any) -> JSON:
    """RFC 6902 add/replace/remove/test, enough for the patches kubectl and clients send."""
    if not isinstance(operations, list):
        raise bad_request("error decoding patch: json patch must be a list of operations")
    result = copy.deepcopy(obj)
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        parent, leaf = _resolve_parent(result, path)
        if op in ("add", "replace"):
            if op == "replace" and leaf not in parent:
                raise patch_failed(f"replace operation does not apply: doc is missing key: {path}")
            parent[leaf] = copy.deepcopy(operation.get("value"))
        elif op == "remove":
            if parent.pop(leaf, None) is None:
                raise patch_failed(f"remove operation does not apply: doc is missing path: {path}")
        elif op == "test":
            if parent.get(leaf) != operation.get("value"):
                raise patch_failed(f"testing value {path} failed")
        else:
            raise bad_request(f"the server rejected our request: unsupported op {op!r}")
    return result


def _resolve_parent(doc: JSON, path: str) -> tuple[JSON, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    if not parts:
        raise bad_request(f"error decoding patch: invalid path {path!r}")
    parent: Any = doc
    for part in parts[:-1]:
        if not isinstance(parent, dict) or part not in parent:
            raise patch_failed(f"doc is missing path: {path}")
        parent = parent[part]
    if not isinstance(parent, dict):
        raise patch_failed(f"path {path} does not point into an object")
    return parent, parts[-1]
