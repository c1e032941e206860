"""Secrets Manager metadata and rotation. Secret values never pass through here: the actions call
DescribeSecret and RotateSecret only, and keep an allow-list of metadata fields.

RotateSecret only starts a rotation: the rotation function then creates the new version (AWSPENDING)
and moves AWSCURRENT to it, which `aws.secret_rotation_wait` waits for before anything reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import StringConstraints

from tools.aws.action import AwsAction, AwsArgs, environment_args, jsonable, tag_map
from tools.aws.waits import AwsWait, WaitSeconds
from tools.common.base import ActionResult, Effect, Rehearsed, RiskHint, ToolError
from tools.common.pins import require_unmoved
from tools.common.polling import until

if TYPE_CHECKING:
    pass

SecretId = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9/_+=.@:-]+$")]
VersionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_DESCRIBE = "secretsmanager:DescribeSecret"

_METADATA = {
    "ARN": "arn",
    "Name": "name",
    "Description": "description",
    "KmsKeyId": "kms_key_id",
    "RotationEnabled": "rotation_enabled",
    "RotationLambdaARN": "rotation_lambda_arn",
    "RotationRules": "rotation_rules",
    "LastRotatedDate": "last_rotated",
    "LastChangedDate": "last_changed",
    "LastAccessedDate": "last_accessed",
    "NextRotationDate": "next_rotation",
    "DeletedDate": "deleted",
    "CreatedDate": "created",
    "OwningService": "owning_service",
    "PrimaryRegion": "primary_region",
}


class SecretArgs(AwsArgs):
    secret_id: SecretId


class RotateSecretArgs(SecretArgs):
    # False: Secrets Manager only tests the rotation function and rotates on its schedule.
    rotate_immediately: bool = True
    # The AWSCURRENT version the plan saw; the rotation is refused once another one replaced it.
    # None: not pinned.
    expected_version_id: VersionId | None = None


class RotationWaitArgs(SecretArgs):
    # The version that was AWSCURRENT before the rotation started.
    previous_version_id: VersionId
    timeout_seconds: WaitSeconds = 300


class GetSecret(AwsAction[SecretArgs]):
    name = "aws.secret_get"
    description = "Show a secret's metadata: rotation settings, dates, versions and tags (never its value)."
    args_model = SecretArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: SecretArgs) -> ActionResult:
        secret = await describe_secret(self, args)
        rotation = "rotation on" if secret.get("rotation_enabled") else "rotation off"
        last = f", last rotated {secret['last_rotated']}" if secret.get("last_rotated") else ""
        # Never "<name>: …": redaction would read a name ending in -password as a key and mask the rest.
        return ActionResult(
            summary=f"secret {secret['name']} ({rotation}{last})",
            data={**environment_args(args), **secret},
        )


class RotateSecret(Rehearsed, AwsAction[RotateSecretArgs]):
    """Starts a rotation with the secret's configured rotation. There is no rollback: the rotation
    function has already changed the credential where it is used, so the old version may no longer work."""

    name = "aws.secret_rotate"
    description = "Rotate a secret now with its configured rotation function."
    args_model = RotateSecretArgs
    effect = Effect.WRITE
    risk = RiskHint.HIGH
    timeout_seconds = 60.0

    async def run(self, args: RotateSecretArgs) -> ActionResult:
        secret = await self._rotatable(args)
        answer = await self.aws.call(
            args.environment,
            "secretsmanager",
            "RotateSecret",
            SecretId=args.secret_id,
            RotateImmediately=args.rotate_immediately,
        )
        started = "started rotation of" if args.rotate_immediately else "tested rotation of"
        return ActionResult(
            summary=f"{started} secret {secret['name']}, new version {answer.get('VersionId')}",
            data={
                **environment_args(args),
                "arn": secret["arn"],
                "name": secret["name"],
                "previous_version_id": _current_version(secret),
                "version_id": answer.get("VersionId"),
                "rotate_immediately": args.rotate_immediately,
            },
        )

    async def rehearse(self, args: RotateSecretArgs) -> ActionResult:
        secret = await self._rotatable(args)
        how = secret.get("rotation_lambda_arn") or secret.get("owning_service") or "its rotation settings"
        return ActionResult(
            summary=f"would rotate secret {secret['name']} with {how}",
            data={
                **environment_args(args),
                "arn": secret["arn"],
                "name": secret["name"],
                "version_id": _current_version(secret),
            },
        )

    async def _rotatable(self, args: RotateSecretArgs) -> dict[str, Any]:
        """The secret's metadata, or a ToolError when Secrets Manager would refuse to rotate it."""
        secret = await describe_secret(self, args)
        if secret.get("deleted"):
            problem = f"is scheduled for deletion ({secret['deleted']})"
        elif not secret.get("rotation_enabled"):
            problem = "has no rotation configured; set up rotation in Secrets Manager first"
        elif _Stages.of(secret).in_progress:
            problem = "has a rotation in progress (a version is still AWSPENDING)"
        else:
            require_unmoved(
                f"the current version (AWSCURRENT) of secret {secret['name']}",
                pinned=args.expected_version_id,
                live=_current_version(secret),
                call=_DESCRIBE,
            )
            return secret
        raise ToolError(f"aws: secret {secret['name']} {problem}", call="secretsmanager:RotateSecret")


class WaitForRotation(AwsWait[RotationWaitArgs]):
    name = "aws.secret_rotation_wait"
    description = "Wait until a secret's rotation has finished: a new version is AWSCURRENT, none pending."
    args_model = RotationWaitArgs

    async def run(self, args: RotationWaitArgs) -> ActionResult:
        latest: dict[str, Any] = {}

        async def read() -> _Stages:
            latest.update(await describe_secret(self, args))
            return _Stages.of(latest)

        previous = args.previous_version_id
        stages, finished = await until(
            read,
            lambda s: s.finished(previous),
            time_limit=args.timeout_seconds,
            poll_seconds=self.poll_seconds,
        )
        if not finished:
            raise ToolError(
                f"aws: the rotation of secret {latest['name']} has not finished after "
                f"{args.timeout_seconds:g}s: {stages.progress(previous)}",
                call=_DESCRIBE,
            )
        return ActionResult(
            summary=f"rotation of secret {latest['name']} finished, version {stages.current} is AWSCURRENT",
            data={
                **environment_args(args),
                "arn": latest["arn"],
                "name": latest["name"],
                "previous_version_id": previous,
                "version_id": stages.current,
            },
        )


@dataclass(frozen=True)
class _Stages:
    """Which versions hold the staging labels a rotation moves."""

    current: str | None
    pending: str | None

    @classmethod
    def of(cls, secret: dict[str, Any]) -> _Stages:
        def holding(label: str) -> str | None:
            return next((v for v, stages in secret["versions"].items() if label in stages), None)

        return cls(current=holding("AWSCURRENT"), pending=holding("AWSPENDING"))

    @property
    def in_progress(self) -> bool:
        """A rotation is done once AWSPENDING is gone or sits on the AWSCURRENT version."""
        return self.pending is not None and self.pending != self.current

    def finished(self, previous: str) -> bool:
        return self.current != previous and not self.in_progress

    def progress(self, previous: str) -> str:
        if self.current == previous:
            pending = f", version {self.pending} is AWSPENDING" if self.pending else ", nothing is AWSPENDING"
            return f"AWSCURRENT is still version {previous}{pending}"
        return f"version {self.pending} is still AWSPENDING (AWSCURRENT is {self.current})"


async def describe_secret(action: AwsAction[Any], args: SecretArgs) -> dict[str, Any]:
    answer = await action.aws.call(
        args.environment, "secretsmanager", "DescribeSecret", SecretId=args.secret_id
    )
    metadata = {ours: jsonable(answer[theirs]) for theirs, ours in _METADATA.items() if theirs in answer}
    metadata["versions"] = {
        version: list(stages) for version, stages in answer.get("VersionIdsToStages", {}).items()
    }
    metadata["tags"] = tag_map(answer.get("Tags"))
    return metadata


def _current_version(secret: dict[str, Any]) -> str | None:
    return _Stages.of(secret).current
