"""Patch a Deployment with a strategic merge patch, showing the fields it changes before → after; the
dry run asks the API server for the would-be object, so defaulting and validation are the real ones."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from pydantic import field_validator

from tools.common.base import ActionResult, Effect, Rehearsed, RiskHint, RollbackStep
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import DeploymentArgs
from tools.kubernetes.strategic import (
    JSON,
    MERGE_KEYS,
    PATCH_DIRECTIVE,
    Change,
    changes,
    inverse,
    is_delete_directive,
)

MAX_PATCH_BYTES = 32 * 1024
_PATCHABLE = {"spec": None, "metadata": {"labels", "annotations"}}
_SHOWN_CHANGES = 3
_SHOWN_VALUE_CHARS = 60


class PatchDeploymentArgs(DeploymentArgs):
    patch: JSON

    @field_validator("patch")
    @classmethod
    def _patchable(cls, patch: JSON) -> JSON:
        """Only spec, labels and annotations; no directives but the `$patch: delete` a rollback sends."""
        if not patch:
            raise ValueError("the patch is empty")
        if len(json.dumps(patch)) > MAX_PATCH_BYTES:
            raise ValueError(f"the patch is larger than {MAX_PATCH_BYTES} bytes")
        for key, value in patch.items():
            if key not in _PATCHABLE:
                raise ValueError(
                    f"{key!r} cannot be patched; use spec, metadata.labels or metadata.annotations"
                )
            allowed = _PATCHABLE[key]
            if not isinstance(value, dict):
                raise ValueError(f"{key} must be an object")
            if allowed is not None and not value.keys() <= allowed:
                raise ValueError(f"only {', '.join(sorted(allowed))} of {key} can be patched")
        _check_directives(patch, key="")
        return patch


class PatchDeployment(Rehearsed, KubernetesAction[PatchDeploymentArgs]):
    name = "kubernetes.patch_deployment"
    description = (
        "Change fields of a Deployment with a strategic merge patch; shows each field before → after."
    )
    args_model = PatchDeploymentArgs
    effect = Effect.WRITE
    # A patch can change anything a Deployment runs, as `kubectl apply` can.
    risk = RiskHint.HIGH
    timeout_seconds = 60.0

    def rollback(self, args: PatchDeploymentArgs, result: ActionResult) -> RollbackStep | None:
        if not result.data["changes"]:
            return None
        fields = ", ".join(change["path"] for change in result.data["changes"])
        return RollbackStep(
            action=self.name,
            args=args.same_target(patch=result.data["rollback_patch"]),
            description=f"put {fields} of {args.ref} back to their values before the patch",
        )

    async def apply(self, args: PatchDeploymentArgs, *, dry_run: bool) -> ActionResult:
        client = await self.client(args)
        before = client.to_json(await client.read_deployment(args.namespace, args.name))
        # The resourceVersion read above makes the patch conditional: if the Deployment changed since,
        # the server answers 409 instead of applying a patch whose "before" is no longer true.
        metadata = {
            **args.patch.get("metadata", {}),
            "resourceVersion": before["metadata"]["resourceVersion"],
        }
        body = {**args.patch, "metadata": metadata}
        patched = await client.patch_deployment(args.namespace, args.name, body, dry_run=dry_run)
        found = changes(args.patch, before, client.to_json(patched))
        return ActionResult(
            summary=_summary(args.ref, found),
            data={
                "namespace": args.namespace,
                "name": args.name,
                "changes": [asdict(change) for change in found],
                "rollback_patch": inverse(args.patch, before),
                "generation": patched.metadata.generation,
            },
        )


def _summary(ref: str, found: list[Change]) -> str:
    if not found:
        return f"no change: {ref} already has the patched values"
    shown = "; ".join(f"{c.path} {_show(c.before)} → {_show(c.after)}" for c in found[:_SHOWN_CHANGES])
    more = f"; and {len(found) - _SHOWN_CHANGES} more" if len(found) > _SHOWN_CHANGES else ""
    return f"patched {ref}: {shown}{more}"


def _show(value: Any) -> str:
    text = "(unset)" if value is None else value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _SHOWN_VALUE_CHARS else text[: _SHOWN_VALUE_CHARS - 1] + "…"


def _check_directives(value: Any, *, key: str) -> None:
    """Refuse directives this tool cannot invert; merge-key list items must carry their key."""
    if isinstance(value, dict):
        for name, child in value.items():
            if name.startswith("$"):
                raise ValueError(f"patch directive {name!r} is not supported")
            _check_directives(child, key=name)
    elif isinstance(value, list) and key in MERGE_KEYS:
        merge_key = MERGE_KEYS[key]
        for item in value:
            if not isinstance(item, dict) or merge_key not in item:
                raise ValueError(f"every item of {key} needs its {merge_key!r}")
            if PATCH_DIRECTIVE in item and not is_delete_directive(item, merge_key):
                raise ValueError(f"in {key}, only {{{merge_key!r}: …, '$patch': 'delete'}} is supported")
            _check_directives({k: v for k, v in item.items() if k != PATCH_DIRECTIVE}, key="")
