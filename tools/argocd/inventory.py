"""Every Argo CD application at once, with where it deploys and what it manages: the read the context
graph is built from (`argocd.get_app` tells one application's story in detail)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from tools.argocd.client import ArgoCDClient
from tools.argocd.state import JSON, AppState
from tools.common.base import Action, ActionArgs, ActionResult, Effect
from tools.common.wording import count

# The resources listed per application: enough to tie it to its workloads and Services.
RESOURCES_PER_APP = 100
ProjectName = Annotated[
    str, StringConstraints(min_length=1, max_length=253, pattern=r"^[a-z0-9][a-z0-9.-]*$")
]


class ListAppsArgs(ActionArgs):
    project: ProjectName | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 500


class ListApps(Action[ListAppsArgs]):
    name = "argocd.list_apps"
    description = "List Argo CD applications: sync and health, where they deploy, what they manage."
    args_model = ListAppsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    def __init__(self, client: ArgoCDClient) -> None:
        self.client = client

    async def run(self, args: ListAppsArgs) -> ActionResult:
        documents = await self.client.applications(project=args.project)
        apps = [_app(document) for document in documents[: args.limit]]
        health = Counter(app["health_status"] for app in apps)
        tally = ", ".join(f"{n} {status}" for status, n in sorted(health.items()))
        more = " (more not read)" if len(documents) > args.limit else ""
        return ActionResult(
            summary=f"{count(len(apps), 'application')}{more}" + (f": {tally}" if apps else ""),
            data={"apps": apps, "more": len(documents) > args.limit},
        )


def _app(document: JSON) -> dict[str, Any]:
    state = AppState.of(document)
    spec, status = document.get("spec") or {}, document.get("status") or {}
    destination = spec.get("destination") or {}
    resources = [
        {"kind": r.get("kind", ""), "namespace": r.get("namespace", ""), "name": r.get("name", "")}
        for r in (status.get("resources") or [])[:RESOURCES_PER_APP]
    ]
    return {
        "name": state.name,
        "app_namespace": str((document.get("metadata") or {}).get("namespace", "")),
        "project": state.project,
        "repo_url": state.repo_url,
        "path": state.path,
        "destination_namespace": str(destination.get("namespace", "")),
        "destination_server": str(destination.get("server") or destination.get("name") or ""),
        "sync_status": state.sync_status,
        "health_status": state.health_status,
        "revision": state.revision,
        "resources": resources,
    }
