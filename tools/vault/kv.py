"""Vault KV version 2 secrets: read metadata, write a new version, restore an earlier one, soft-delete
and undelete versions.

Secret values travel only from an action's arguments (or an earlier version) to Vault: no summary,
result data or error names a value, only version numbers and how many keys there are. A write can
also have Carapulse generate a value when the step runs and keep the secret's other keys, so a
rotation plan carries no secret at all: nothing in Slack, the plan or the audit trail.

Undoing a write never rewinds history. KV v2 keeps every version, so the inverse of a write is to read
the version it replaced and write that data back as a newer version, with check-and-set on the version
the write produced, so a change made after it is never clobbered. When nothing readable was replaced
(the secret was new, or its current version deleted or destroyed), the inverse is to soft-delete the
version written, which `vault.undelete_secret_version` can bring back.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)

from tools.common.base import (
    Action,
    ActionArgs,
    ActionResult,
    Effect,
    Rehearsed,
    RiskHint,
    RollbackStep,
    ToolError,
)
from tools.common.pins import require_unmoved
from tools.vault.answers import Answer, parse_answer

if TYPE_CHECKING:
    import hvac

    from tools.vault.client import VaultClient


def _no_dot_segments(path: str) -> str:
    if any(part in (".", "..") for part in path.split("/")):
        raise ValueError("path segments cannot be '.' or '..'")
    return path


MountPath = Annotated[
    str,
    StringConstraints(max_length=128, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*$"),
    AfterValidator(_no_dot_segments),
]
SecretPath = Annotated[
    str,
    StringConstraints(max_length=512, pattern=r"^[A-Za-z0-9_.@+=-]+(/[A-Za-z0-9_.@+=-]+)*$"),
    AfterValidator(_no_dot_segments),
]
SecretKey = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.-]+$")]
Version = Annotated[int, Field(ge=1)]


class SecretArgs(ActionArgs):
    mount: MountPath = "secret"
    path: SecretPath

    @property
    def ref(self) -> str:
        return f"{self.mount}/{self.path}"


class GeneratedValue(BaseModel):
    """A random value made with `secrets` when the step runs, never when it is planned or rehearsed."""

    model_config = ConfigDict(extra="forbid")

    length: Annotated[int, Field(ge=16, le=256)] = 32
    alphabet: Literal["alphanumeric", "hex", "url_safe"] = "alphanumeric"

    def make(self) -> str:
        if self.alphabet == "hex":
            return secrets.token_hex(self.length)[: self.length]
        if self.alphabet == "url_safe":
            return secrets.token_urlsafe(self.length)[: self.length]
        return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(self.length))


_ALPHANUMERIC = string.ascii_letters + string.digits


class WriteSecretArgs(SecretArgs):
    # SecretStr keeps the values out of reprs, logs and model dumps made for display.
    data: Annotated[dict[SecretKey, SecretStr], Field(default_factory=dict, max_length=100)]
    generate: Annotated[dict[SecretKey, GeneratedValue], Field(default_factory=dict, max_length=100)]
    # Keys named in neither keep their values from the current version (a rotation of one key);
    # otherwise the new version holds only the keys given, as a KV v2 write does.
    keep_other_keys: bool = False
    # The current version the plan saw; the write refuses once the secret has moved past it, so the
    # keys it keeps are those of the version the approvers were shown. None: not pinned.
    expected_version: Version | None = None

    @model_validator(mode="after")
    def _some_keys_each_given_once(self) -> WriteSecretArgs:
        if not self.data and not self.generate:
            raise ValueError("give at least one key in data or generate")
        if both := sorted(self.data.keys() & self.generate.keys()):
            raise ValueError(f"keys both given and generated: {', '.join(both)}")
        return self


class RestoreVersionArgs(SecretArgs):
    version: Version
    # When set, the secret must still be at this version: a rollback must not undo a later change.
    expected_version: Version | None = None


class VersionsArgs(SecretArgs):
    versions: Annotated[list[Version], Field(min_length=1, max_length=50)]


# --- Vault's answers -------------------------------------------------------------------------------


class _VersionMetadata(Answer):
    created_time: str
    deletion_time: str = ""
    destroyed: bool = False


class _Metadata(Answer):
    current_version: int
    oldest_version: int = 0
    max_versions: int = 0
    cas_required: bool = False
    created_time: str = ""
    updated_time: str = ""
    custom_metadata: dict[str, str] | None = None
    versions: dict[int, _VersionMetadata]


class _MetadataAnswer(Answer):
    data: _Metadata


class _WrittenVersion(Answer):
    version: int


class _WriteAnswer(Answer):
    data: _WrittenVersion


class _SecretVersion(Answer):
    data: dict[str, Any]


class _ReadAnswer(Answer):
    data: _SecretVersion


VersionState = Literal["live", "deleted", "destroyed"]


@dataclass(frozen=True)
class SecretMetadata:
    current_version: int
    oldest_version: int
    max_versions: int
    cas_required: bool
    created_time: str
    updated_time: str
    custom_metadata: dict[str, str]
    states: dict[int, VersionState]

    @classmethod
    def of(cls, answer: _MetadataAnswer) -> SecretMetadata:
        meta = answer.data
        return cls(
            current_version=meta.current_version,
            oldest_version=meta.oldest_version,
            max_versions=meta.max_versions,
            cas_required=meta.cas_required,
            created_time=meta.created_time,
            updated_time=meta.updated_time,
            custom_metadata=meta.custom_metadata or {},
            states={number: _state(version) for number, version in sorted(meta.versions.items())},
        )

    def readable(self, version: int) -> bool:
        return self.states.get(version) == "live"

    def require(self, ref: str, version: int, *, allowed: tuple[VersionState, ...]) -> VersionState:
        """The version's state, or a ToolError saying why it cannot be acted on."""
        state = self.states.get(version)
        if state is None:
            raise ToolError(f"{ref} has no version {version} (current is {self.current_version})")
        if state not in allowed:
            hint = {"deleted": "; undelete it first", "destroyed": " and cannot be recovered"}.get(state, "")
            raise ToolError(f"version {version} of {ref} is {state}{hint}")
        return state


def _state(version: _VersionMetadata) -> VersionState:
    if version.destroyed:
        return "destroyed"
    return "deleted" if version.deletion_time else "live"


class KvStore:
    """The KV v2 calls the actions make, each named "METHOD /v1/path" for errors."""

    def __init__(self, vault: VaultClient) -> None:
        self.vault = vault

    async def metadata(self, args: SecretArgs) -> SecretMetadata:
        call = f"GET /v1/{args.mount}/metadata/{args.path}"
        answer = await self.vault.call(
            call,
            _target(args),
            lambda c: c.secrets.kv.v2.read_secret_metadata(args.path, mount_point=args.mount),
        )
        return SecretMetadata.of(parse_answer(_MetadataAnswer, answer, call))

    async def metadata_if_exists(self, args: SecretArgs) -> SecretMetadata | None:
        try:
            return await self.metadata(args)
        except ToolError as error:
            if error.status == 404:
                return None
            raise

    async def read_data(self, args: SecretArgs, version: int) -> dict[str, Any]:
        call = f"GET /v1/{args.mount}/data/{args.path}?version={version}"
        answer = await self.vault.call(
            call,
            f"version {version} of {_target(args)}",
            lambda c: c.secrets.kv.v2.read_secret_version(
                args.path, version=version, mount_point=args.mount, raise_on_deleted_version=True
            ),
        )
        return parse_answer(_ReadAnswer, answer, call).data.data

    async def write(self, args: SecretArgs, data: dict[str, Any], *, cas: int) -> int:
        """Write `data` as a new version if the secret is still at version `cas` (0: does not exist).
        Never retried: a write that landed would make its retry fail check-and-set."""
        call = f"POST /v1/{args.mount}/data/{args.path}"
        try:
            answer = await self.vault.call(
                call,
                _target(args),
                lambda c: c.secrets.kv.v2.create_or_update_secret(
                    args.path, secret=data, cas=cas, mount_point=args.mount
                ),
                repeatable=False,
            )
        except ToolError as error:
            if error.status == 400 and "check-and-set parameter did not match" in error.message:
                message = (
                    f"{args.ref} changed while Carapulse wrote it (it is no longer at version {cas}); "
                    "nothing was written, run the step again"
                )
                raise ToolError(message, call=call, status=400) from None
            raise
        return parse_answer(_WriteAnswer, answer, call).data.version

    async def set_deleted(self, args: SecretArgs, versions: list[int], *, deleted: bool) -> None:
        """Soft-delete or undelete; repeatable, since both set an absolute state."""

        def change(client: hvac.Client) -> Any:
            kv2 = client.secrets.kv.v2
            method = kv2.delete_secret_versions if deleted else kv2.undelete_secret_versions
            return method(args.path, versions=versions, mount_point=args.mount)

        verb = "delete" if deleted else "undelete"
        await self.vault.call(f"POST /v1/{args.mount}/{verb}/{args.path}", _target(args), change)


SecretArgsT = TypeVar("SecretArgsT", bound=SecretArgs)


class _KvAction(Action[SecretArgsT]):
    def __init__(self, kv: KvStore) -> None:
        self.kv = kv


class GetSecretMetadata(_KvAction[SecretArgs]):
    name = "vault.get_secret_metadata"
    description = "Show a KV v2 secret's versions and settings (never its values)."
    args_model = SecretArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: SecretArgs) -> ActionResult:
        meta = await self.kv.metadata(args)
        states = list(meta.states.values())
        gone = ", ".join(f"{states.count(s)} {s}" for s in ("deleted", "destroyed") if s in states)
        # Never "<path>: …": redaction would read a path ending in password as a key and mask the rest.
        summary = f"{args.ref} at version {meta.current_version}, {len(states)} kept"
        return ActionResult(
            summary=summary + (f" ({gone})" if gone else ""),
            data={
                "mount": args.mount,
                "path": args.path,
                "current_version": meta.current_version,
                "oldest_version": meta.oldest_version,
                "max_versions": meta.max_versions,
                "cas_required": meta.cas_required,
                "created_time": meta.created_time,
                "updated_time": meta.updated_time,
                "custom_metadata": meta.custom_metadata,
                "versions": {str(number): state for number, state in meta.states.items()},
            },
        )


class _NewVersionAction(_KvAction[SecretArgsT]):
    """A write that adds a version; undone by restoring what it replaced (see the module docstring)."""

    def rollback(self, args: SecretArgsT, result: ActionResult) -> RollbackStep:
        previous, written = result.data["previous_version"], result.data["version"]
        where = {"mount": args.mount, "path": args.path}
        if result.data["previous_readable"]:
            return RollbackStep(
                action=RestoreSecretVersion.name,
                args={**where, "version": previous, "expected_version": written},
                description=f"write version {previous} of {args.ref} back as a new version",
            )
        return RollbackStep(
            action=DeleteSecretVersion.name,
            args={**where, "versions": [written]},
            description=f"soft-delete version {written} of {args.ref} (it can be undeleted)",
        )


class WriteSecret(Rehearsed, _NewVersionAction[WriteSecretArgs]):
    name = "vault.write_secret"
    description = "Write a new version of a KV v2 secret, with check-and-set on the version read first."
    args_model = WriteSecretArgs
    effect = Effect.WRITE
    timeout_seconds = 60.0

    async def apply(self, args: WriteSecretArgs, *, dry_run: bool) -> ActionResult:
        meta = await self.kv.metadata_if_exists(args)
        previous = meta.current_version if meta else 0
        require_unmoved(
            f"{args.ref} version",
            pinned=args.expected_version,
            live=previous,
            call=f"GET /v1/{args.mount}/metadata/{args.path}",
        )
        kept = await self._kept_values(args, meta)
        given = {key: value.get_secret_value() for key, value in args.data.items()}
        generated = {key: "" if dry_run else spec.make() for key, spec in args.generate.items()}
        values = kept | given | generated
        version = previous + 1 if dry_run else await self.kv.write(args, values, cas=previous)
        verb = "would write" if dry_run else "wrote"
        replaced = f"replacing version {previous}" if previous else "new secret"
        keys = _key_counts(values, kept, generated)
        return ActionResult(
            summary=f"{verb} version {version} of {args.ref} ({keys}, {replaced})",
            data={
                "mount": args.mount,
                "path": args.path,
                "previous_version": previous,
                "previous_readable": bool(meta and meta.readable(previous)),
                "version": version,
                "keys": len(values),
                "generated_keys": sorted(generated),
                "kept_keys": sorted(kept),
            },
        )

    async def _kept_values(self, args: WriteSecretArgs, meta: SecretMetadata | None) -> dict[str, Any]:
        """The current version's keys that this write neither gives nor generates."""
        if not args.keep_other_keys or meta is None:
            return {}
        meta.require(args.ref, meta.current_version, allowed=("live",))
        current = await self.kv.read_data(args, meta.current_version)
        named = args.data.keys() | args.generate.keys()
        return {key: value for key, value in current.items() if key not in named}


def _key_counts(values: dict[str, Any], kept: dict[str, Any], generated: dict[str, str]) -> str:
    """ "3 keys: 1 generated, 2 kept", or just "2 keys" when every value was given."""
    counts = f"{len(values)} key" + ("s" if len(values) != 1 else "")
    details = []
    if generated:
        details.append(f"{len(generated)} generated")
    if kept:
        details.append(f"{len(kept)} kept")
    return f"{counts}: {', '.join(details)}" if details else counts


class RestoreSecretVersion(Rehearsed, _NewVersionAction[RestoreVersionArgs]):
    name = "vault.restore_secret_version"
    description = "Write an earlier version of a KV v2 secret back as its newest version."
    args_model = RestoreVersionArgs
    effect = Effect.WRITE
    timeout_seconds = 60.0

    async def apply(self, args: RestoreVersionArgs, *, dry_run: bool) -> ActionResult:
        meta = await self.kv.metadata(args)
        meta.require(args.ref, args.version, allowed=("live",))
        current = meta.current_version
        if args.expected_version is not None and current != args.expected_version:
            raise ToolError(
                f"{args.ref} is at version {current}, not {args.expected_version}: it changed after the "
                f"step being undone, so version {args.version} was not restored over it"
            )
        if dry_run:
            version = current + 1
        else:
            version = await self.kv.write(args, await self.kv.read_data(args, args.version), cas=current)
        verb = "would restore" if dry_run else "restored"
        return ActionResult(
            summary=f"{verb} version {args.version} of {args.ref} as version {version}",
            data={
                "mount": args.mount,
                "path": args.path,
                "restored_version": args.version,
                "previous_version": current,
                "previous_readable": meta.readable(current),
                "version": version,
            },
        )


class _VersionsStateChange(Rehearsed, _KvAction[VersionsArgs]):
    """Soft delete and undelete: each is the other's inverse, for the versions it actually changed."""

    args_model = VersionsArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 60.0
    deleting: bool
    inverse: str

    def rollback(self, args: VersionsArgs, result: ActionResult) -> RollbackStep | None:
        changed = result.data["changed"]
        if not changed:
            return None
        verb = "undelete" if self.deleting else "soft-delete"
        return RollbackStep(
            action=self.inverse,
            args={"mount": args.mount, "path": args.path, "versions": changed},
            description=f"{verb} {_numbers(changed)} of {args.ref} again",
        )

    async def apply(self, args: VersionsArgs, *, dry_run: bool) -> ActionResult:
        meta = await self.kv.metadata(args)
        versions = sorted(set(args.versions))
        before = {v: meta.require(args.ref, v, allowed=("live", "deleted")) for v in versions}
        target: VersionState = "deleted" if self.deleting else "live"
        changed = [v for v in versions if before[v] != target]
        if changed and not dry_run:
            await self.kv.set_deleted(args, changed, deleted=self.deleting)
        verb = "soft-deleted" if self.deleting else "undeleted"
        prefix = "would have " if dry_run else ""
        unchanged = len(versions) - len(changed)
        note = f" ({unchanged} already {target})" if unchanged else ""
        what = f"{_numbers(changed)} of {args.ref}" if changed else f"nothing in {args.ref}"
        return ActionResult(
            summary=f"{prefix}{verb} {what}{note}",
            data={"mount": args.mount, "path": args.path, "versions": versions, "changed": changed},
        )


class DeleteSecretVersion(_VersionsStateChange):
    name = "vault.delete_secret_version"
    description = (
        "Soft-delete versions of a KV v2 secret (reads stop returning them; undelete brings them back)."
    )
    risk = RiskHint.HIGH
    deleting = True
    inverse = "vault.undelete_secret_version"


class UndeleteSecretVersion(_VersionsStateChange):
    name = "vault.undelete_secret_version"
    description = "Bring back soft-deleted versions of a KV v2 secret."
    deleting = False
    inverse = "vault.delete_secret_version"


def kv_actions(vault: VaultClient) -> list[Action[Any]]:
    kv = KvStore(vault)
    return [
        GetSecretMetadata(kv),
        WriteSecret(kv),
        RestoreSecretVersion(kv),
        DeleteSecretVersion(kv),
        UndeleteSecretVersion(kv),
    ]


def _target(args: SecretArgs) -> str:
    return f"secret {args.ref}"


def _numbers(versions: list[int]) -> str:
    """ "version 3" or "versions 3, 4"."""
    return ("version " if len(versions) == 1 else "versions ") + ", ".join(str(v) for v in versions)
