"""Grafana over its HTTP API with a service-account token: annotate a deploy or an incident on a
dashboard panel (or organisation-wide), find dashboards, and build a panel's link for the plan card.

An annotation is undone by deleting it by the id Grafana returned. A dashboard or panel named in an
annotation is checked first, because Grafana silently turns an unknown dashboard UID into an
organisation-wide annotation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    HttpUrl,
    SecretStr,
    StringConstraints,
    model_validator,
)

from tools.common.base import (
    Action,
    ActionArgs,
    ActionResult,
    ArgsT,
    Effect,
    RiskHint,
    RollbackStep,
    ToolError,
)
from tools.common.http import HttpStatusError, JsonHttpClient
from tools.common.retries import RetryPolicy
from tools.common.toolset import Toolset, ToolSettings, read_settings
from tools.grafana.links import Dashboard, Panel, epoch_ms, panel_url, render_url, time_param

JSON = dict[str, Any]
DashboardUid = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
PanelId = Annotated[int, Field(ge=1)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
GrafanaTime = Annotated[str, BeforeValidator(time_param)]
Pixels = Annotated[int, Field(ge=100, le=4000)]
_SHOWN = 60


class AnnotateArgs(ActionArgs):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    tags: Annotated[tuple[Tag, ...], Field(max_length=20)] = ()
    dashboard_uid: DashboardUid | None = None
    panel_id: PanelId | None = None
    # None: now. A region annotation also has an end.
    time: AwareDatetime | None = None
    time_end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.panel_id is not None and self.dashboard_uid is None:
            raise ValueError("panel_id needs the dashboard_uid it belongs to")
        if self.time_end is not None and self.time_end <= (self.time or datetime.now(UTC)):
            raise ValueError("time_end must be after time")
        return self


class AnnotationArgs(ActionArgs):
    annotation_id: Annotated[int, Field(ge=1)]


class SearchArgs(ActionArgs):
    query: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    tags: Annotated[tuple[Tag, ...], Field(max_length=10)] = ()
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class PanelLinkArgs(ActionArgs):
    dashboard_uid: DashboardUid
    panel_id: PanelId
    from_time: GrafanaTime = "now-1h"
    to_time: GrafanaTime = "now"
    width: Pixels = 1000
    height: Pixels = 500


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


class _GrafanaAction(Action[ArgsT]):
    def __init__(self, client: GrafanaClient) -> None:
        self.client = client

    async def _panel(self, uid: str, panel_id: int) -> tuple[Dashboard, Panel]:
        dashboard = await self.client.dashboard(uid)
        panel = dashboard.panel(panel_id)
        if panel is None:
            message = (
                f"dashboard {dashboard.title!r} has no panel {panel_id} (panels: {dashboard.panel_list()})"
            )
            raise ToolError(message, call=f"GET /api/dashboards/uid/{uid}", status=404)
        return dashboard, panel


class Annotate(_GrafanaAction[AnnotateArgs]):
    name = "grafana.annotate"
    description = "Add an annotation (a deploy, an incident) to a dashboard panel, or organisation-wide."
    args_model = AnnotateArgs
    effect = Effect.WRITE
    risk = RiskHint.LOW
    timeout_seconds = 30.0

    async def run(self, args: AnnotateArgs) -> ActionResult:
        target = await self._target(args)
        body = _annotation_body(args)
        annotation_id = await self.client.create_annotation(body)
        summary = f"annotated {target} (annotation {annotation_id}): {_shown(args.text)}"
        return ActionResult(summary=summary, data={"annotation_id": annotation_id, "target": target, **body})

    async def dry_run(self, args: AnnotateArgs) -> ActionResult:
        target = await self._target(args)
        body = _annotation_body(args)
        summary = f"dry run: would annotate {target}: {_shown(args.text)}"
        return ActionResult(summary=summary, data={"target": target, **body})

    def rollback(self, args: AnnotateArgs, result: ActionResult) -> RollbackStep:
        annotation_id = result.data["annotation_id"]
        return RollbackStep(
            action=DeleteAnnotation.name,
            args={"annotation_id": annotation_id},
            description=f"delete annotation {annotation_id} from {result.data['target']}",
        )

    async def _target(self, args: AnnotateArgs) -> str:
        """Where the annotation will show, after checking that the dashboard and panel exist."""
        if args.dashboard_uid is None:
            tagged = f" tagged {', '.join(args.tags)}" if args.tags else ""
            return f"the organisation{tagged}"
        if args.panel_id is None:
            return f"dashboard {(await self.client.dashboard(args.dashboard_uid)).title!r}"
        dashboard, panel = await self._panel(args.dashboard_uid, args.panel_id)
        return f"{dashboard.title!r} panel {panel.title or panel.id!r}"


class DeleteAnnotation(_GrafanaAction[AnnotationArgs]):
    name = "grafana.delete_annotation"
    description = "Delete an annotation by id (the rollback of grafana.annotate)."
    args_model = AnnotationArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: AnnotationArgs) -> ActionResult:
        deleted = await self.client.delete_annotation(args.annotation_id)
        summary = (
            f"deleted annotation {args.annotation_id}"
            if deleted
            else f"annotation {args.annotation_id} was already gone"
        )
        return ActionResult(summary=summary, data={"annotation_id": args.annotation_id, "deleted": deleted})

    async def dry_run(self, args: AnnotationArgs) -> ActionResult:
        found = await self.client.annotation(args.annotation_id)
        if found is None:
            summary = f"dry run: annotation {args.annotation_id} is already gone"
        else:
            summary = (
                f"dry run: would delete annotation {args.annotation_id}: {_shown(str(found.get('text', '')))}"
            )
        return ActionResult(
            summary=summary, data={"annotation_id": args.annotation_id, "exists": found is not None}
        )


class ListDashboards(_GrafanaAction[SearchArgs]):
    name = "grafana.list_dashboards"
    description = "Find Grafana dashboards by title words and tags."
    args_model = SearchArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: SearchArgs) -> ActionResult:
        hits = await self.client.search(args)
        dashboards = [
            {
                "uid": str(hit.get("uid", "")),
                "title": str(hit.get("title", "")),
                "folder": str(hit.get("folderTitle") or "General"),
                "tags": list(hit.get("tags") or []),
                "url": self.client.base_url + str(hit.get("url", "")),
            }
            for hit in hits
        ]
        wanted = ([repr(args.query)] if args.query else []) + [f"#{tag}" for tag in args.tags]
        matching = f" match {' '.join(wanted)}" if wanted else ""
        if not dashboards:
            return ActionResult(summary=f"no dashboards{matching}", data={"dashboards": []})
        listed = ", ".join(f"{d['title']} ({d['folder']}, {d['uid']})" for d in dashboards[:5])
        more = ", …" if len(dashboards) > 5 else ""
        summary = f"{len(dashboards)} dashboards{matching}: {listed}{more}"
        return ActionResult(summary=summary, data={"dashboards": dashboards})


class GetPanelLink(_GrafanaAction[PanelLinkArgs]):
    name = "grafana.get_panel_link"
    description = "Link to one dashboard panel over a time range, and its rendered PNG, for the plan card."
    args_model = PanelLinkArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: PanelLinkArgs) -> ActionResult:
        dashboard, panel = await self._panel(args.dashboard_uid, args.panel_id)
        base, window = self.client.base_url, {"start": args.from_time, "end": args.to_time}
        url = panel_url(base, dashboard, panel, **window)
        image = render_url(base, dashboard, panel, **window, width=args.width, height=args.height)
        return ActionResult(
            summary=f"{dashboard.title} / {panel.title or panel.id}: {url}",
            data={
                "dashboard": {k: v for k, v in asdict(dashboard).items() if k != "panels"},
                "panel": asdict(panel),
                "url": url,
                "render_url": image,
            },
        )


def actions(client: GrafanaClient) -> list[Action[Any]]:
    return [Annotate(client), DeleteAnnotation(client), ListDashboards(client), GetPanelLink(client)]


class GrafanaSettings(ToolSettings):
    url: HttpUrl = Field(alias="GRAFANA_URL")
    # A service-account token (glsa_…); its role decides what Carapulse may annotate.
    token: SecretStr = Field(alias="GRAFANA_TOKEN", min_length=1)


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: every action shares one client, closed with the toolset."""
    settings = read_settings("grafana", GrafanaSettings, environ, required="GRAFANA_URL")
    client = GrafanaClient.connect(str(settings.url), settings.token.get_secret_value())
    return Toolset(
        name="grafana", actions=actions(client), status=f"enabled, {client.base_url}", closers=[client.close]
    )


def _annotation_body(args: AnnotateArgs) -> JSON:
    """POST /api/annotations: times in epoch milliseconds; dashboardUID and panelId only when given."""
    body: JSON = {
        "text": args.text,
        "tags": list(args.tags),
        "time": epoch_ms(args.time or datetime.now(UTC)),
    }
    if args.time_end is not None:
        body["timeEnd"] = epoch_ms(args.time_end)
    if args.dashboard_uid is not None:
        body["dashboardUID"] = args.dashboard_uid
    if args.panel_id is not None:
        body["panelId"] = args.panel_id
    return body


def _error_message(body: Any) -> str | None:
    """Grafana's error document: {"message": "...", ...}."""
    return str(body["message"]) if isinstance(body, dict) and body.get("message") else None


def _shown(text: str) -> str:
    """The annotation's first line, shortened for the card."""
    line = text.splitlines()[0] if text else ""
    if len(line) > _SHOWN:
        return line[: _SHOWN - 1] + "…"
    return f"{line} …" if "\n" in text.strip() else line
