"""Vault status reads: the server's health and the bot's own token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from tools.common.base import Action, ActionArgs, ActionResult, Effect, ToolError
from tools.vault.answers import Answer, duration, parse_answer

if TYPE_CHECKING:
    import hvac

    from tools.vault.client import VaultClient

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


class _Health(Answer):
    initialized: bool
    sealed: bool
    standby: bool = False
    version: str = ""
    cluster_name: str = ""


class _Token(Answer):
    display_name: str
    policies: list[str]
    identity_policies: list[str] = Field(default_factory=list)
    ttl: int
    expire_time: str | None = None
    renewable: bool = False
    orphan: bool = False
    type: str = "service"


class _TokenAnswer(Answer):
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


def status_actions(vault: VaultClient) -> list[Action[Any]]:
    return [GetHealth(vault), GetTokenInfo(vault)]


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
