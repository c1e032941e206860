"""Vault credential lifecycles: renew and revoke leases, rotate database root and static-role passwords.

None of these has an inverse (a revoked lease or a rotated password cannot be brought back), so each
first reads what it is about to change, fails on an unknown lease, connection or role instead of letting
Vault accept it silently, and reports what the read showed; the same read is its dry run. No password
or token ever appears in the results: Vault does not return them from these endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints

from tools.common.base import Action, ActionArgs, ActionResult, ArgsT, Effect, Rehearsed, RiskHint, ToolError
from tools.vault.answers import Answer, duration, parse_answer
from tools.vault.kv import MountPath

if TYPE_CHECKING:
    from tools.vault.client import VaultClient

LeaseId = Annotated[str, StringConstraints(max_length=512, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")]
ObjectName = Annotated[str, StringConstraints(max_length=128, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")]


class LeaseArgs(ActionArgs):
    lease_id: LeaseId


class RenewLeaseArgs(LeaseArgs):
    # Vault may grant less (up to the mount's max TTL); None asks for the lease's default.
    increment_seconds: Annotated[int, Field(ge=1, le=31_536_000)] | None = None


class ConnectionArgs(ActionArgs):
    mount: MountPath = "database"
    connection: ObjectName


class StaticRoleArgs(ActionArgs):
    mount: MountPath = "database"
    role: ObjectName


# --- Vault's answers -------------------------------------------------------------------------------


class _Lease(Answer):
    id: str
    issue_time: str
    expire_time: str | None = None
    last_renewal: str | None = None
    renewable: bool
    ttl: int


class _LeaseAnswer(Answer):
    data: _Lease


class _RenewAnswer(Answer):
    lease_id: str
    lease_duration: int
    renewable: bool


class _Connection(Answer):
    plugin_name: str
    allowed_roles: list[str] = Field(default_factory=list)


class _ConnectionAnswer(Answer):
    data: _Connection


class _StaticRole(Answer):
    db_name: str
    username: str
    last_vault_rotation: str | None = None
    rotation_period: int | str | None = None


class _StaticRoleAnswer(Answer):
    data: _StaticRole


class Credentials:
    """The lease and database-engine calls, each named "METHOD /v1/path" for errors."""

    def __init__(self, vault: VaultClient) -> None:
        self.vault = vault

    async def lookup_lease(self, lease_id: str) -> _Lease:
        call = "PUT /v1/sys/leases/lookup"
        try:
            answer = await self.vault.call(call, f"lease {lease_id}", lambda c: c.sys.read_lease(lease_id))
        except ToolError as error:
            # Vault answers an unknown lease id with 400 "invalid lease".
            if error.status == 400:
                raise ToolError(f"lease {lease_id} not found in vault", call=call, status=400) from None
            raise
        return parse_answer(_LeaseAnswer, answer, call).data

    async def renew_lease(self, lease_id: str, increment: int | None) -> _RenewAnswer:
        call = "PUT /v1/sys/leases/renew"
        answer = await self.vault.call(
            call, f"lease {lease_id}", lambda c: c.sys.renew_lease(lease_id, increment=increment)
        )
        return parse_answer(_RenewAnswer, answer, call)

    async def revoke_lease(self, lease_id: str) -> None:
        await self.vault.call(
            "PUT /v1/sys/leases/revoke", f"lease {lease_id}", lambda c: c.sys.revoke_lease(lease_id)
        )

    async def connection(self, args: ConnectionArgs) -> _Connection:
        call = f"GET /v1/{args.mount}/config/{args.connection}"
        answer = await self.vault.call(
            call,
            f"database connection {args.connection}",
            lambda c: c.secrets.database.read_connection(args.connection, mount_point=args.mount),
        )
        return parse_answer(_ConnectionAnswer, answer, call).data

    async def static_role(self, args: StaticRoleArgs) -> _StaticRole:
        call = f"GET /v1/{args.mount}/static-roles/{args.role}"
        answer = await self.vault.call(
            call,
            f"database static role {args.role}",
            lambda c: c.secrets.database.read_static_role(args.role, mount_point=args.mount),
        )
        return parse_answer(_StaticRoleAnswer, answer, call).data

    async def rotate_root(self, args: ConnectionArgs) -> None:
        # Never retried: a rotation that reached Vault before the answer was lost would rotate twice.
        await self.vault.call(
            f"POST /v1/{args.mount}/rotate-root/{args.connection}",
            f"database connection {args.connection}",
            lambda c: c.secrets.database.rotate_root_credentials(args.connection, mount_point=args.mount),
            repeatable=False,
        )

    async def rotate_role(self, args: StaticRoleArgs) -> None:
        await self.vault.call(
            f"POST /v1/{args.mount}/rotate-role/{args.role}",
            f"database static role {args.role}",
            lambda c: c.secrets.database.rotate_static_role_credentials(args.role, mount_point=args.mount),
            repeatable=False,
        )


class _CredentialsAction(Rehearsed, Action[ArgsT]):
    effect = Effect.WRITE
    timeout_seconds = 60.0

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials


class RenewLease(_CredentialsAction[RenewLeaseArgs]):
    name = "vault.renew_lease"
    description = "Extend a Vault lease (dynamic credentials stay valid longer)."
    args_model = RenewLeaseArgs
    idempotent = True

    async def apply(self, args: RenewLeaseArgs, *, dry_run: bool) -> ActionResult:
        lease = await self.credentials.lookup_lease(args.lease_id)
        if not lease.renewable:
            raise ToolError(f"lease {args.lease_id} is not renewable", call="PUT /v1/sys/leases/lookup")
        data: dict[str, Any] = {
            "lease_id": args.lease_id,
            "previous_ttl": lease.ttl,
            "previous_expire_time": lease.expire_time,
        }
        if dry_run:
            summary = f"would renew lease {args.lease_id} (ttl {duration(lease.ttl)}, renewable)"
            return ActionResult(summary=summary, data=data)
        renewed = await self.credentials.renew_lease(args.lease_id, args.increment_seconds)
        summary = (
            f"renewed lease {args.lease_id}: ttl {duration(lease.ttl)} → {duration(renewed.lease_duration)}"
        )
        return ActionResult(
            summary=summary, data=data | {"ttl": renewed.lease_duration, "renewable": renewed.renewable}
        )


class RevokeLease(_CredentialsAction[LeaseArgs]):
    name = "vault.revoke_lease"
    description = "Revoke a Vault lease now: the credentials it covers stop working at once."
    args_model = LeaseArgs
    risk = RiskHint.HIGH
    idempotent = True

    async def apply(self, args: LeaseArgs, *, dry_run: bool) -> ActionResult:
        lease = await self.credentials.lookup_lease(args.lease_id)
        if not dry_run:
            await self.credentials.revoke_lease(args.lease_id)
        verb = "would revoke" if dry_run else "revoked"
        return ActionResult(
            summary=f"{verb} lease {args.lease_id} ({duration(lease.ttl)} before it expired)",
            data={
                "lease_id": args.lease_id,
                "issue_time": lease.issue_time,
                "expire_time": lease.expire_time,
                "ttl_left": lease.ttl,
            },
        )


class RotateRootCredentials(_CredentialsAction[ConnectionArgs]):
    name = "vault.rotate_root_credentials"
    description = "Rotate the password Vault uses to reach a database; only Vault will know the new one."
    args_model = ConnectionArgs
    risk = RiskHint.HIGH

    async def apply(self, args: ConnectionArgs, *, dry_run: bool) -> ActionResult:
        connection = await self.credentials.connection(args)
        if not dry_run:
            await self.credentials.rotate_root(args)
        verb = "would rotate" if dry_run else "rotated"
        what = f"{args.mount}/{args.connection} ({connection.plugin_name})"
        return ActionResult(
            summary=f"{verb} the root credentials of {what}",
            data={"mount": args.mount, "connection": args.connection, "plugin_name": connection.plugin_name},
        )


class GetStaticRole(Action[StaticRoleArgs]):
    name = "vault.get_static_role"
    description = "Show a database static role: its user, database and last rotation (never the password)."
    args_model = StaticRoleArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    async def run(self, args: StaticRoleArgs) -> ActionResult:
        role = await self.credentials.static_role(args)
        last = f", last rotated {role.last_vault_rotation}" if role.last_vault_rotation else ""
        return ActionResult(
            summary=f"static role {args.mount}/{args.role} (user {role.username} on {role.db_name}{last})",
            data={
                "mount": args.mount,
                "role": args.role,
                "db_name": role.db_name,
                "username": role.username,
                "last_rotation": role.last_vault_rotation,
                "rotation_period": role.rotation_period,
            },
        )


class RotateRoleCredentials(_CredentialsAction[StaticRoleArgs]):
    name = "vault.rotate_role_credentials"
    description = "Rotate a database static role's password now; applications must read the new one."
    args_model = StaticRoleArgs
    risk = RiskHint.HIGH

    async def apply(self, args: StaticRoleArgs, *, dry_run: bool) -> ActionResult:
        role = await self.credentials.static_role(args)
        data: dict[str, Any] = {
            "mount": args.mount,
            "role": args.role,
            "db_name": role.db_name,
            "username": role.username,
            "previous_rotation": role.last_vault_rotation,
        }
        what = f"static role {args.mount}/{args.role} (user {role.username} on {role.db_name})"
        if dry_run:
            return ActionResult(summary=f"would rotate the password of {what}", data=data)
        await self.credentials.rotate_role(args)
        rotated = await self.credentials.static_role(args)
        return ActionResult(
            summary=f"rotated the password of {what}",
            data=data | {"last_rotation": rotated.last_vault_rotation},
        )


def credentials_actions(vault: VaultClient) -> list[Action[Any]]:
    credentials = Credentials(vault)
    return [
        RenewLease(credentials),
        RevokeLease(credentials),
        RotateRootCredentials(credentials),
        GetStaticRole(credentials),
        RotateRoleCredentials(credentials),
    ]
