"""The Argo CD API server calls Carapulse makes, and the arguments that name an application.

One `JsonHttpClient` is shared by every action; the gRPC gateway's error document
({"error", "code", "message"}) is turned into the ToolError's sentence.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import StringConstraints

from tools.common.base import ActionArgs, ToolError
from tools.common.http import JsonHttpClient
from tools.common.retries import RetryPolicy

JSON = dict[str, Any]

# Application names are Kubernetes object names.
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
AppName = Annotated[
    str, StringConstraints(max_length=253, pattern=rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")
]
AppNamespace = Annotated[str, StringConstraints(max_length=63, pattern=rf"^{_DNS1123_LABEL}$")]


class AppArgs(ActionArgs):
    name: AppName
    # Only for applications outside Argo CD's own namespace ("apps in any namespace").
    app_namespace: AppNamespace | None = None

    def ref(self) -> dict[str, Any]:
        """The arguments that name this application, to build another action's arguments."""
        return self.model_dump(include={"name", "app_namespace"}, exclude_none=True)


class ArgoCDClient:
    """The Argo CD API calls Carapulse makes, on one shared JSON client; `close()` it on shutdown."""

    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def connect(
        cls,
        server: str,
        token: str,
        *,
        insecure: bool = False,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> Self:
        http = JsonHttpClient(
            tool="argocd",
            base_url=server,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            retry=retry or RetryPolicy(),
            error_message=_error_message,
            verify_tls=not insecure,
        )
        return cls(http)

    @property
    def server(self) -> str:
        return self.http.base_url

    async def close(self) -> None:
        await self.http.close()

    async def application(self, app: AppArgs, *, refresh: str | None = None) -> JSON:
        """`refresh` ("normal" or "hard") makes the API server compare with git again before it
        answers."""
        params = _scope(app) | ({"refresh": refresh} if refresh else {})
        return await self._object("GET", app_path(app), params=params)

    async def applications(self, *, project: str | None = None) -> list[JSON]:
        """Every application the token may see (Argo CD leaves out the others, and does not page)."""
        params = {"projects": project} if project else {}
        body = await self._object("GET", "/api/v1/applications", params=params)
        return list(body.get("items") or [])

    async def resource_tree(self, app: AppArgs) -> JSON:
        return await self._object("GET", f"{app_path(app)}/resource-tree", params=_scope(app))

    async def managed_resources(self, app: AppArgs) -> list[JSON]:
        body = await self._object("GET", f"{app_path(app)}/managed-resources", params=_scope(app))
        return list(body.get("items") or [])

    async def sync(self, app: AppArgs, body: JSON) -> JSON:
        # Never retried: a request that reached the server has started an operation.
        return await self._object("POST", f"{app_path(app)}/sync", json_body=body | _scope(app))

    async def rollback(self, app: AppArgs, body: JSON) -> JSON:
        return await self._object("POST", f"{app_path(app)}/rollback", json_body=body | _scope(app))

    async def _object(self, method: str, path: str, **kwargs: Any) -> JSON:
        body = (await self.http.request(method, path, **kwargs)).body
        if not isinstance(body, dict):
            call = f"{method} {path}"
            raise ToolError(f"argocd: {call} answered with {type(body).__name__}, not an object", call=call)
        return body


def app_path(app: AppArgs) -> str:
    return f"/api/v1/applications/{app.name}"


def _scope(app: AppArgs) -> dict[str, str]:
    return {"appNamespace": app.app_namespace} if app.app_namespace else {}


def _error_message(body: Any) -> str | None:
    """The gRPC gateway's error document: {"error": "...", "code": 5, "message": "..."}."""
    if isinstance(body, dict):
        return body.get("message") or body.get("error")
    return None
