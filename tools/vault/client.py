"""HashiCorp Vault through hvac: the one place that logs in, runs the blocking client in a worker thread,
retries what is safe to repeat, and turns hvac's exceptions and odd answers into ToolErrors a person can
act on. The action modules (`status`, `kv`, `credentials`) only say which call to make.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TypeVar

import hvac
import requests
from hvac import exceptions as vault_errors

from tools.common.base import ToolError
from tools.common.retries import RetryPolicy
from tools.vault.auth import VaultAuth

T = TypeVar("T")
VaultCall = Callable[[hvac.Client], T]


class VaultClient:
    """One hvac client shared by every action; `close()` it when the service stops.

    The first authenticated call logs in (so the toolset can be built before Vault is reachable);
    later calls reuse the token until Vault refuses it.
    """

    def __init__(
        self,
        address: str,
        auth: VaultAuth,
        *,
        namespace: str | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        # token="" and explicit verify keep hvac from reading VAULT_TOKEN, ~/.vault-token or
        # VAULT_CACERT from the process environment: settings come only from the toolset's mapping.
        self._client = hvac.Client(url=address, token="", verify=verify, timeout=timeout, namespace=namespace)
        self._auth = auth
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._login_lock = asyncio.Lock()
        # Bumped on every login, so concurrent calls refused with the same stale token log in once.
        self._generation = 0

    @property
    def address(self) -> str:
        return str(self._client.url)

    @property
    def auth(self) -> VaultAuth:
        return self._auth

    def close(self) -> None:
        self._client.adapter.close()

    async def call(
        self,
        call: str,
        target: str,
        fn: VaultCall[T],
        *,
        repeatable: bool = True,
        authenticated: bool = True,
    ) -> T:
        """Run one blocking hvac call in a thread; `call` is "METHOD /v1/path" for the ToolError and
        `target` names what it acts on ("secret secret/app").

        Transient failures (connection errors, timeouts, 429, 5xx) are retried with jittered backoff
        only when the call is safe to repeat.
        """
        try:
            if not authenticated:
                return await self._attempt(fn, repeatable=repeatable)
            generation = await self._ensure_login()
            try:
                return await self._attempt(fn, repeatable=repeatable)
            except vault_errors.Forbidden:
                if not self._auth.relogin:
                    raise
                await self._login(replacing=generation)
                return await self._attempt(fn, repeatable=repeatable)
        except vault_errors.VaultError as error:
            raise vault_tool_error(error, call=call, target=target) from None
        except requests.Timeout:
            raise ToolError(f"vault: {call} timed out after {self._timeout:g}s", call=call) from None
        except requests.RequestException as error:
            raise ToolError(f"vault: cannot reach {self.address}: {error}", call=call) from None

    async def _attempt(self, fn: VaultCall[T], *, repeatable: bool) -> T:
        retrying = self._retry.retrying(_is_transient, repeatable=repeatable)
        return await retrying(asyncio.to_thread, fn, self._client)

    async def _ensure_login(self) -> int:
        if self._generation == 0:
            await self._login(replacing=0)
        return self._generation

    async def _login(self, *, replacing: int) -> None:
        """Log in unless another call already replaced the token generation `replacing` refers to."""
        async with self._login_lock:
            if self._generation != replacing:
                return
            call = self._auth.login_call
            try:
                await asyncio.to_thread(self._auth.login, self._client)
            except vault_errors.VaultError as error:
                status = _status(error)
                message = f"vault: {self._auth.describe()} login failed: {_reason(error) or f'HTTP {status}'}"
                raise ToolError(message, call=call, status=status) from None
            except requests.RequestException as error:
                raise ToolError(f"vault: cannot reach {self.address}: {error}", call=call) from None
            except (KeyError, TypeError, ValueError):
                raise ToolError(f"vault: {call} answered without a client token", call=call) from None
            self._generation += 1


def vault_tool_error(error: vault_errors.VaultError, *, call: str, target: str) -> ToolError:
    status = _status(error)
    reason = _reason(error)
    verb = _VERBS.get(call.split(" ", 1)[0], "call")
    if status == 404:
        message = f"{target} not found in vault" + (f" ({reason})" if reason else "")
    elif status == 403:
        message = (
            f"vault denied {verb} of {target}: {reason or 'permission denied'} (check the token's policies)"
        )
    elif status == 400:
        message = f"vault rejected {verb} of {target}: {reason or 'bad request'}"
    elif status == 429:
        message = f"vault is rate limiting requests; {verb} of {target} did not happen: {reason}"
    elif status == 503:
        reason = reason or "sealed or in maintenance"
        message = f"vault is unavailable ({reason}); {verb} of {target} did not happen"
    else:
        message = f"vault failed {verb} of {target}: HTTP {status} {reason}".rstrip()
    return ToolError(message, call=call, status=status)


_VERBS = {"GET": "read", "LIST": "list", "HEAD": "read", "POST": "write", "PUT": "write", "DELETE": "delete"}

_STATUSES: dict[type[vault_errors.VaultError], int] = {
    vault_errors.InvalidRequest: 400,
    vault_errors.Unauthorized: 401,
    vault_errors.Forbidden: 403,
    vault_errors.InvalidPath: 404,
    vault_errors.RateLimitExceeded: 429,
    vault_errors.InternalServerError: 500,
    vault_errors.VaultNotInitialized: 501,
    vault_errors.BadGateway: 502,
    vault_errors.VaultDown: 503,
}

_TRANSIENT = (
    vault_errors.RateLimitExceeded,
    vault_errors.InternalServerError,
    vault_errors.BadGateway,
    vault_errors.VaultDown,
    requests.ConnectionError,
    requests.Timeout,
)


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, _TRANSIENT)


def _status(error: vault_errors.VaultError) -> int | None:
    return _STATUSES.get(type(error))


def _reason(error: vault_errors.VaultError) -> str:
    """Vault's own sentence: the `errors` list of its JSON error body, else the first line of the text.
    hvac decodes the body only when Content-Type is exactly "application/json", so a proxy's
    "application/json; charset=utf-8" is decoded here."""
    errors = error.errors
    if errors is None and error.json is None and error.text:
        try:
            errors = json.loads(error.text).get("errors")
        except (ValueError, AttributeError):
            return error.text.strip().splitlines()[0][:200]
    return "; ".join(str(e) for e in errors or [])
