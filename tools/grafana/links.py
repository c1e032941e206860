"""Grafana dashboard JSON and the links the plan card shows: finding a panel in any dashboard schema,
Grafana's time-range syntax, and the panel view and image-renderer URLs. Pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

JSON = dict[str, Any]

# Grafana's relative times: now, now-6h, now-7d/d, now/w …
_RELATIVE = re.compile(r"^now(-\d+[smhdwMy])?(/[smhdwMy])?$")


def time_param(value: object) -> str:
    """A `from`/`to` value Grafana understands: relative ("now-1h"), epoch milliseconds, or an ISO 8601
    time with a zone, which becomes epoch milliseconds."""
    if isinstance(value, str) and (_RELATIVE.match(value) or value.isdigit()):
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("expected now-1h, epoch milliseconds or an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise ValueError("expected now-1h, epoch milliseconds or an ISO 8601 time")
    if value.tzinfo is None:
        raise ValueError("an ISO 8601 time needs a zone, e.g. 2024-05-01T12:00:00Z")
    return str(epoch_ms(value))


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Panel:
    id: int
    title: str
    type: str


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    slug: str
    folder: str
    panels: list[Panel]

    @classmethod
    def of(cls, answer: JSON) -> Dashboard:
        """From GET /api/dashboards/uid/{uid}: {"dashboard": {...}, "meta": {...}}."""
        dashboard, meta = answer.get("dashboard") or {}, answer.get("meta") or {}
        title = str(dashboard.get("title", ""))
        return cls(
            uid=str(dashboard.get("uid", "")),
            title=title,
            slug=str(meta.get("slug") or _slug(title)),
            folder=str(meta.get("folderTitle") or "General"),
            panels=[
                Panel(id=int(p["id"]), title=str(p.get("title") or ""), type=str(p.get("type", "")))
                for p in _panels(dashboard)
                if isinstance(p.get("id"), int) and p.get("type") != "row"
            ],
        )

    def panel(self, panel_id: int) -> Panel | None:
        return next((panel for panel in self.panels if panel.id == panel_id), None)

    def panel_list(self, limit: int = 10) -> str:
        """ "1 CPU, 2 Memory, …" to tell a person which ids exist."""
        listed = ", ".join(f"{p.id} {p.title or p.type}".strip() for p in self.panels[:limit])
        more = ", …" if len(self.panels) > limit else ""
        return f"{listed}{more}" if listed else "none"


def panel_url(base_url: str, dashboard: Dashboard, panel: Panel, *, start: str, end: str) -> str:
    """The dashboard opened on one panel, for a person to click."""
    query = urlencode({"viewPanel": panel.id, "from": start, "to": end})
    return f"{base_url}/d/{dashboard.uid}/{dashboard.slug}?{query}"


def render_url(
    base_url: str, dashboard: Dashboard, panel: Panel, *, start: str, end: str, width: int, height: int
) -> str:
    """The panel as a PNG from the image renderer (which must be installed for it to answer)."""
    query = urlencode({"panelId": panel.id, "from": start, "to": end, "width": width, "height": height})
    return f"{base_url}/render/d-solo/{dashboard.uid}/{dashboard.slug}?{query}"


def _panels(dashboard: JSON) -> Iterator[JSON]:
    """Panels at the top level, inside collapsed rows, and in pre-5.0 `rows` (schema < 16)."""
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []
    for row in dashboard.get("rows") or []:
        yield from row.get("panels") or []


def _slug(title: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))
