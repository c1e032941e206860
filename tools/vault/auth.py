"""How the bot obtains its Vault token: a token given in the settings, or a Kubernetes or AppRole
login. Each method acts on the hvac client it is handed, so reading the settings needs no hvac."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from tools.common.base import ToolError

if TYPE_CHECKING:
    import hvac


class VaultAuth(Protocol):
    """How the bot obtains its Vault token. Auth that logs in (`relogin`) may log in again when Vault
    refuses the token it issued: an expired login token is answered with 403 like any other."""

    relogin: ClassVar[bool]

    @property
    def login_call(self) -> str: ...

    def login(self, client: hvac.Client) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class TokenAuth:
    token: str = field(repr=False)
    relogin: ClassVar[bool] = False
    login_call: ClassVar[str] = "VAULT_TOKEN"

    def login(self, client: hvac.Client) -> None:
        client.token = self.token

    def describe(self) -> str:
        return "token"


@dataclass(frozen=True)
class KubernetesAuth:
    role: str
    jwt_path: Path
    mount: str = "kubernetes"
    relogin: ClassVar[bool] = True

    @property
    def login_call(self) -> str:
        return f"POST /v1/auth/{self.mount}/login"

    def login(self, client: hvac.Client) -> None:
        # Read on every login: the kubelet rotates projected service-account tokens.
        try:
            jwt = self.jwt_path.read_text().strip()
        except OSError as error:
            message = f"vault: cannot read the service-account token {self.jwt_path}: {error.strerror}"
            raise ToolError(message, call=self.login_call) from None
        client.auth.kubernetes.login(role=self.role, jwt=jwt, mount_point=self.mount)

    def describe(self) -> str:
        return f"kubernetes role {self.role}"


@dataclass(frozen=True)
class AppRoleAuth:
    role_id: str = field(repr=False)
    secret_id: str = field(repr=False)
    mount: str = "approle"
    relogin: ClassVar[bool] = True

    @property
    def login_call(self) -> str:
        return f"POST /v1/auth/{self.mount}/login"

    def login(self, client: hvac.Client) -> None:
        client.auth.approle.login(role_id=self.role_id, secret_id=self.secret_id, mount_point=self.mount)

    def describe(self) -> str:
        return "approle"
