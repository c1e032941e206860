"""What terraform 1.x prints, for the stand-in terraform: `terraform show -json <planfile>` in the JSON
plan format (format_version 1.2, as terraform 1.11 writes it) and its "Error:" paragraphs under -no-color."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

TERRAFORM_VERSION = "1.11.4"
# Attribute values a plan carries and the card must never show.
SENSITIVE_VALUE = "hunter2-db-password"

STALE_PLAN = (
    "\nError: Saved plan is stale\n\nThe given plan file can no longer be applied because the state was "
    "changed by\nanother operation after the plan was created.\n"
)
STATE_LOCKED = (
    "\nError: Error acquiring the state lock\n\nError message: ConditionalCheckFailedException: The "
    "conditional request failed\nLock Info:\n  ID:        4b1a7c3e-2f0d-8a6b-91c2-5e7f0d3a9b14\n"
    "  Path:      tf-state/network/terraform.tfstate\n  Operation: OperationTypePlan\n"
    "  Who:       ci@runner\n"
    "\nTerraform acquires a state lock to protect the state from being written\nby multiple users at the "
    "same time. Please resolve the issue above and try again.\n"
)


def plan(changes: Sequence[tuple[str, Sequence[str]]], *, importing: Sequence[str] = ()) -> str:
    """A plan whose resource_changes hold (address, actions) pairs, e.g. ("aws_eip.web", ["delete",
    "create"]); `importing` marks addresses brought in by an import block."""
    return json.dumps(
        {
            "format_version": "1.2",
            "terraform_version": TERRAFORM_VERSION,
            "variables": {"db_password": {"value": SENSITIVE_VALUE}},
            "planned_values": {"root_module": {"resources": []}},
            "resource_changes": [
                _change(address, actions, address in importing) for address, actions in changes
            ],
            "configuration": {
                "provider_config": {
                    "aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}
                }
            },
            "timestamp": "2026-11-26T10:45:22Z",
            "applyable": bool(changes),
            "complete": True,
            "errored": False,
        }
    )


def _change(address: str, actions: Sequence[str], importing: bool) -> dict[str, Any]:
    mode = "data" if address.startswith("data.") else "managed"
    kind, name = address.removeprefix("data.").rsplit(".", 1)
    before = None if list(actions) == ["create"] else {"id": f"{name}-1", "password": SENSITIVE_VALUE}
    after = None if list(actions) == ["delete"] else {"password": SENSITIVE_VALUE}
    change: dict[str, Any] = {
        "actions": list(actions),
        "before": before,
        "after": after,
        "after_unknown": {"id": True} if after is not None else {},
        "before_sensitive": {"password": True} if before is not None else False,
        "after_sensitive": {"password": True} if after is not None else False,
    }
    if importing:
        change["importing"] = {"id": f"{name}-1"}
    resource = {
        "address": address,
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": change,
    }
    if list(actions) in (["delete", "create"], ["create", "delete"]):
        resource["action_reason"] = "replace_because_cannot_update"
    return resource
