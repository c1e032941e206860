"""A fake Boundary controller speaking the real HTTP API: password login, targets, session
authorization and cancellation, list pagination with list tokens, and Boundary's error documents
({"kind", "message"} with 401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 400 InvalidArgument).

Single resources come back at the top level (the gateway's `response_body: "item"`), lists as
{"items": [...], "response_type", "list_token", ...}, as the real controller answers.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.http_server import FakeHttpServer

_ID_ALPHABET = string.ascii_letters + string.digits
_SESSION_ACTIONS = ["no-op", "read", "read:self", "cancel", "cancel:self"]
_TARGET_ACTIONS = ["no-op", "read", "update", "delete", "authorize-session"]
_NOT_RECURSIVE = "This field must be a valid project scope ID or the list operation must be recursive."


def new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ID_ALPHABET) for _ in range(10))}"


@dataclass
class Account:
    login_name: str
    password: str
    user_id: str = field(default_factory=lambda: new_id("u"))


@dataclass
class Scope:
    id: str
    name: str
    type: str
    parent_scope_id: str

    def info(self) -> dict[str, str]:
        return {"id": self.id, "type": self.type, "name": self.name, "parent_scope_id": self.parent_scope_id}


class FakeBoundary(FakeHttpServer):
    def __init__(self, *, page_size: int = 1000) -> None:
        super().__init__()
        self.page_size = page_size
        self.auth_method_id = new_id("ampw")
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, str] = {}  # token → user id
        self.scopes: dict[str, Scope] = {"global": Scope("global", "Global", "global", "")}
        self.targets: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.denied: set[tuple[str, str]] = set()  # (action, resource id) the user may not do

    # -- arranging state -------------------------------------------------------------------------

    def add_account(self, login_name: str, password: str) -> Account:
        account = self.accounts[login_name] = Account(login_name, password)
        return account

    def issue_token(self, login_name: str) -> str:
        token_id = new_id("at")
        token = f"{token_id}_{secrets.token_urlsafe(24)}"
        self.tokens[token] = self.accounts[login_name].user_id
        return token

    def revoke_tokens(self) -> None:
        """Every token stops working, as when they expire."""
        self.tokens.clear()

    def add_project(self, name: str) -> str:
        org = new_id("o")
        project = new_id("p")
        self.scopes[org] = Scope(org, f"{name}-org", "org", "global")
        self.scopes[project] = Scope(project, name, "project", org)
        return project

    def add_target(self, project: str, name: str, *, address: str = "10.0.0.5", port: int = 22) -> str:
        target_id = new_id("ttcp")
        self.targets[target_id] = {
            "id": target_id,
            "scope_id": project,
            "scope": self.scopes[project].info(),
            "name": name,
            "description": f"{name} hosts",
            "created_time": _now(),
            "updated_time": _now(),
            "version": 1,
            "type": "tcp",
            "session_max_seconds": 28800,
            "session_connection_limit": -1,
            "attributes": {"default_port": port},
            "address": address,
            "authorized_actions": list(_TARGET_ACTIONS),
        }
        return target_id

    def add_session(self, target_id: str, login_name: str, *, status: str = "active") -> str:
        session = self._new_session(self.targets[target_id], self.accounts[login_name].user_id)
        session["status"] = status
        session["states"].insert(0, {"status": status, "start_time": _now()})
        return str(session["id"])

    # -- the API ---------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/auth-methods/{id:[^/:]+}:authenticate", self._authenticate),
            web.get("/v1/targets", self._list_targets),
            web.get("/v1/targets/{id:[^/:]+}", self._read_target),
            web.post("/v1/targets/{id:[^/:]+}:authorize-session", self._authorize_session),
            web.get("/v1/sessions", self._list_sessions),
            web.get("/v1/sessions/{id:[^/:]+}", self._read_session),
            web.post("/v1/sessions/{id:[^/:]+}:cancel", self._cancel_session),
        ]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.path.endswith(":authenticate"):
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header.removeprefix("Bearer ") not in self.tokens:
            return _error(401, "Unauthenticated", "Unauthenticated, or invalid token.")
        return None

    async def _authenticate(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["id"] != self.auth_method_id:
            return _error(404, "NotFound", "Resource not found.")
        body = await request.json()
        attributes = body.get("attributes") or {}
        account = self.accounts.get(attributes.get("login_name", ""))
        if account is None or account.password != attributes.get("password"):
            return _error(401, "Unauthenticated", "Unable to authenticate.")
        token = self.issue_token(account.login_name)
        return web.json_response(
            {
                "command": body.get("command", "login"),
                "attributes": {
                    "id": token.split("_", 2)[0] + "_" + token.split("_", 2)[1],
                    "scope_id": "global",
                    "token": token,
                    "user_id": account.user_id,
                    "auth_method_id": self.auth_method_id,
                    "account_id": new_id("acctpw"),
                    "created_time": _now(),
                    "updated_time": _now(),
                    "approximate_last_used_time": _now(),
                    "expiration_time": _now(timedelta(days=7)),
                },
            }
        )

    async def _list_targets(self, request: web.Request) -> web.StreamResponse:
        return self._list(request, self.targets.values(), include=lambda item: True)

    async def _list_sessions(self, request: web.Request) -> web.StreamResponse:
        include_terminated = request.query.get("include_terminated") == "true"
        return self._list(
            request,
            self.sessions.values(),
            include=lambda item: include_terminated or item["status"] != "terminated",
        )

    async def _read_target(self, request: web.Request) -> web.StreamResponse:
        target = self.targets.get(request.match_info["id"])
        if target is None:
            return _error(404, "NotFound", "Resource not found.")
        return web.json_response(target)

    async def _authorize_session(self, request: web.Request) -> web.StreamResponse:
        target = self.targets.get(request.match_info["id"])
        if target is None:
            return _error(404, "NotFound", "Resource not found.")
        if ("authorize-session", target["id"]) in self.denied:
            return _error(403, "PermissionDenied", "Forbidden.")
        user_id = self.tokens[request.headers["Authorization"].removeprefix("Bearer ")]
        session = self._new_session(target, user_id)
        return web.json_response(
            {
                "session_id": session["id"],
                "target_id": target["id"],
                "scope": target["scope"],
                "created_time": session["created_time"],
                "user_id": user_id,
                "host_set_id": "",
                "host_id": "",
                "type": "tcp",
                "authorization_token": secrets.token_urlsafe(96),
                "endpoint": f"tcp://{target['address']}:{target['attributes']['default_port']}",
                "credentials": [
                    {
                        "credential_source": {"id": new_id("clvlt"), "type": "vault-generic"},
                        "secret": {
                            "raw": "eyJwYXNzd29yZCI6Imh1bnRlcjIifQ==",
                            "decoded": {"password": "hunter2"},
                        },
                        "credential": {"username": "app", "password": "hunter2"},
                    }
                ],
            }
        )

    async def _read_session(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _error(404, "NotFound", f"Session {request.match_info['id']!r} doesn't exist.")
        return web.json_response(session)

    async def _cancel_session(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _error(404, "NotFound", "Resource not found.")
        if ("cancel", session["id"]) in self.denied:
            return _error(403, "PermissionDenied", "Forbidden.")
        version = (await request.json()).get("version")
        if not version:
            return _error(
                400,
                "InvalidArgument",
                "Improperly formatted identifier.",
                fields={"version": "Required field."},
            )
        if session["status"] in ("canceling", "terminated"):
            return web.json_response(session)
        if version != session["version"]:
            return _error(400, "FailedPrecondition", "Unable to update session: version mismatch.")
        session["status"] = "canceling"
        session["states"].insert(0, {"status": "canceling", "start_time": _now()})
        session["version"] += 1
        session["updated_time"] = _now()
        return web.json_response(session)

    # -- helpers ---------------------------------------------------------------------------------

    def _list(self, request: web.Request, items: Any, *, include: Any) -> web.StreamResponse:
        scope_id = request.query.get("scope_id", "")
        recursive = request.query.get("recursive") == "true"
        if scope_id not in self.scopes:
            return _error(404, "NotFound", "Resource not found.")
        if not recursive and self.scopes[scope_id].type != "project":
            return _error(
                400,
                "InvalidArgument",
                "Improperly formatted identifier.",
                fields={"scope_id": _NOT_RECURSIVE},
            )
        within = self._scopes_under(scope_id) if recursive else {scope_id}
        found = sorted(
            (item for item in items if item["scope_id"] in within and include(item)),
            key=lambda item: item["created_time"],
            reverse=True,
        )
        offset = _decode_token(request.query.get("list_token"))
        page_size = int(request.query.get("page_size", self.page_size))
        page = found[offset : offset + page_size]
        complete = offset + page_size >= len(found)
        return web.json_response(
            {
                "items": page,
                "response_type": "complete" if complete else "delta",
                "list_token": _encode_token(offset + page_size),
                "sort_by": "created_time",
                "sort_dir": "desc",
                "removed_ids": [],
                "est_item_count": len(found),
            }
        )

    def _scopes_under(self, scope_id: str) -> set[str]:
        found = {scope_id}
        while True:
            more = {s.id for s in self.scopes.values() if s.parent_scope_id in found} - found
            if not more:
                return found
            found |= more

    def _new_session(self, target: dict[str, Any], user_id: str) -> dict[str, Any]:
        session_id = new_id("s")
        session = {
            "id": session_id,
            "target_id": target["id"],
            "scope": target["scope"],
            "scope_id": target["scope_id"],
            "created_time": _now(),
            "updated_time": _now(),
            "version": 1,
            "type": "tcp",
            "expiration_time": _now(timedelta(seconds=target["session_max_seconds"])),
            "auth_token_id": new_id("at"),
            "user_id": user_id,
            "host_set_id": "",
            "host_id": "",
            "endpoint": f"tcp://{target['address']}:{target['attributes']['default_port']}",
            "status": "pending",
            "states": [{"status": "pending", "start_time": _now()}],
            "certificate": base64.b64encode(secrets.token_bytes(64)).decode(),
            "authorized_actions": list(_SESSION_ACTIONS),
        }
        self.sessions[session_id] = session
        return session


def _error(status: int, kind: str, message: str, *, fields: dict[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"kind": kind, "message": message}
    if fields:
        body["details"] = {
            "request_fields": [{"name": k, "description": v} for k, v in sorted(fields.items())]
        }
    return web.json_response(body, status=status)


def _now(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    return int(json.loads(base64.urlsafe_b64decode(token))["offset"]) if token else 0
