"""The Boundary tool: its settings and the `carapulse.tools` entry point. The actions are in `actions`,
the API client and its logins in `client`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SecretStr, StringConstraints

from tools.boundary.actions import (
    AuthMethodId,
    AuthorizeSession,
    CancelSession,
    ListSessions,
    ListTargets,
    ScopeId,
)
from tools.boundary.client import BoundaryClient, PasswordLogin
from tools.common.base import Action, ToolError
from tools.common.toolset import Toolset, ToolSettings, read_settings


def actions(client: BoundaryClient, *, default_scope: str = "global") -> list[Action[Any]]:
    return [
        ListTargets(client, default_scope=default_scope),
        ListSessions(client, default_scope=default_scope),
        AuthorizeSession(client, default_scope=default_scope),
        CancelSession(client, default_scope=default_scope),
    ]


class BoundarySettings(ToolSettings):
    """The variables the boundary CLI reads; a token, or an auth method with login name and password."""

    addr: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/\S*)?$")] = Field(
        alias="BOUNDARY_ADDR"
    )
    token: SecretStr | None = Field(default=None, alias="BOUNDARY_TOKEN")
    auth_method_id: AuthMethodId | None = Field(default=None, alias="BOUNDARY_AUTH_METHOD_ID")
    login_name: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None, alias="BOUNDARY_LOGIN_NAME"
    )
    password: SecretStr | None = Field(default=None, alias="BOUNDARY_PASSWORD")
    scope_id: ScopeId = Field(default="global", alias="BOUNDARY_SCOPE_ID")
    tls_insecure: bool = Field(default=False, alias="BOUNDARY_TLS_INSECURE")

    def login(self) -> PasswordLogin | None:
        """The password login, None when a token is set; a ToolError naming what is missing."""
        if self.token is not None:
            return None
        if self.auth_method_id and self.login_name and self.password:
            return PasswordLogin(self.auth_method_id, self.login_name, self.password)
        given = {
            "BOUNDARY_AUTH_METHOD_ID": self.auth_method_id,
            "BOUNDARY_LOGIN_NAME": self.login_name,
            "BOUNDARY_PASSWORD": self.password,
        }
        missing = ", ".join(name for name, value in given.items() if not value)
        raise ToolError(f"boundary: set BOUNDARY_TOKEN, or {missing} to log in", call="configuration")


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point. The login happens on the first call, not at start-up."""
    settings = read_settings("boundary", BoundarySettings, environ, required="BOUNDARY_ADDR")
    login = settings.login()
    client = BoundaryClient.connect(
        settings.addr, login=login, token=settings.token, insecure=settings.tls_insecure
    )
    auth = f"login {login.login_name} via {login.auth_method_id}" if login else "token"
    return Toolset(
        name="boundary",
        actions=actions(client, default_scope=settings.scope_id),
        status=f"enabled, controller {settings.addr} ({auth})",
        closers=[client.close],
    )
