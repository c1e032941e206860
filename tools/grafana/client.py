"""The Grafana API calls Carapulse makes, with a service-account token."""

from __future__ import annotations

from typing import Any, Self

from tools.common.base import ToolError
from tools.common.http import HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy
from tools.grafana.args import SearchArgs
from tools.grafana.links import Dashboard

JSON = dict[str, Any]


class GrafanaClient:
    """The Grafana API calls Carapulse makes; `base_url` is also where links for people point."""

    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def connect(
        cls, url: str, token: str, *, timeout: float = 30.0, retry: RetryPolicy | None = None
    ) -> Self:
        http = JsonHttpClient(
            tool="grafana",
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            retry=retry or RetryPolicy(),
            error_message=_error_message,
        )
        return cls(http)

    @property
    def base_url(self) -> str:
        return self.http.base_url.rstrip("/")

    async def close(self) -> None:
        await self.http.close()

    async def dashboard(self, uid: str) -> Dashboard:
        path = f"/api/dashboards/uid/{uid}"
        answer = await self.http.get(path)
        if not isinstance(answer, dict) or not isinstance(answer.get("dashboard"), dict):
            raise ToolError(f"grafana: GET {path} answered without a dashboard", call=f"GET {path}")
        return Dashboard.of(answer)

    async def search(self, args: SearchArgs) -> list[JSON]:
        params = {"query": args.query, "tag": list(args.tags), "type": "dash-db", "limit": args.limit}
        hits = await self.http.get("/api/search", params=params)
        if not isinstance(hits, list):
            raise ToolError(
                "grafana: GET /api/search answered without a list of dashboards", call="GET /api/search"
            )
        return [hit for hit in hits if isinstance(hit, dict)]

    async def annotation(self, annotation_id: int) -> JSON | None:
        try:
            found = await self.http.get(f"/api/annotations/{annotation_id}")
        except HttpStatusError as error:
            if error.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    async def create_annotation(self, body: JSON) -> int:
        # Not retried: a create that reached Grafana before the connection broke would be repeated.
        answer = (await self.http.request("POST", "/api/annotations", json_body=body)).body
        annotation_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(annotation_id, int):
            raise ToolError(
                "grafana: POST /api/annotations answered without an id", call="POST /api/annotations"
            )
        return annotation_id

    async def delete_annotation(self, annotation_id: int) -> bool:
        """Delete; False when it was already gone, so a retried or repeated delete is not an error."""
        try:
            await self.http.request("DELETE", f"/api/annotations/{annotation_id}", repeatable=True)
        except HttpStatusError as error:
            if error.status == 404:
                return False
            raise
        return True


def _error_message(body: Any) -> str | None:
    """Grafana's error document: {"message": "...", ...}."""
    return str(body["message"]) if isinstance(body, dict) and body.get("message") else None
