"""A fake Argo CD API server: the REST paths of the gRPC gateway, its error documents
({"error", "code", "message"} with the gRPC code's HTTP status), bearer-token auth, per-action
permission denials, and an application controller that finishes each requested operation
`operation_seconds` after it was requested (or never, for a held application).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import Any

import yaml
from aiohttp import web

from tests.fakes.argocd_state import (
    USERNAME,
    FakeApp,
    GitSource,
    application,
    keyed,
    managed_resources,
    resource_tree,
)
from tests.fakes.http_stall import StallingHttpServer

JSON = dict[str, Any]
ARGOCD_NAMESPACE = "argocd"
_APP = "/api/v1/applications/{name}"
_SYNC_FIELDS = frozenset(
    {
        "name",
        "revision",
        "revisions",
        "dryRun",
        "prune",
        "strategy",
        "resources",
        "manifests",
        "infos",
        "retryStrategy",
        "syncOptions",
        "appNamespace",
        "project",
        "sourcePositions",
    }
)
_ROLLBACK_FIELDS = frozenset({"name", "id", "dryRun", "prune", "appNamespace", "project"})
# gRPC status codes and the HTTP status the gateway answers them with.
_CODES = {
    "InvalidArgument": (3, 400),
    "NotFound": (5, 404),
    "PermissionDenied": (7, 403),
    "FailedPrecondition": (9, 400),
    "Unauthenticated": (16, 401),
}


class GrpcError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status = _CODES[code]
        self.message = message

    def response(self) -> web.Response:
        body = {"error": self.message, "code": self.code, "message": self.message}
        return web.json_response(body, status=self.status)


class FakeArgoCD(StallingHttpServer):
    def __init__(self, *, operation_seconds: float = 0.1) -> None:
        super().__init__()
        self.token = secrets.token_urlsafe(16)
        self.operation_seconds = operation_seconds
        self.apps: dict[str, FakeApp] = {}
        self._denied: set[tuple[str, str]] = set()

    def add_app(
        self,
        name: str,
        *,
        destination: str,
        manifests: list[JSON],
        revision: str,
        target_revision: str = "main",
        auto_sync: bool = False,
        namespace: str = ARGOCD_NAMESPACE,
    ) -> FakeApp:
        """An application already synced to `revision`, with that one deployment (id 0) in its history."""
        app = FakeApp(
            name=name,
            namespace=namespace,
            destination=destination,
            repo_url=f"https://git.example.com/platform/{name}.git",
            path=f"deploy/{destination}",
            target_revision=target_revision,
            commits={revision: manifests},
            head=revision,
            live={},
            auto_sync=auto_sync,
        )
        app.request({"sync": {"revision": revision}, "initiatedBy": {"username": "admin"}}, time.monotonic())
        app.finish()
        self.apps[name] = app
        return app

    def add_git_app(
        self,
        name: str,
        *,
        destination: str,
        source: GitSource,
        target_revision: str = "main",
        auto_sync: bool = False,
    ) -> FakeApp:
        """An application tracking `target_revision` of a real repository, synced to its tip. Like an
        Argo CD without a git webhook, it sees a later push only when asked to refresh or to sync."""
        revision = source.remote.tip(target_revision)
        values = yaml.safe_load(source.remote.show(source.values_file, revision))
        app = self.add_app(
            name,
            destination=destination,
            manifests=source.render(values),
            revision=revision,
            target_revision=target_revision,
            auto_sync=auto_sync,
        )
        app.repo_url, app.path, app.git = (
            source.remote.url,
            str(PurePosixPath(source.values_file).parent),
            source,
        )
        return app

    def push(self, name: str, revision: str, manifests: list[JSON]) -> None:
        """A new commit on the branch the application tracks."""
        app = self.apps[name]
        app.commits[revision] = manifests
        app.head = revision

    def degrade(self, name: str, revision: str) -> None:
        """Pods of `revision` never become ready once it is deployed."""
        self.apps[name].degraded.add(revision)

    def hold(self, name: str) -> None:
        """The controller never finishes this application's operations."""
        self.apps[name].held = True

    def deny(self, action: str, name: str) -> None:
        """RBAC refuses `action` ("get", "sync", …) on this application to the token's account."""
        self._denied.add((action, name))

    def live(self, name: str) -> dict[Any, JSON]:
        return self.apps[name].live

    def in_sync_with(self, name: str, revision: str) -> bool:
        app = self.apps[name]
        return app.live == keyed(app.commits[revision])

    def routes(self) -> list[web.RouteDef]:
        return [
            self.route("GET", "/api/v1/applications", self._list),
            self.route("GET", _APP, self._handle("get", self._get)),
            self.route("GET", _APP + "/resource-tree", self._handle("get", self._tree)),
            self.route("GET", _APP + "/managed-resources", self._handle("get", self._managed)),
            self.route("POST", _APP + "/sync", self._handle("sync", self._sync)),
            self.route("POST", _APP + "/rollback", self._handle("sync", self._rollback)),
        ]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return GrpcError("Unauthenticated", "invalid session: token signature is invalid").response()
        return None

    def _handle(
        self, action: str, handler: Callable[[FakeApp, JSON], Awaitable[JSON]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Find the application (404), check RBAC (403), let the controller catch up, then answer."""

        async def handle(request: web.Request) -> web.StreamResponse:
            raw = await request.read()  # the base class has read it already; this is its cached copy
            body = json.loads(raw) if raw else {}
            name = request.match_info["name"]
            try:
                app = self._app(name, request.query.get("appNamespace") or body.get("appNamespace"))
                if (action, name) in self._denied:
                    who = f"sub: {USERNAME}, iat: 2024-05-01T12:00:00Z"
                    message = f"permission denied: applications, {action}, default/{name}, {who}"
                    raise GrpcError("PermissionDenied", message)
                self.reconcile(app)
                if app.git is not None and (request.query.get("refresh") or request.path.endswith("/sync")):
                    await self._refresh(app, app.git, body.get("revision"))
                return web.json_response(await handler(app, body))
            except GrpcError as error:
                return error.response()

        return handle

    async def _list(self, request: web.Request) -> web.StreamResponse:
        """Every application the account may get (Argo CD leaves out the rest without a word), in
        name order, narrowed to `projects` when given."""
        projects = request.query.getall("projects", [])
        items = []
        for name in sorted(self.apps):
            app = self.apps[name]
            self.reconcile(app)
            if ("get", name) not in self._denied and (not projects or "default" in projects):
                items.append(application(app))
        return web.json_response({"metadata": {"resourceVersion": "1"}, "items": items})

    def _app(self, name: str, namespace: str | None) -> FakeApp:
        app = self.apps.get(name)
        if app is None or app.namespace != (namespace or ARGOCD_NAMESPACE):
            raise GrpcError("NotFound", f'applications.argoproj.io "{name}" not found')
        return app

    async def _refresh(self, app: FakeApp, source: GitSource, revision: str | None) -> None:
        """Read the tracked branch's tip (and a requested revision) from git, rendering what is new."""
        for ref in {app.target_revision, *([revision] if revision else [])}:
            commit = await source.remote.resolve(ref)
            if commit is None:
                continue
            if commit not in app.commits:
                text = await source.remote.read(commit, source.values_file)
                app.commits[commit] = source.render(yaml.safe_load(text)) if text else []
            if ref == app.target_revision:
                app.head = commit

    def reconcile(self, app: FakeApp) -> None:
        """Finish the requested operation if it is due, as the controller does between requests."""
        due = time.monotonic() - app.requested_at >= self.operation_seconds
        if app.operation is not None and not app.held and due:
            app.finish()

    async def _get(self, app: FakeApp, body: JSON) -> JSON:
        return application(app)

    async def _tree(self, app: FakeApp, body: JSON) -> JSON:
        return resource_tree(app)

    async def _managed(self, app: FakeApp, body: JSON) -> JSON:
        return managed_resources(app)

    async def _sync(self, app: FakeApp, body: JSON) -> JSON:
        _check_fields(body, _SYNC_FIELDS)
        _check_idle(app)
        revision = body.get("revision") or ""
        if app.auto_sync and revision and revision not in (app.target_revision, app.head):
            message = f"Cannot sync to {revision}: auto-sync currently set to {app.target_revision}"
            raise GrpcError("FailedPrecondition", message)
        sync = {key: body[key] for key in ("revision", "dryRun", "prune") if key in body}
        if "strategy" in body:
            sync["syncStrategy"] = body["strategy"]
        app.request({"sync": sync, "initiatedBy": {"username": USERNAME}}, time.monotonic())
        return application(app)

    async def _rollback(self, app: FakeApp, body: JSON) -> JSON:
        _check_fields(body, _ROLLBACK_FIELDS)
        if app.auto_sync:
            raise GrpcError("FailedPrecondition", "rollback cannot be initiated when auto-sync is enabled")
        _check_idle(app)
        history_id = int(body.get("id", 0))
        entry = next((entry for entry in app.history if entry["id"] == history_id), None)
        if entry is None:
            raise GrpcError(
                "InvalidArgument", f"application {app.name} does not have deployment with id {history_id}"
            )
        sync = {
            "revision": entry["revision"],
            "dryRun": bool(body.get("dryRun")),
            "prune": bool(body.get("prune")),
        }
        app.request({"sync": sync, "initiatedBy": {"username": USERNAME}}, time.monotonic())
        return application(app)


def _check_fields(body: JSON, allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed:
            raise GrpcError("InvalidArgument", f'json: unknown field "{key}"')


def _check_idle(app: FakeApp) -> None:
    if app.operation is not None:
        raise GrpcError("FailedPrecondition", "another operation is already in progress")
