"""How secret_rotation rotates in each backend: what it reads and pins at planning, the act steps that
rotate, and whether (and how) the rotation can be undone.

Every rotating step carries a high risk floor: policy then asks for two approvals (or break-glass) on
every backend, and an override file, which can change arguments only, cannot lower it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import RiskLevel
from bot.errors import UserError
from bot.workflows.base import PlannedStep, PlanningContext

ROTATE_ACTIONS = ("vault.write_secret", "vault.rotate_role_credentials", "aws.secret_rotate")


@dataclass(frozen=True)
class Rotation:
    """One backend's part of the plan. `undo` says how the rotation is undone, or why it cannot be;
    `reversible` is whether a rollback brings the old value back (so consumers must restart again)."""

    steps: Sequence[PlannedStep]
    what: str
    kind: str
    ref: str
    target: str
    undo: str
    reversible: bool


async def kv_rotation(
    context: PlanningContext, *, mount: str, path: str, keys: Sequence[str], length: int, alphabet: str
) -> Rotation:
    """Pins the current version: the write refuses once someone wrote another after planning, so the
    keys it keeps are those of the version the approvers saw."""
    where = {"mount": mount, "path": path}
    ref = f"{mount}/{path}"
    meta = await context.read("vault.get_secret_metadata", where)
    current = int(meta["current_version"])
    state = meta["versions"].get(str(current), "missing")
    if state != "live":
        raise UserError(
            f"Version {current} of {ref} is {state}, so its other keys cannot be kept; "
            "restore or write the secret first."
        )
    named = ", ".join(keys)
    rotate = PlannedStep(
        "rotate",
        "vault.write_secret",
        {
            **where,
            "generate": {key: {"length": length, "alphabet": alphabet} for key in keys},
            "keep_other_keys": True,
            "expected_version": current,
        },
        f"Generate new {named} for {ref} as version {current + 1}, made when the step runs and never "
        "shown; the other keys are kept",
        risk=RiskLevel.HIGH,
    )
    return Rotation(
        steps=[rotate],
        what=f"Vault secret {ref}",
        kind="VaultSecret",
        ref=ref,
        target=f"vault/{ref}",
        undo=f"Write version {current} of {ref} back as a new version (the old value returns)",
        reversible=True,
    )


async def database_rotation(context: PlanningContext, *, mount: str, role: str) -> Rotation:
    where = {"mount": mount, "role": role}
    ref = f"{mount}/{role}"
    found = await context.read("vault.get_static_role", where)
    rotate = PlannedStep(
        "rotate",
        "vault.rotate_role_credentials",
        where,
        f"Rotate the password of static role {ref} (user {found['username']} on {found['db_name']}); "
        "Vault makes it and never shows it",
        risk=RiskLevel.HIGH,
    )
    return Rotation(
        steps=[rotate],
        what=f"database role {ref}",
        kind="DatabaseRole",
        ref=ref,
        target=f"vault/{ref}",
        undo="None for the rotation: the database no longer accepts the old password, so a failed "
        "check leaves the new one for a fix forward",
        reversible=False,
    )


async def aws_rotation(context: PlanningContext, *, secret: str, aws_environment: str | None) -> Rotation:
    """Pins AWSCURRENT: the rotation refuses once another version replaced it, and the wait after it
    knows which version the rotation must move AWSCURRENT away from."""
    where: dict[str, Any] = {"environment": aws_environment} if aws_environment else {}
    where["secret_id"] = secret
    found = await context.read("aws.secret_get", where)
    name = found["name"]
    current, pending = _holding(found["versions"], "AWSCURRENT"), _holding(found["versions"], "AWSPENDING")
    if not found.get("rotation_enabled"):
        raise UserError(f"AWS secret {name} has no rotation configured; set up its rotation function first.")
    if current is None:
        raise UserError(f"AWS secret {name} has no AWSCURRENT version to rotate.")
    if pending is not None and pending != current:
        raise UserError(f"AWS secret {name} is being rotated already (version {pending} is AWSPENDING).")
    how = found.get("rotation_lambda_arn") or "its rotation function"
    steps = [
        PlannedStep(
            "rotate",
            "aws.secret_rotate",
            {**where, "expected_version_id": current},
            f"Rotate AWS secret {name} with {how}, replacing version {current}",
            risk=RiskLevel.HIGH,
        ),
        PlannedStep(
            "rotated",
            "aws.secret_rotation_wait",
            {**where, "previous_version_id": current},
            f"Wait until the rotation of {name} has finished (a new version AWSCURRENT)",
        ),
    ]
    return Rotation(
        steps=steps,
        what=f"AWS secret {name}",
        kind="AwsSecret",
        ref=name,
        target=f"aws/{name}",
        undo="None for the rotation: the rotation function has changed the credential where it is used, "
        "so the previous version may no longer work",
        reversible=False,
    )


def _holding(versions: dict[str, list[str]], label: str) -> str | None:
    return next((version for version, stages in versions.items() if label in stages), None)
