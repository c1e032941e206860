"""A fake HashiCorp Vault speaking its HTTP API: sys/health, KV v2 (metadata, data with check-and-set,
delete/undelete), sys/leases lookup/renew/revoke, the database engine's config, static roles and
rotations, token lookup-self, and Kubernetes and AppRole logins.

Answers use Vault's envelopes (`request_id`, `data`, `lease_id`, …), its status codes (204 for
revoke/rotate/delete, 400/403/404 with `{"errors": [...]}`, 404 with `{"errors": []}` for a missing
secret, 503 when sealed) and its error sentences, so hvac meets what it meets in production.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer, Handler
from tests.fakes.latency import Latency

# Paths answered without a token, as in Vault.
_UNAUTHENTICATED = ("/v1/sys/health", "/v1/auth/kubernetes/login", "/v1/auth/approle/login")


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class SecretVersion:
    data: dict[str, Any]
    created_time: str
    deletion_time: str = ""
    destroyed: bool = False

    def metadata(self, number: int) -> dict[str, Any]:
        return {
            "created_time": self.created_time,
            "custom_metadata": None,
            "deletion_time": self.deletion_time,
            "destroyed": self.destroyed,
            "version": number,
        }


@dataclass
class Secret:
    versions: dict[int, SecretVersion] = field(default_factory=dict)
    cas_required: bool = False
    custom_metadata: dict[str, str] | None = None

    @property
    def current_version(self) -> int:
        return max(self.versions, default=0)


@dataclass
class Lease:
    issue_time: datetime
    ttl: int
    renewable: bool = True
    max_ttl: int = 86_400
    last_renewal: datetime | None = None

    def remaining(self) -> int:
        anchor = self.last_renewal or self.issue_time
        return max(0, int((anchor + timedelta(seconds=self.ttl) - _now()).total_seconds()))


@dataclass
class Token:
    display_name: str
    policies: list[str]
    ttl: int = 3600
    renewable: bool = True


class FakeVault(FakeHttpServer):
    def __init__(self, *, root_token: str = "hvs.root-token-for-tests-0000") -> None:
        super().__init__()
        self.mounts: dict[str, dict[str, Secret]] = {"secret": {}}
        self.leases: dict[str, Lease] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.static_roles: dict[str, dict[str, Any]] = {}
        self.root_rotations: dict[str, int] = {}
        self.tokens: dict[str, Token] = {root_token: Token("token", ["root"], ttl=0, renewable=False)}
        self.kubernetes_roles: dict[str, str] = {}  # role → the service-account JWT it accepts
        self.approles: dict[str, str] = {}  # role_id → secret_id
        self.sealed = False
        self.standby = False
        self.latency = Latency()
        self.root_token = root_token

    # --- test set-up -------------------------------------------------------------------------------

    def put_secret(self, path: str, data: dict[str, Any], *, mount: str = "secret") -> int:
        secret = self.mounts.setdefault(mount, {}).setdefault(path, Secret())
        number = secret.current_version + 1
        secret.versions[number] = SecretVersion(dict(data), _stamp(_now()))
        return number

    def secret(self, path: str, *, mount: str = "secret") -> Secret:
        return self.mounts[mount][path]

    def add_lease(self, lease_id: str, *, ttl: int = 600, renewable: bool = True) -> None:
        self.leases[lease_id] = Lease(issue_time=_now(), ttl=ttl, renewable=renewable)

    def add_static_role(self, role: str, *, db_name: str, username: str) -> None:
        self.static_roles[role] = {
            "db_name": db_name,
            "username": username,
            "rotation_period": 86400,
            "rotation_statements": ["ALTER USER \"{{name}}\" WITH PASSWORD '{{password}}';"],
            "credential_type": "password",
            "last_vault_rotation": _stamp(_now() - timedelta(hours=3)),
        }

    def add_connection(self, name: str, *, plugin_name: str = "postgresql-database-plugin") -> None:
        self.connections[name] = {
            "plugin_name": plugin_name,
            "allowed_roles": ["*"],
            "connection_details": {
                "connection_url": "postgresql://{{username}}:{{password}}@db:5432/app",
                "username": "vault-admin",
            },
            "password_policy": "",
            "root_credentials_rotate_statements": [],
            "verify_connection": True,
        }
        self.root_rotations[name] = 0

    def revoke_all_tokens_but_root(self) -> None:
        """What an expired login token looks like from the client: the next request gets 403."""
        self.tokens = {t: v for t, v in self.tokens.items() if t == self.root_token}

    # --- server -----------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/v1/sys/health", self._health),
            ("PUT", "/v1/sys/leases/lookup", self._lease_lookup),
            ("PUT", "/v1/sys/leases/renew", self._lease_renew),
            ("PUT", "/v1/sys/leases/revoke", self._lease_revoke),
            ("GET", "/v1/auth/token/lookup-self", self._lookup_self),
            ("POST", "/v1/auth/kubernetes/login", self._kubernetes_login),
            ("POST", "/v1/auth/approle/login", self._approle_login),
            ("GET", "/v1/database/config/{name}", self._read_connection),
            ("GET", "/v1/database/static-roles/{name}", self._read_static_role),
            ("POST", "/v1/database/rotate-root/{name}", self._rotate_root),
            ("POST", "/v1/database/rotate-role/{name}", self._rotate_role),
            ("GET", "/v1/{mount}/metadata/{path:.+}", self._read_metadata),
            ("GET", "/v1/{mount}/data/{path:.+}", self._read_data),
            ("POST", "/v1/{mount}/data/{path:.+}", self._write_data),
            ("POST", "/v1/{mount}/delete/{path:.+}", self._delete_versions),
            ("POST", "/v1/{mount}/undelete/{path:.+}", self._undelete_versions),
        ]
        return [web.route(method, path, self.latency.wrap(handler)) for method, path, handler in table]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.path in _UNAUTHENTICATED:
            return None
        if request.headers.get("X-Vault-Token") not in self.tokens:
            return _errors(403, "permission denied")
        if self.sealed:
            return _errors(503, "Vault is sealed")
        return None

    async def _health(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = {
            "initialized": True,
            "sealed": self.sealed,
            "standby": self.standby,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(_now().timestamp()),
            "version": "1.17.2",
        }
        if not self.sealed:
            body |= {"cluster_name": "vault-cluster-carapulse", "cluster_id": "6a4bb1c7-3d1c"}
        status = 503 if self.sealed else 429 if self.standby else 200
        return _json(body, status=status)

    # --- KV v2 ------------------------------------------------------------------------------------

    async def _read_metadata(self, request: web.Request) -> web.StreamResponse:
        secret, missing = self._find(request)
        if secret is None:
            return missing
        versions = {str(n): v.metadata(n) for n, v in secret.versions.items()}
        for entry in versions.values():
            del entry["version"], entry["custom_metadata"]
        created = secret.versions[min(secret.versions)].created_time
        updated = secret.versions[secret.current_version].created_time
        return _envelope(
            {
                "cas_required": secret.cas_required,
                "created_time": created,
                "current_version": secret.current_version,
                "custom_metadata": secret.custom_metadata,
                "delete_version_after": "0s",
                "max_versions": 0,
                "oldest_version": 0,
                "updated_time": updated,
                "versions": versions,
            }
        )

    async def _read_data(self, request: web.Request) -> web.StreamResponse:
        secret, missing = self._find(request)
        if secret is None:
            return missing
        number = int(request.query.get("version") or secret.current_version)
        version = secret.versions.get(number)
        if version is None:
            return _errors(404)
        if version.deletion_time or version.destroyed:
            # Vault answers a deleted or destroyed version with 404 and its metadata, no data.
            return _envelope({"data": None, "metadata": version.metadata(number)}, status=404)
        return _envelope({"data": dict(version.data), "metadata": version.metadata(number)})

    async def _write_data(self, request: web.Request) -> web.StreamResponse:
        mount = self.mounts.get(request.match_info["mount"])
        if mount is None:
            return _no_route(request)
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return _errors(400, "no data provided")
        path = request.match_info["path"]
        secret = mount.get(path) or Secret()
        cas = (body.get("options") or {}).get("cas")
        if cas is None and secret.cas_required:
            return _errors(400, "check-and-set parameter required for this call")
        if cas is not None and cas != secret.current_version:
            return _errors(400, "check-and-set parameter did not match the current version")
        number = secret.current_version + 1
        secret.versions[number] = SecretVersion(body["data"], _stamp(_now()))
        mount[path] = secret
        return _envelope(secret.versions[number].metadata(number))

    async def _delete_versions(self, request: web.Request) -> web.StreamResponse:
        return await self._set_deleted(request, deleted=True)

    async def _undelete_versions(self, request: web.Request) -> web.StreamResponse:
        return await self._set_deleted(request, deleted=False)

    async def _set_deleted(self, request: web.Request, *, deleted: bool) -> web.StreamResponse:
        secret, missing = self._find(request)
        if secret is None:
            return missing
        body = await request.json()
        versions = body.get("versions") if isinstance(body, dict) else None
        if not versions:
            return _errors(400, "no version number provided")
        for number in versions:
            version = secret.versions.get(int(number))
            if version is not None and not version.destroyed:
                version.deletion_time = _stamp(_now()) if deleted else ""
        return web.Response(status=204)

    def _find(self, request: web.Request) -> tuple[Secret | None, web.StreamResponse]:
        mount = self.mounts.get(request.match_info["mount"])
        if mount is None:
            return None, _no_route(request)
        secret = mount.get(request.match_info["path"])
        return secret, _errors(404)

    # --- leases -----------------------------------------------------------------------------------

    async def _lease_lookup(self, request: web.Request) -> web.StreamResponse:
        lease_id = (await request.json()).get("lease_id", "")
        lease = self.leases.get(lease_id)
        if lease is None:
            return _errors(400, "invalid lease")
        expire = (lease.last_renewal or lease.issue_time) + timedelta(seconds=lease.ttl)
        return _envelope(
            {
                "id": lease_id,
                "issue_time": _stamp(lease.issue_time),
                "expire_time": _stamp(expire),
                "last_renewal": _stamp(lease.last_renewal) if lease.last_renewal else None,
                "renewable": lease.renewable,
                "ttl": lease.remaining(),
            }
        )

    async def _lease_renew(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        lease_id = body.get("lease_id", "")
        lease = self.leases.get(lease_id)
        if lease is None:
            return _errors(400, "lease not found")
        if not lease.renewable:
            return _errors(400, "lease is not renewable")
        lease.last_renewal = _now()
        lease.ttl = min(int(body.get("increment") or 3600), lease.max_ttl)
        return _json(
            {
                "request_id": str(uuid.uuid4()),
                "lease_id": lease_id,
                "renewable": True,
                "lease_duration": lease.ttl,
                "data": None,
                "wrap_info": None,
                "warnings": None,
                "auth": None,
            }
        )

    async def _lease_revoke(self, request: web.Request) -> web.StreamResponse:
        # Vault revokes an unknown lease id without complaint.
        self.leases.pop((await request.json()).get("lease_id", ""), None)
        return web.Response(status=204)

    # --- database engine ---------------------------------------------------------------------------

    async def _read_connection(self, request: web.Request) -> web.StreamResponse:
        connection = self.connections.get(request.match_info["name"])
        return _errors(404) if connection is None else _envelope(connection)

    async def _read_static_role(self, request: web.Request) -> web.StreamResponse:
        role = self.static_roles.get(request.match_info["name"])
        return _errors(404) if role is None else _envelope(role)

    async def _rotate_root(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.connections:
            return _errors(400, f'failed to get config: "{name}" not found')
        self.root_rotations[name] += 1
        return web.Response(status=204)

    async def _rotate_role(self, request: web.Request) -> web.StreamResponse:
        role = self.static_roles.get(request.match_info["name"])
        if role is None:
            return _errors(400, "no static role found for role name")
        role["last_vault_rotation"] = _stamp(_now())
        return web.Response(status=204)

    # --- auth -------------------------------------------------------------------------------------

    async def _lookup_self(self, request: web.Request) -> web.StreamResponse:
        token_id = request.headers["X-Vault-Token"]
        token = self.tokens[token_id]
        return _envelope(
            {
                "accessor": "8609694a-cdbc-db9b-d345-e782dbb562ed",
                "creation_time": 1523979354,
                "creation_ttl": token.ttl,
                "display_name": token.display_name,
                "entity_id": "",
                "expire_time": _stamp(_now() + timedelta(seconds=token.ttl)) if token.ttl else None,
                "explicit_max_ttl": 0,
                "id": token_id,
                "identity_policies": [],
                "meta": None,
                "num_uses": 0,
                "orphan": True,
                "path": "auth/token/create",
                "policies": token.policies,
                "renewable": token.renewable,
                "ttl": token.ttl,
                "type": "service",
            }
        )

    async def _kubernetes_login(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        role = body.get("role", "")
        if role not in self.kubernetes_roles:
            return _errors(400, f'invalid role name "{role}"')
        if body.get("jwt") != self.kubernetes_roles[role]:
            return _errors(403, "permission denied")
        return self._issue(f"kubernetes-{role}", ["default", role])

    async def _approle_login(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if self.approles.get(body.get("role_id", "")) != body.get("secret_id"):
            return _errors(400, "invalid role or secret ID")
        return self._issue("approle", ["default", "carapulse"])

    def _issue(self, display_name: str, policies: list[str]) -> web.StreamResponse:
        token_id = f"hvs.{uuid.uuid4().hex}"
        self.tokens[token_id] = Token(display_name, policies)
        auth = {
            "client_token": token_id,
            "accessor": str(uuid.uuid4()),
            "policies": policies,
            "token_policies": policies,
            "metadata": {"role": display_name},
            "lease_duration": 3600,
            "renewable": True,
        }
        return _json({"request_id": str(uuid.uuid4()), "data": None, "auth": auth})


def _json(body: Any, *, status: int = 200) -> web.StreamResponse:
    # Vault's exact Content-Type: hvac reads the `errors` list only when it is "application/json".
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _envelope(data: dict[str, Any], *, status: int = 200) -> web.StreamResponse:
    return _json(
        {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": None,
            "warnings": None,
            "auth": None,
        },
        status=status,
    )


def _errors(status: int, *messages: str) -> web.StreamResponse:
    return _json({"errors": list(messages)}, status=status)


def _no_route(request: web.Request) -> web.StreamResponse:
    route = request.path.removeprefix("/v1/")
    return _errors(404, f'no handler for route "{route}". route entry not found.')
