"""What an upgrade would change, from two rendered manifests (the release's own and the one
`helm upgrade --dry-run` renders): which resources appear, disappear or change, and a unified diff of
the changed text. Secrets are named but their text is never shown: it must not reach Slack."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tools.common.base import ToolError

PATCH_LIMIT = 20_000
_DOCUMENT_BREAK = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class ManifestDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int
    patch: str

    @property
    def counts(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"

    def as_data(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "patch": self.patch,
        }


@dataclass(frozen=True)
class _Resource:
    text: str
    # Parsed, so a moved comment or reordered keys alone do not count as a change.
    content: Any
    secret: bool


def diff_manifests(before: str, after: str) -> ManifestDiff:
    old, new = _resources(before), _resources(after)
    added = [key for key in new if key not in old]
    removed = [key for key in old if key not in new]
    changed = [key for key in new if key in old and old[key].content != new[key].content]
    pieces = [_patch(key, old.get(key), new.get(key)) for key in [*removed, *changed, *added]]
    patch = "\n".join(pieces)
    if len(patch) > PATCH_LIMIT:
        patch = f"{patch[:PATCH_LIMIT]}\n… (diff cut at {PATCH_LIMIT} characters)"
    unchanged = len(new) - len(added) - len(changed)
    return ManifestDiff(added=added, removed=removed, changed=changed, unchanged=unchanged, patch=patch)


def _resources(manifest: str) -> dict[str, _Resource]:
    """Each document of a multi-document manifest, keyed `Kind/namespace/name` (`Kind/name` when the
    chart leaves the namespace to helm)."""
    yaml = YAML(typ="safe")
    resources: dict[str, _Resource] = {}
    for chunk in _DOCUMENT_BREAK.split(manifest):
        try:
            content = yaml.load(chunk)
        except YAMLError as error:
            raise ToolError(
                f"helm: a rendered manifest is not valid YAML: {error}", call="helm diff"
            ) from None
        if not isinstance(content, dict):
            continue
        kind = str(content.get("kind", "Unknown"))
        metadata = content.get("metadata") or {}
        parts = [kind, metadata.get("namespace"), metadata.get("name", "unnamed")]
        key = "/".join(str(part) for part in parts if part)
        resources[key] = _Resource(text=chunk.strip("\n"), content=content, secret=kind == "Secret")
    return resources


def _patch(key: str, old: _Resource | None, new: _Resource | None) -> str:
    if (old and old.secret) or (new and new.secret):
        verb = "removed" if new is None else "added" if old is None else "changed"
        return f"# {key} {verb} (contents hidden)"
    lines = difflib.unified_diff(
        old.text.splitlines() if old else [],
        new.text.splitlines() if new else [],
        fromfile=f"a/{key}" if old else "/dev/null",
        tofile=f"b/{key}" if new else "/dev/null",
        lineterm="",
    )
    return "\n".join(lines)
