"""Grafana over its HTTP API with a service-account token: annotate a deploy or an incident on a
dashboard panel (or organisation-wide), find dashboards, and build a panel's link for the plan card.

An annotation is undone by deleting it by the id Grafana returned. A dashboard or panel named in an
annotation is checked first, because Grafana silently turns an unknown dashboard UID into an
organisation-wide annotation.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from tools.common.base import (
    Action,
    ActionResult,
    ArgsT,
    Effect,
    Rehearsed,
    RiskHint,
    RollbackStep,
    ToolError,
)
from tools.grafana.args import AnnotateArgs, AnnotationArgs, PanelLinkArgs, SearchArgs
from tools.grafana.client import JSON, GrafanaClient
from tools.grafana.links import Dashboard, Panel, epoch_ms, panel_url, render_url

_SHOWN = 60


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


class Annotate(Rehearsed, _GrafanaAction[AnnotateArgs]):
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

    async def rehearse(self, args: AnnotateArgs) -> ActionResult:
        target = await self._target(args)
        body = _annotation_body(args)
        summary = f"would annotate {target}: {_shown(args.text)}"
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


class DeleteAnnotation(Rehearsed, _GrafanaAction[AnnotationArgs]):
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

    async def rehearse(self, args: AnnotationArgs) -> ActionResult:
        found = await self.client.annotation(args.annotation_id)
        if found is None:
            summary = f"annotation {args.annotation_id} is already gone"
        else:
            summary = f"would delete annotation {args.annotation_id}: {_shown(str(found.get('text', '')))}"
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


def _shown(text: str) -> str:
    """The annotation's first line, shortened for the card."""
    line = text.splitlines()[0] if text else ""
    if len(line) > _SHOWN:
        return line[: _SHOWN - 1] + "…"
    return f"{line} …" if "\n" in text.strip() else line
