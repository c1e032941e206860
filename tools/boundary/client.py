"""The Boundary controller API calls Carapulse makes, with the auth token kept in memory.

With a login (auth method, login name, password) the client authenticates on first use and again
when the controller answers 401 (the token expired or was revoked), then repeats the call once. With a
fixed BOUNDARY_TOKEN a 401 is final. Neither the token nor the password ever reaches a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from tools.common.base import ToolError
from tools.common.http import HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy

JSON = dict[str, Any]
# Client-side cap on list pages, so a controller that never says "complete" cannot loop us forever.
MAX_PAGES = 100


@dataclass(frozen=True)
class PasswordLogin:
    auth_method_id: str
    login_name: str
    password: SecretStr


class BoundaryClient:
    """One JSON client shared by every action; `close()` it on shutdown."""

    def __init__(self, http: JsonHttpClient, *, login: PasswordLogin | None, token: SecretStr | None) -> None:
        if (login is None) == (token is None):
            raise ValueError("give either a password login or a token")
        self.http = http
        self._login = login
        self._token = token.get_secret_value() if token is not None else None
        self._token_lock = asyncio.Lock()

    @classmethod
    def connect(
        cls,
        addr: str,
        *,
        login: PasswordLogin | None = None,
        token: SecretStr | None = None,
        insecure: bool = False,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> BoundaryClient:
        http = JsonHttpClient(
            tool="boundary",
            base_url=addr,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            error_message=_error_message,
            verify_tls=not insecure,
        )
        return cls(http, login=login, token=token)

    @property
    def addr(self) -> str:
        return self.http.base_url

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> JSON:
        return await self.call("GET", path, what=what, params=params)

    async def list(self, path: str, *, what: str, params: Mapping[str, Any]) -> list[JSON]:
        """Every item of a list, following Boundary's list tokens until the answer is "complete"
        (controllers before 0.15 do not paginate and send no response_type)."""
        page = await self.get(path, what=what, params=params)
        items = list(page.get("items") or [])
        for _ in range(MAX_PAGES):
            if page.get("response_type") in (None, "", "complete"):
                return items
            page = await self.get(path, what=what, params={**params, "list_token": page["list_token"]})
            items.extend(page.get("items") or [])
        raise ToolError(f"boundary: {what} did not finish within {MAX_PAGES} pages", call=f"GET {path}")

    async def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        repeatable: bool | None = None,
    ) -> JSON:
        """One authenticated call; `what` names the resource for messages ("session s_1234567890")."""
        token = await self._current_token()
        try:
            return await self._send(method, path, token, what, params, json_body, repeatable)
        except HttpStatusError as error:
            if error.status != 401 or self._login is None:
                raise
        token = await self._fresh_token(stale=token)
        return await self._send(method, path, token, what, params, json_body, repeatable)

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        what: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        repeatable: bool | None,
    ) -> JSON:
        try:
            response = await self.http.request(
                method,
                path,
                params=params,
                json_body=json_body,
                headers={"Authorization": f"Bearer {token}"},
                repeatable=repeatable,
            )
        except HttpStatusError as error:
            raise _readable(error, what=what, login=self._login) from None
        return dict(response.body or {})

    async def _current_token(self) -> str:
        if self._token is not None:
            return self._token
        return await self._fresh_token(stale=None)

    async def _fresh_token(self, *, stale: str | None) -> str:
        """Log in again unless another call already replaced the `stale` token meanwhile."""
        async with self._token_lock:
            if self._token is None or self._token == stale:
                self._token = await self._authenticate()
            return self._token

    async def _authenticate(self) -> str:
        login = self._login
        if login is None:
            raise ToolError("boundary: BOUNDARY_TOKEN was refused (expired or revoked)", call="authenticate")
        path = f"/v1/auth-methods/{login.auth_method_id}:authenticate"
        body = {
            "command": "login",
            "attributes": {"login_name": login.login_name, "password": login.password.get_secret_value()},
        }
        try:
            response = await self.http.request("POST", path, json_body=body, repeatable=True)
        except HttpStatusError as error:
            detail = _error_message(error.body) or f"HTTP {error.status}"
            who = f"{login.login_name} with auth method {login.auth_method_id}"
            message = f"boundary: login as {who} failed: {detail}"
            raise ToolError(message, call=f"POST {path}", status=error.status) from None
        token = ((response.body or {}).get("attributes") or {}).get("token")
        if not isinstance(token, str) or not token:
            raise ToolError("boundary: the login answer carried no token", call=f"POST {path}")
        return token


def _readable(error: HttpStatusError, *, what: str, login: PasswordLogin | None) -> HttpStatusError:
    """Name the resource for the statuses a person acts on; keep the API's own sentence otherwise."""
    detail = _error_message(error.body) or error.message
    if error.status == 404:
        message = f"boundary: {what} not found"
    elif error.status == 403:
        message = f"boundary: permission denied on {what}: {detail}"
    elif error.status == 401:
        who = f"login {login.login_name}" if login else "BOUNDARY_TOKEN"
        message = f"boundary: not authenticated ({who} refused): {detail}"
    else:
        message = error.message
    return HttpStatusError(
        message, call=error.call, status=error.status or 0, body=error.body, retry_after=error.retry_after
    )


def _error_message(body: Any) -> str | None:
    """Boundary's error document: {"kind", "message", "details": {"request_fields": [{name, ...}]}}."""
    if not isinstance(body, dict) or not (body.get("kind") or body.get("message")):
        return None
    text = f"{body.get('kind', 'Error')}: {body.get('message') or 'no message'}"
    fields = (body.get("details") or {}).get("request_fields") or []
    if fields:
        text += " (" + "; ".join(f"{f.get('name')}: {f.get('description')}" for f in fields) + ")"
    return text
