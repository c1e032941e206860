"""A fake Kubernetes API server on loopback that speaks apps/v1 Deployments and ReplicaSets, core/v1
pods (with logs), events, nodes and Services, and networking.k8s.io/v1 Ingresses (read only) over the
real wire format.

Tests point the official `kubernetes` client at it through the kubeconfig it writes. Writes run the
controllers: after `convergence_delay` the Deployment's ReplicaSets, pods and status settle on the new
spec, unless the deployment was marked stuck. Every write honours `dryRun=All`, every error is the
API server's `Status` body, and a test can deny a verb (403), inject a status, or stall an answer.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.playground.kubernetes.cluster import KubernetesCluster
from bot.playground.kubernetes.lists import page, select
from bot.playground.kubernetes.patch import apply_patch, check_content_type
from bot.playground.kubernetes.rbac import Rbac, attributes
from bot.playground.kubernetes.state import deployment_with_scale, scale_of
from bot.playground.kubernetes.status import JSON, ApiError, bad_request, injected, status_error

_APPS = "/apis/apps/v1/namespaces/{namespace}"
_CORE = "/api/v1/namespaces/{namespace}"
_NETWORKING = "/apis/networking.k8s.io/v1"
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
    """The next `remaining` matching requests wait `delay` seconds, then answer `status` (a Status
    error), or `raw` (a 200 with that body and content type), or normally."""

    method: str
    path_suffix: str
    remaining: int
    status: int | None = None
    delay: float = 0.0
    raw: tuple[bytes, str] | None = None


class FakeKubernetes(KubernetesCluster):
    def __init__(
        self, *, convergence_delay: float = 0.2, nodes: tuple[str, ...] = ("node-1", "node-2")
    ) -> None:
        super().__init__(nodes=nodes)
        self.convergence_delay = convergence_delay
        self.token = secrets.token_urlsafe(16)
        self.requests: list[RecordedRequest] = []
        self._rbac = Rbac()
        self._faults: list[_Fault] = []
        self._controllers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
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
        """Write a kubeconfig whose current context, "fake", is this server."""
        return write_kubeconfig(
            path, {"fake": self}, current="fake", tokens={"fake": token} if token else None
        )

    async def settle(self) -> None:
        """Wait until every pending controller pass has written its status."""
        while pending := [task for task in self._controllers.values() if not task.done()]:
            await asyncio.wait(pending)

    # Failures.

    def fail_next(self, method: str, path_suffix: str, *, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` requests whose path ends with `path_suffix` with a Status error."""
        self._faults.append(_Fault(method.upper(), path_suffix, times, status=status))

    def stall_next(self, method: str, path_suffix: str, *, seconds: float, times: int = 1) -> None:
        """Hold the next `times` matching requests for `seconds` before answering them normally."""
        self._faults.append(_Fault(method.upper(), path_suffix, times, delay=seconds))

    def garble_next(
        self,
        method: str,
        path_suffix: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests 200 with `body`, as a broken proxy might."""
        self._faults.append(_Fault(method.upper(), path_suffix, times, raw=(body, content_type)))

    def deny(self, verb: str, resource: str, *, namespace: str | None = None) -> None:
        """RBAC: our service account may not `verb` the resource ("pods/log" for a subresource)
        in `namespace` (None: anywhere)."""
        self._rbac.deny(verb, resource, namespace)

    # The HTTP surface.

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        deployment = _APPS + "/deployments/{name}"
        pod = _CORE + "/pods/{name}"
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)
        app.router.add_get(_APPS + "/deployments", self._lister("deployments", "DeploymentList", "apps/v1"))
        app.router.add_get(deployment, self._getter("deployments"))
        app.router.add_put(deployment, self._put_deployment)
        app.router.add_patch(deployment, self._patch_deployment)
        app.router.add_get(deployment + "/scale", self._get_scale)
        app.router.add_put(deployment + "/scale", self._put_scale)
        app.router.add_patch(deployment + "/scale", self._patch_scale)
        app.router.add_get(_APPS + "/replicasets", self._lister("replicasets", "ReplicaSetList", "apps/v1"))
        app.router.add_get(_APPS + "/replicasets/{name}", self._getter("replicasets"))
        app.router.add_get(_CORE + "/pods", self._lister("pods", "PodList", "v1"))
        app.router.add_get(pod, self._getter("pods"))
        app.router.add_delete(pod, self._delete_pod)
        app.router.add_get(pod + "/log", self._pod_log)
        app.router.add_get(_CORE + "/events", self._lister("events", "EventList", "v1"))
        app.router.add_get("/api/v1/nodes", self._lister("nodes", "NodeList", "v1"))
        # Lists across every namespace, and the network objects the context graph reads.
        app.router.add_get(
            "/apis/apps/v1/deployments", self._lister("deployments", "DeploymentList", "apps/v1")
        )
        for prefix in ("/api/v1", _CORE):
            app.router.add_get(prefix + "/services", self._lister("services", "ServiceList", "v1"))
        for prefix in (_NETWORKING, _NETWORKING + "/namespaces/{namespace}"):
            app.router.add_get(
                prefix + "/ingresses", self._lister("ingresses", "IngressList", "networking.k8s.io/v1")
            )
        app.router.add_get("/api/v1/nodes/{name}", self._getter("nodes"))
        app.router.add_patch("/api/v1/nodes/{name}", self._patch_node)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        await self._record(request)
        try:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                raise status_error(401, "Unauthorized", "Unauthorized")
            if (requested := attributes(request.method, request.path)) is not None:
                self._rbac.check(requested)
            if (fault := self._next_fault(request)) is not None:
                return await self._answer_fault(request, fault, handler)
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

    def _next_fault(self, request: web.Request) -> _Fault | None:
        for fault in self._faults:
            matches = fault.method == request.method and request.path.endswith(fault.path_suffix)
            if matches and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    async def _answer_fault(
        self, request: web.Request, fault: _Fault, handler: _Handler
    ) -> web.StreamResponse:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            requested = attributes(request.method, request.path)
            raise injected(
                fault.status, requested.resource if requested else "", request.match_info.get("name", "")
            )
        if fault.raw is not None:
            body, content_type = fault.raw
            return web.Response(body=body, content_type=content_type)
        return await handler(request)

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(_VERSION)

    def _lister(self, resource: str, kind: str, api_version: str) -> _Handler:
        async def handler(request: web.Request) -> web.Response:
            query = request.query
            items = select(resource, self._store.list(resource, request.match_info.get("namespace")), query)
            selected = bool(query.get("labelSelector") or query.get("fieldSelector"))
            chunk, metadata = page(items, query, revision=self._store.revision, selected=selected)
            for item in chunk:
                del item["kind"], item["apiVersion"]
            return web.json_response(
                {"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": chunk}
            )

        return handler

    def _getter(self, resource: str) -> _Handler:
        async def handler(request: web.Request) -> web.Response:
            namespace = request.match_info.get("namespace", "")
            return web.json_response(self._store.get(resource, namespace, request.match_info["name"]))

        return handler

    async def _put_deployment(self, request: web.Request) -> web.Response:
        body = await _object_body(request, "Deployment")
        return web.json_response(self._write_deployment(request, body))

    async def _patch_deployment(self, request: web.Request) -> web.Response:
        patched = apply_patch(self.deployment(*_key(request)), *await _patch_body(request))
        return web.json_response(self._write_deployment(request, patched))

    async def _get_scale(self, request: web.Request) -> web.Response:
        return web.json_response(scale_of(self.deployment(*_key(request))))

    async def _put_scale(self, request: web.Request) -> web.Response:
        scale = await _object_body(request, "Scale")
        updated = deployment_with_scale(self.deployment(*_key(request)), scale)
        return web.json_response(scale_of(self._write_deployment(request, updated)))

    async def _patch_scale(self, request: web.Request) -> web.Response:
        current = self.deployment(*_key(request))
        scale = apply_patch(scale_of(current), *await _patch_body(request))
        updated = deployment_with_scale(current, scale)
        return web.json_response(scale_of(self._write_deployment(request, updated)))

    def _write_deployment(self, request: web.Request, new: JSON) -> JSON:
        namespace, name = _key(request)
        dry_run = _dry_run(request)
        stored, spec_changed = self._deployments.replace(namespace, name, new, dry_run=dry_run)
        if spec_changed and not dry_run:
            self._start_controller(namespace, name)
        return stored

    async def _delete_pod(self, request: web.Request) -> web.Response:
        """The pod as the server answers a graceful delete (deletionTimestamp set); unless a dry run,
        the kubelet then stops it at once and its ReplicaSet starts a replacement."""
        namespace, name = _key(request)
        grace = _non_negative(request.query.get("gracePeriodSeconds", "30"), "gracePeriodSeconds")
        pod = self.pod(namespace, name)
        deadline = datetime.now(UTC) + timedelta(seconds=grace)
        pod["metadata"]["deletionTimestamp"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
        pod["metadata"]["deletionGracePeriodSeconds"] = grace
        if not _dry_run(request):
            owner = self._workloads.owning_deployment(pod)
            self._workloads.delete_pod(namespace, name)
            if owner is not None:
                self._start_controller(namespace, owner["metadata"]["name"])
        return web.json_response(pod)

    async def _pod_log(self, request: web.Request) -> web.Response:
        for option in ("tailLines", "sinceSeconds", "limitBytes"):
            if option in request.query:
                _non_negative(request.query[option], option)
        text = self._logs.read(self.pod(*_key(request)), request.query)
        return web.Response(text=text, content_type="text/plain")

    async def _patch_node(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        patched = apply_patch(self.node(name), *await _patch_body(request))
        return web.json_response(self._nodes.replace(name, patched, dry_run=_dry_run(request)))

    def _start_controller(self, namespace: str, name: str) -> None:
        """Settle after the delay; a newer write restarts the clock, as a re-sync would."""
        key = (namespace, name)
        previous = self._controllers.get(key)
        if previous is not None:
            previous.cancel()
        self._controllers[key] = asyncio.get_running_loop().create_task(self._converge(key))

    async def _converge(self, key: tuple[str, str]) -> None:
        await asyncio.sleep(self.convergence_delay)
        self._deployments.reconcile(*key)


def write_kubeconfig(
    path: Path,
    servers: Mapping[str, FakeKubernetes],
    *,
    current: str,
    tokens: Mapping[str, str] | None = None,
) -> Path:
    """A kubeconfig (JSON is valid YAML) with one context per server, named by `servers`' keys."""
    tokens = tokens or {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server.url}} for name, server in servers.items()],
        "users": [
            {"name": name, "user": {"token": tokens.get(name, s.token)}} for name, s in servers.items()
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name in servers],
        "current-context": current,
    }
    path.write_text(json.dumps(config, indent=2))
    return path


def _key(request: web.Request) -> tuple[str, str]:
    return request.match_info["namespace"], request.match_info["name"]


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return bool(values)


def _non_negative(raw: str, option: str) -> int:
    if not raw.isdigit():
        raise bad_request(f'{option}: Invalid value: "{raw}": must be a non-negative integer')
    return int(raw)


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
    check_content_type(request.content_type)
    return await _json_body(request), request.content_type


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError as error:
        raise bad_request(f"error decoding request body: {error}") from None
