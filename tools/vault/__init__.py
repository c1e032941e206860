"""HashiCorp Vault: the `carapulse.tools` entry point, its settings, and the two status reads (server
health and the bot's own token). KV v2 secrets live in `vault_kv`, leases and database credentials in
`vault_credentials`, and the client they share in `vault_client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import hvac
from pydantic import BaseModel, Field, SecretStr, StringConstraints

from tools.base import Action, ActionArgs, ActionResult, Effect, ToolError
from tools.toolset import Toolset, ToolSettings, read_settings
from tools.vault_client import (
    AppRoleAuth,
    KubernetesAuth,
    TokenAuth,
    VaultAuth,
    VaultClient,
    duration,
    parse_answer,
)
from tools.vault_credentials import credentials_actions
from tools.vault_kv import kv_actions

DEFAULT_JWT_PATH = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

# sys/health answers with its status code: what each one means, per Vault's API docs.
HEALTH_STATES = {
    200: "active",
    429: "standby",
    472: "disaster-recovery secondary",
    473: "performance standby",
    501: "not initialized",
    503: "sealed",
}


class NoArgs(ActionArgs):
    pass


class _Health(BaseModel):
    initialized: bool
    sealed: bool
    standby: bool = False
    version: str = ""
    cluster_name: str = ""


class _Token(BaseModel):
    display_name: str
    policies: list[str]
    identity_policies: list[str] = []
    ttl: int
    expire_time: str | None = None
    renewable: bool = False
    orphan: bool = False
    type: str = "service"


class _TokenAnswer(BaseModel):
    data: _Token


class _VaultAction(Action[NoArgs]):
    args_model = NoArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    def __init__(self, vault: VaultClient) -> None:
        self.vault = vault


class GetHealth(_VaultAction):
    name = "vault.get_health"
    description = "Show whether Vault is initialized, sealed, active or standby, and its version."

    async def run(self, args: NoArgs) -> ActionResult:
        call = "GET /v1/sys/health"
        status, body = await self.vault.call(call, "health", _read_health, authenticated=False)
        state = HEALTH_STATES.get(status)
        if state is None:
            raise ToolError(f"vault failed read of health: HTTP {status}", call=call, status=status)
        health = parse_answer(_Health, body, call)
        version = f" {health.version}" if health.version else ""
        return ActionResult(
            summary=f"vault{version} at {self.vault.address}: {state}",
            data=health.model_dump() | {"state": state, "status_code": status},
        )


class GetTokenInfo(_VaultAction):
    """The bot's own token, looked up by itself: its policies and how long it lives. The token's id
    and accessor are left out; either would let a reader act as the bot."""

    name = "vault.get_token_info"
    description = "Show the policies and remaining lifetime of Carapulse's own Vault token."

    async def run(self, args: NoArgs) -> ActionResult:
        call = "GET /v1/auth/token/lookup-self"
        answer = await self.vault.call(call, "its own token", lambda c: c.auth.token.lookup_self())
        token = parse_answer(_TokenAnswer, answer, call).data
        lifetime = f"expires in {duration(token.ttl)}" if token.ttl else "never expires"
        policies = ", ".join(token.policies + token.identity_policies) or "none"
        return ActionResult(
            summary=f"vault token {token.display_name}: policies {policies}; {lifetime}",
            data=token.model_dump(),
        )


def actions(vault: VaultClient) -> list[Action[Any]]:
    return [GetHealth(vault), GetTokenInfo(vault), *kv_actions(vault), *credentials_actions(vault)]


AuthMount = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")]


class VaultSettings(ToolSettings):
    """The variables the vault CLI reads, plus one login method: a token, Kubernetes, or AppRole."""

    address: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+")] = Field(alias="VAULT_ADDR")
    token: SecretStr | None = Field(default=None, alias="VAULT_TOKEN")
    namespace: str | None = Field(default=None, alias="VAULT_NAMESPACE")
    ca_cert: Path | None = Field(default=None, alias="VAULT_CACERT")
    skip_verify: bool = Field(default=False, alias="VAULT_SKIP_VERIFY")
    timeout: float = Field(default=30.0, gt=0, le=300, alias="VAULT_CLIENT_TIMEOUT")
    k8s_role: str | None = Field(default=None, alias="VAULT_K8S_ROLE")
    k8s_jwt_path: Path = Field(default=DEFAULT_JWT_PATH, alias="VAULT_K8S_JWT_PATH")
    k8s_mount: AuthMount = Field(default="kubernetes", alias="VAULT_K8S_MOUNT")
    role_id: SecretStr | None = Field(default=None, alias="VAULT_ROLE_ID")
    secret_id: SecretStr | None = Field(default=None, alias="VAULT_SECRET_ID")
    approle_mount: AuthMount = Field(default="approle", alias="VAULT_APPROLE_MOUNT")

    def auth(self) -> VaultAuth:
        chosen = [name for name, on in self._methods().items() if on]
        if len(chosen) > 1:
            raise _config_error(f"set only one way to log in, not {' and '.join(chosen)}")
        if self.token is not None:
            return TokenAuth(self.token.get_secret_value())
        if self.k8s_role:
            if not self.k8s_jwt_path.is_file():
                raise _config_error(f"VAULT_K8S_JWT_PATH: file {self.k8s_jwt_path} does not exist")
            return KubernetesAuth(self.k8s_role, self.k8s_jwt_path, self.k8s_mount)
        if self.role_id is not None:
            if self.secret_id is None:
                raise _config_error("VAULT_ROLE_ID is set but VAULT_SECRET_ID is not")
            return AppRoleAuth(
                self.role_id.get_secret_value(), self.secret_id.get_secret_value(), self.approle_mount
            )
        raise _config_error(
            "VAULT_ADDR is set but there is no way to log in: set VAULT_TOKEN, or VAULT_K8S_ROLE, "
            "or VAULT_ROLE_ID and VAULT_SECRET_ID"
        )

    def verify(self) -> bool | str:
        if self.ca_cert is not None:
            if not self.ca_cert.is_file():
                raise _config_error(f"VAULT_CACERT: file {self.ca_cert} does not exist")
            return str(self.ca_cert)
        return not self.skip_verify

    def _methods(self) -> dict[str, bool]:
        return {
            "VAULT_TOKEN": self.token is not None,
            "VAULT_K8S_ROLE": bool(self.k8s_role),
            "VAULT_ROLE_ID": self.role_id is not None,
        }


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: every action shares one client, closed with the toolset.
    Nothing is sent to Vault here; the first action logs in."""
    settings = read_settings("vault", VaultSettings, environ, required="VAULT_ADDR")
    auth = settings.auth()
    vault = VaultClient(
        settings.address,
        auth,
        namespace=settings.namespace,
        verify=settings.verify(),
        timeout=settings.timeout,
    )
    return Toolset(
        name="vault",
        actions=actions(vault),
        status=f"enabled, {vault.address} ({auth.describe()})",
        closers=[vault.close],
    )


def _read_health(client: hvac.Client) -> tuple[int, Any]:
    """sys/health reports standby, sealed and the rest through its status code, so hvac hands back the
    decoded JSON for 200 and the raw response for the others; both become (status, body)."""
    answer = client.sys.read_health_status(method="GET")
    if isinstance(answer, dict):
        return 200, answer
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


def _config_error(message: str) -> ToolError:
    return ToolError(f"vault: {message}", call="configuration")
