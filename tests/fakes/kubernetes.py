"""A fake Kubernetes API server on loopback that speaks apps/v1 Deployments over the real wire format.

Tests point the official `kubernetes` client at it through the kubeconfig it writes. Writes run a
small Deployment controller: after `convergence_delay` the status settles on the new spec, unless
the deployment was marked stuck.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.kubernetes_state import (
    JSON,
    ApiError,
    DeploymentStore,
    Stuck,
    apply_patch,
    bad_request,
    deployment_with_scale,
    injected,
    scale_of,
    status_error,
)

_DEPLOYMENTS = "/apis/apps/v1/namespaces/{namespace}/deployments"
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "9befc2b8928a9426501d3bf62f72849d5cbcd5a3",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    content_type: str


@dataclass
class _Fault:
    method: str
    path_suffix: str
    status: int
    remaining: int


class FakeKubernetes:
    def __init__(self, *, convergence_delay: float = 0.2) -> None:
        self.convergence_delay = convergence_delay
        self.token = secrets.token_urlsafe(16)
        self.requests: list[RecordedRequest] = []
        self._store = DeploymentStore()
        self._faults: list[_Fault] = []
        self._controllers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        controllers = list(self._controllers.values())
        for task in controllers:
            task.cancel()
        await asyncio.gather(*controllers, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def write_kubeconfig(self, path: Path, *, token: str | None = None) -> Path:
        """Write a kubeconfig (JSON is valid YAML) whose current context is this server."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": token or self.token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "current-context": "fake",
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    def add_deployment(
        self, namespace: str, name: str, *, replicas: int = 2, image: str = "nginx:1.27"
    ) -> JSON:
        """Seed a Deployment that has already rolled out."""
        return self._store.add(namespace, name, replicas=replicas, image=image)

    def deployment(self, namespace: str, name: str) -> JSON:
        return self._store.get(namespace, name)

    def set_stuck(
        self, namespace: str, name: str, *, available: int, deadline_exceeded: bool = False
    ) -> None:
        """From now on the rollout never gets past `available` ready pods."""
        self._store.set_stuck(namespace, name, Stuck(available, deadline_exceeded))
        self._store.reconcile(namespace, name)

    def release(self, namespace: str, name: str) -> None:
        """Let a stuck rollout finish, as if the missing pods were finally scheduled."""
        self._store.set_stuck(namespace, name, None)
        self._store.reconcile(namespace, name)

    async def settle(self) -> None:
        """Wait until every pending controller pass has written its status."""
        while pending := [task for task in self._controllers.values() if not task.done()]:
            await asyncio.wait(pending)

    def fail_next(self, method: str, path_suffix: str, *, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` requests whose path ends with `path_suffix` with a Status error."""
        self._faults.append(_Fault(method.upper(), path_suffix, status, times))

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        deployment = _DEPLOYMENTS + "/{name}"
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)
        app.router.add_get(_DEPLOYMENTS, self._list_deployments)
        app.router.add_get(deployment, self._get_deployment)
        app.router.add_put(deployment, self._put_deployment)
        app.router.add_patch(deployment, self._patch_deployment)
        app.router.add_get(deployment + "/scale", self._get_scale)
        app.router.add_put(deployment + "/scale", self._put_scale)
        app.router.add_patch(deployment + "/scale", self._patch_scale)
        app.router.add_get("/api/v1/namespaces/{namespace}/pods", self._empty_list("PodList"))
        app.router.add_get("/api/v1/namespaces/{namespace}/events", self._empty_list("EventList"))
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        await self._record(request)
        try:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                raise status_error(401, "Unauthorized", "Unauthorized")
            self._inject_fault(request)
            return await handler(request)
        except ApiError as error:
            return web.json_response(error.status, status=error.code)
        except web.HTTPMethodNotAllowed:
            message = "the server does not allow this method on the requested resource"
            error = status_error(405, "MethodNotAllowed", message, {})
            return web.json_response(error.status, status=405)

    async def _record(self, request: web.Request) -> None:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                dict(request.query),
                body,
                request.headers.get("Content-Type", ""),
            )
        )

    def _inject_fault(self, request: web.Request) -> None:
        for fault in self._faults:
            matches = fault.method == request.method and request.path.endswith(fault.path_suffix)
            if matches and fault.remaining > 0:
                fault.remaining -= 1
                raise injected(fault.status, request.match_info.get("name", ""))

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(_VERSION)

    async def _list_deployments(self, request: web.Request) -> web.Response:
        items = self._store.list(request.match_info["namespace"])
        for item in items:
            del item["kind"], item["apiVersion"]
        return web.json_response(self._list("DeploymentList", "apps/v1", items))

    def _empty_list(self, kind: str) -> _Handler:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(self._list(kind, "v1", []))

        return handler

    def _list(self, kind: str, api_version: str, items: list[JSON]) -> JSON:
        metadata = {"resourceVersion": str(self._store.revision)}
        return {"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": items}

    async def _get_deployment(self, request: web.Request) -> web.Response:
        return web.json_response(self._store.get(*_key(request)))

    async def _put_deployment(self, request: web.Request) -> web.Response:
        body = await _object_body(request, "Deployment")
        return web.json_response(self._write(request, body))

    async def _patch_deployment(self, request: web.Request) -> web.Response:
        patched = apply_patch(self._store.get(*_key(request)), *await _patch_body(request))
        return web.json_response(self._write(request, patched))

    async def _get_scale(self, request: web.Request) -> web.Response:
        return web.json_response(scale_of(self._store.get(*_key(request))))

    async def _put_scale(self, request: web.Request) -> web.Response:
        scale = await _object_body(request, "Scale")
        updated = deployment_with_scale(self._store.get(*_key(request)), scale)
        return web.json_response(scale_of(self._write(request, updated)))

    async def _patch_scale(self, request: web.Request) -> web.Response:
        current = self._store.get(*_key(request))
        scale = apply_patch(scale_of(current), *await _patch_body(request))
        updated = deployment_with_scale(current, scale)
        return web.json_response(scale_of(self._write(request, updated)))

    def _write(self, request: web.Request, new: JSON) -> JSON:
        namespace, name = _key(request)
        dry_run = _dry_run(request)
        stored, spec_changed = self._store.replace(namespace, name, new, dry_run=dry_run)
        if spec_changed and not dry_run:
            self._start_controller(namespace, name)
        return stored

    def _start_controller(self, namespace: str, name: str) -> None:
        """Settle the status after the delay; a newer write restarts the clock, as a re-sync would."""
        key = (namespace, name)
        previous = self._controllers.get(key)
        if previous is not None:
            previous.cancel()
        self._controllers[key] = asyncio.get_running_loop().create_task(self._converge(key))

    async def _converge(self, key: tuple[str, str]) -> None:
        await asyncio.sleep(self.convergence_delay)
        self._store.reconcile(*key)


def _key(request: web.Request) -> tuple[str, str]:
    return request.match_info["namespace"], request.match_info["name"]


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return bool(values)


async def _object_body(request: web.Request, kind: str) -> JSON:
    body = await _json_body(request)
    if not isinstance(body, dict) or body.get("kind", kind) != kind:
        raise bad_request(f"the body of the request is not a {kind}")
    name = body.get("metadata", {}).get("name")
    if name != request.match_info["name"]:
        message = f"the name of the object ({name}) does not match the name on the URL"
        raise bad_request(f"{message} ({request.match_info['name']})")
    return body


async def _patch_body(request: web.Request) -> tuple[Any, str]:
    if request.content_type not in _PATCH_TYPES:
        accepted = ", ".join(_PATCH_TYPES)
        message = (
            f"the body of the request was in an unknown format - accepted media types include: {accepted}"
        )
        raise status_error(415, "UnsupportedMediaType", message)
    return await _json_body(request), request.content_type


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError as error:
        raise bad_request(f"error decoding request body: {error}") from None
