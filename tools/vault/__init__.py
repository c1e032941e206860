"""HashiCorp Vault: the `carapulse.tools` entry point and its settings.

The actions live in submodules: `status` (server health, the bot's own token), `kv` (KV v2 secrets),
`credentials` (leases, database rotations); `client` is the hvac client they share, imported only once
Vault is configured; `auth` holds the login methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, SecretStr, StringConstraints

from tools.common.base import Action, ToolError
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.vault.auth import AppRoleAuth, KubernetesAuth, TokenAuth, VaultAuth
from tools.vault.credentials import credentials_actions
from tools.vault.kv import kv_actions
from tools.vault.status import status_actions

if TYPE_CHECKING:
    from tools.vault.client import VaultClient

DEFAULT_JWT_PATH = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def actions(vault: VaultClient) -> list[Action[Any]]:
    return [*status_actions(vault), *kv_actions(vault), *credentials_actions(vault)]


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
    # hvac takes a fifth of a second to import: only a configured tool loads it.
    from tools.vault.client import VaultClient

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


def _config_error(message: str) -> ToolError:
    return ToolError(f"vault: {message}", call="configuration")
