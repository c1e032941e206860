"""A fake Grafana HTTP API: dashboard search and fetch by UID, and annotations (create, get, delete),
with service-account bearer auth and Grafana's error documents ({"message": ...}).

It keeps Grafana's quirks that matter to a client: an unknown `dashboardUID` on POST /api/annotations
silently creates an organisation annotation, and deleting a missing annotation answers 404.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.fakes.http_stall import StallingHttpServer

JSON = dict[str, Any]


class FakeGrafana(StallingHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.token = f"glsa_{secrets.token_urlsafe(24)}"
        self.dashboards: dict[str, JSON] = {}
        self.annotations: dict[int, JSON] = {}
        self._denied: set[str] = set()
        self._next_id = 1

    def add_dashboard(
        self, dashboard: JSON, *, folder: str = "General", tags: list[str] | None = None
    ) -> None:
        uid = dashboard["uid"]
        dashboard = dashboard | {"id": len(self.dashboards) + 100, "tags": tags or []}
        self.dashboards[uid] = {"dashboard": dashboard, "folder": folder}

    def deny(self, permission: str) -> None:
        """The service account lacks an RBAC action, e.g. "annotations:create"."""
        self._denied.add(permission)

    def routes(self) -> list[web.RouteDef]:
        return [
            self.route("GET", "/api/search", self._search),
            self.route("GET", "/api/dashboards/uid/{uid}", self._dashboard),
            self.route("POST", "/api/annotations", self._create_annotation),
            self.route("GET", "/api/annotations/{id}", self._get_annotation),
            self.route("DELETE", "/api/annotations/{id}", self._delete_annotation),
        ]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            body = {
                "message": "Invalid API key",
                "messageId": "api-key.invalid",
                "statusCode": 401,
                "traceID": "",
            }
            return web.json_response(body, status=401)
        return None

    async def _search(self, request: web.Request) -> web.Response:
        if request.query.get("type", "dash-db") != "dash-db":
            return web.json_response([])
        words = request.query.get("query", "").lower()
        tags = set(request.query.getall("tag", []))
        limit = int(request.query.get("limit", "1000"))
        hits = [
            self._hit(entry)
            for entry in sorted(self.dashboards.values(), key=lambda e: e["dashboard"]["title"].lower())
            if words in entry["dashboard"]["title"].lower() and tags <= set(entry["dashboard"]["tags"])
        ]
        return web.json_response(hits[:limit])

    async def _dashboard(self, request: web.Request) -> web.Response:
        entry = self.dashboards.get(request.match_info["uid"])
        if entry is None:
            return _error(404, "Dashboard not found")
        dashboard = entry["dashboard"]
        meta = {
            "type": "db",
            "canSave": True,
            "slug": _slug(dashboard["title"]),
            "url": f"/d/{dashboard['uid']}/{_slug(dashboard['title'])}",
            "folderTitle": entry["folder"],
            "folderUid": _slug(entry["folder"]),
        }
        return web.json_response({"dashboard": dashboard, "meta": meta})

    async def _create_annotation(self, request: web.Request) -> web.Response:
        denied = self._denial("annotations:create")
        if denied is not None:
            return denied
        body = await request.json()
        if not body.get("text"):
            return _error(400, "Failed to save annotation")
        entry = self.dashboards.get(body.get("dashboardUID", ""))
        dashboard_id = entry["dashboard"]["id"] if entry else 0  # unknown UID: an org annotation
        annotation = {
            "id": self._next_id,
            "alertId": 0,
            "dashboardId": dashboard_id,
            "dashboardUID": body.get("dashboardUID") if entry else None,
            "panelId": body.get("panelId", 0),
            "time": body.get("time", 0),
            "timeEnd": body.get("timeEnd", body.get("time", 0)),
            "text": body["text"],
            "tags": body.get("tags") or [],
            "login": "sa-carapulse",
        }
        self.annotations[self._next_id] = annotation
        self._next_id += 1
        return web.json_response({"message": "Annotation added", "id": annotation["id"]})

    async def _get_annotation(self, request: web.Request) -> web.Response:
        annotation = self.annotations.get(_annotation_id(request))
        if annotation is None:
            return _error(404, "Annotation not found")
        return web.json_response(annotation)

    async def _delete_annotation(self, request: web.Request) -> web.Response:
        denied = self._denial("annotations:delete")
        if denied is not None:
            return denied
        if self.annotations.pop(_annotation_id(request), None) is None:
            return _error(404, "Annotation not found")
        return web.json_response({"message": "Annotation deleted"})

    def _denial(self, permission: str) -> web.Response | None:
        if permission not in self._denied:
            return None
        message = (
            f"You'll need additional permissions to perform this action. Permissions needed: {permission}"
        )
        body = {"accessErrorId": "ACE0123456789", "message": message, "title": "Access denied"}
        return web.json_response(body, status=403)

    def _hit(self, entry: JSON) -> JSON:
        dashboard = entry["dashboard"]
        slug = _slug(dashboard["title"])
        return {
            "id": dashboard["id"],
            "uid": dashboard["uid"],
            "orgId": 1,
            "title": dashboard["title"],
            "uri": f"db/{slug}",
            "url": f"/d/{dashboard['uid']}/{slug}",
            "slug": "",
            "type": "dash-db",
            "tags": dashboard["tags"],
            "isStarred": False,
            "folderUid": _slug(entry["folder"]),
            "folderTitle": entry["folder"],
            "sortMeta": 0,
        }


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def _annotation_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())
