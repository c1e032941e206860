"""A fake GitLab REST API v4 on loopback: merge requests (list, create, get, update, merge, pipelines),
branches, issues and notes, with projects addressed by id or by URL-encoded path.

It answers like GitLab: PRIVATE-TOKEN auth ("401 Unauthorized"), `{"message": ...}` errors (a string,
a list, or a field map) and `{"error": ...}` for missing parameters and unknown routes, the merge
endpoint's 401/405/406/409, X-Total/X-Next-Page pagination, and RateLimit-* headers with a plain-text
429 "Retry later" once the budget is spent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.git_remote import BareRemote
from tests.fakes.gitlab_state import (
    JSON,
    NOT_MERGEABLE_NOW,
    FakeProject,
    GitLabError,
    new_id,
    new_sha,
    now,
)
from tests.fakes.http_stall import StallingHttpServer

_PROJECT = "/api/v4/projects/{project}"
_NOTEABLE = "/{kind:merge_requests|issues}/{iid}"
_MERGER = ("Carapulse Bot", "project_42_bot@noreply.gitlab.example")
ProjectHandler = Callable[[web.Request, FakeProject], Awaitable[web.StreamResponse]]


class FakeGitLab(StallingHttpServer):
    def __init__(self, *, token: str = "glpat-Hq3xZ8bQ2mT6vN1cK9pR") -> None:
        super().__init__()
        self.token = token
        self.projects: dict[str, FakeProject] = {}
        self.rate_limit = 2000
        self.rate_remaining = 2000
        self.rate_reset = int(time.time()) + 60
        # Status of the merge endpoint for conflicts: 406 before GitLab 16.x, 422 after.
        self.conflict_status = 406
        self.can_merge = True

    # Seeding, for tests.

    def add_project(
        self, path: str, *, default_branch: str = "main", git: BareRemote | None = None
    ) -> FakeProject:
        """A project with one made-up commit, or the real history of `git`."""
        project = FakeProject(
            id=len(self.projects) + 42,
            path=path,
            web_url=f"https://gitlab.example/{path}",
            default_branch=default_branch,
            branches={} if git else {default_branch: [new_sha()]},
            git=git,
        )
        self.projects[path] = project
        return project

    def add_commits(self, path: str, branch: str, *, count: int = 1) -> str:
        project = self.projects[path]
        if branch not in project.branches:
            project.branches[branch] = list(project.branches[project.default_branch])
        project.branches[branch] += [new_sha() for _ in range(count)]
        return project.branches[branch][-1]

    def add_pipeline(self, path: str, iid: int, status: str) -> JSON:
        project = self.projects[path]
        mr = project.merge_requests[iid]
        pipeline = {
            "id": new_id(),
            "sha": project.tip(mr["source_branch"]),
            "ref": f"refs/merge-requests/{iid}/head",
            "status": status,
            "created_at": now(),
        }
        mr["pipelines"].append(pipeline)
        return pipeline

    def add_issue(self, path: str, *, discussion_locked: bool = False) -> int:
        project = self.projects[path]
        iid = max(project.issues, default=0) + 1
        project.issues[iid] = {"id": new_id(), "state": "opened", "discussion_locked": discussion_locked}
        return iid

    def merge_request(self, path: str, iid: int) -> JSON:
        return self.projects[path].merge_requests[iid]

    # The server.

    def routes(self) -> list[web.RouteDef]:
        def on_project(method: str, path: str, handler: ProjectHandler) -> web.RouteDef:
            return self.route(method, _PROJECT + path, self._in_project(handler))

        return [
            on_project("GET", "/merge_requests", self._list_merge_requests),
            on_project("POST", "/merge_requests", self._create_merge_request),
            on_project("GET", "/merge_requests/{iid}", self._get_merge_request),
            on_project("PUT", "/merge_requests/{iid}", self._update_merge_request),
            on_project("PUT", "/merge_requests/{iid}/merge", self._merge),
            on_project("GET", "/merge_requests/{iid}/pipelines", self._pipelines),
            on_project("GET", "/repository/branches/{branch}", self._branch),
            on_project("GET", "/issues/{iid}", self._get_issue),
            on_project("POST", _NOTEABLE + "/notes", self._create_note),
            on_project("GET", _NOTEABLE + "/notes/{note_id}", self._get_note),
            on_project("DELETE", _NOTEABLE + "/notes/{note_id}", self._delete_note),
            self.route("*", "/{anything:.*}", self._no_route),
        ]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("PRIVATE-TOKEN") != self.token:
            return web.json_response({"message": "401 Unauthorized"}, status=401)
        if self.rate_remaining <= 0:
            headers = {**self._rate_headers(), "Retry-After": str(max(0, self.rate_reset - int(time.time())))}
            return web.Response(status=429, text="Retry later\n", headers=headers)
        self.rate_remaining -= 1
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Observed": str(self.rate_limit - self.rate_remaining),
            "RateLimit-Remaining": str(self.rate_remaining),
            "RateLimit-Reset": str(self.rate_reset),
        }

    def _reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        all_headers = {**self._rate_headers(), **(headers or {})}
        if body is None:
            return web.Response(status=status, headers=all_headers)
        return web.json_response(body, status=status, headers=all_headers)

    def _in_project(self, handler: ProjectHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                project = self._project(request.match_info["project"])
                if project.git is not None:
                    project.branches = await project.git.branches()
                return await handler(request, project)
            except GitLabError as error:
                return self._reply(error.document, error.status)

        return handle

    def _project(self, key: str) -> FakeProject:
        """By numeric id, or by full path (the router has already decoded `group%2Fapp`)."""
        for project in self.projects.values():
            if key in (project.path, str(project.id)):
                return project
        raise GitLabError(404, "404 Project Not Found")

    def _page(self, request: web.Request, items: list[JSON]) -> tuple[list[JSON], dict[str, str]]:
        per_page = min(int(request.query.get("per_page", "20")), 100)
        page = int(request.query.get("page", "1"))
        pages = max(1, math.ceil(len(items) / per_page))
        headers = {
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Per-Page": str(per_page),
            "X-Page": str(page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        if page < pages:
            query = urlencode({**request.query, "page": str(page + 1)})
            headers["Link"] = f'<{self.url}{request.raw_path.split("?")[0]}?{query}>; rel="next"'
        return items[(page - 1) * per_page : page * per_page], headers

    async def _no_route(self, request: web.Request) -> web.Response:
        return self._reply({"error": "404 Not Found"}, 404)

    async def _list_merge_requests(self, request: web.Request, project: FakeProject) -> web.Response:
        query = request.query
        found = [
            project.merge_request_json(iid)
            for iid in sorted(project.merge_requests, reverse=True)
            if query.get("state", "all") in ("all", project.merge_requests[iid]["state"])
            and query.get("source_branch", project.merge_requests[iid]["source_branch"])
            == project.merge_requests[iid]["source_branch"]
            and query.get("target_branch", project.merge_requests[iid]["target_branch"])
            == project.merge_requests[iid]["target_branch"]
        ]
        page, headers = self._page(request, found)
        return self._reply(page, headers=headers)

    async def _create_merge_request(self, request: web.Request, project: FakeProject) -> web.Response:
        body = await _json(request)
        for required in ("source_branch", "target_branch", "title"):
            if not body.get(required):
                raise GitLabError(400, error=f"{required} is missing")
        source, target = body["source_branch"], body["target_branch"]
        problems = [
            f'{side.capitalize()} branch "{branch}" does not exist'
            for side, branch in (("source", source), ("target", target))
            if branch not in project.branches
        ]
        if source == target:
            problems.append("You can't use same project/branch for source and target")
        duplicate = next(
            (
                iid
                for iid, mr in project.merge_requests.items()
                if mr["state"] == "opened" and mr["source_branch"] == source and mr["target_branch"] == target
            ),
            None,
        )
        if duplicate is not None:
            problems.append(f"Another open merge request already exists for this source branch: !{duplicate}")
        if problems:
            raise GitLabError(409, problems)
        iid = max(project.merge_requests, default=0) + 1
        project.merge_requests[iid] = {
            "id": new_id(),
            "title": body["title"],
            "description": body.get("description"),
            "source_branch": source,
            "target_branch": target,
            "sha": project.tip(source),
            "state": "opened",
            "status": "mergeable",
            "conflict": False,
            "discussion_locked": None,
            "squash": False,
            "remove_source_branch": bool(body.get("remove_source_branch")),
            "merge_commit_sha": None,
            "pipelines": [],
            "created_at": now(),
            "updated_at": now(),
            "merged_at": None,
            "closed_at": None,
        }
        return self._reply(project.merge_request_json(iid), 201)

    async def _get_merge_request(self, request: web.Request, project: FakeProject) -> web.Response:
        return self._reply(project.merge_request_json(_iid(request, project.merge_requests)))

    async def _update_merge_request(self, request: web.Request, project: FakeProject) -> web.Response:
        iid = _iid(request, project.merge_requests)
        mr, body = project.merge_requests[iid], await _json(request)
        event = body.get("state_event")
        if event is not None and event not in ("close", "reopen"):
            raise GitLabError(400, error="state_event does not have a valid value")
        if event == "close" and mr["state"] == "opened":
            mr.update(state="closed", closed_at=now())
        elif event == "reopen" and mr["state"] == "closed":
            mr.update(state="opened", closed_at=None)
        mr.update({key: body[key] for key in ("title", "description") if key in body}, updated_at=now())
        return self._reply(project.merge_request_json(iid))

    async def _merge(self, request: web.Request, project: FakeProject) -> web.Response:
        """GitLab's order: permission (401), mergeable state (405), conflicts (406/422), then `sha` (409)."""
        iid = _iid(request, project.merge_requests)
        mr, body = project.merge_requests[iid], await _json(request)
        if not self.can_merge:
            raise GitLabError(401, "401 Unauthorized")
        if project.detailed_merge_status(iid) in NOT_MERGEABLE_NOW:
            raise GitLabError(405, "405 Method Not Allowed")
        if mr["conflict"]:
            raise GitLabError(self.conflict_status, "Branch cannot be merged")
        head = project.tip(mr["source_branch"])
        if body.get("sha") and body["sha"] != head:
            raise GitLabError(409, f"SHA does not match HEAD of source branch: {head}")
        squash = bool(body.get("squash"))
        landed = await self._land(project, iid, squash=squash)
        if project.git is not None and body.get("should_remove_source_branch"):
            await project.git.delete_branch(mr["source_branch"])
            project.branches = await project.git.branches()
        mr.update(state="merged", merged_at=now(), squash=squash)
        mr["squash_commit_sha" if squash and project.git else "merge_commit_sha"] = landed
        return self._reply(project.merge_request_json(iid))

    async def _land(self, project: FakeProject, iid: int, *, squash: bool) -> str:
        """The commit the merge leaves on the target branch: a merge commit, or in a real repository
        with `squash` a single squashed commit."""
        mr = project.merge_requests[iid]
        source, target = mr["source_branch"], mr["target_branch"]
        if project.git is None:
            merge_commit = new_sha()
            history = project.branches[target]
            history += [sha for sha in project.branches[source] if sha not in history] + [merge_commit]
            return merge_commit
        message = (
            f"Merge branch '{source}' into '{target}'\n\n{mr['title']}\n\n"
            f"See merge request {project.path}!{iid}"
        )
        landed = await project.git.merge(target, source, message=message, author=_MERGER, squash=squash)
        if landed is None:
            raise GitLabError(self.conflict_status, "Branch cannot be merged")
        project.branches = await project.git.branches()
        return landed

    async def _pipelines(self, request: web.Request, project: FakeProject) -> web.Response:
        mr = project.merge_requests[_iid(request, project.merge_requests)]
        newest_first = [project.pipeline_json(p) for p in reversed(mr["pipelines"])]
        page, headers = self._page(request, newest_first)
        return self._reply(page, headers=headers)

    async def _branch(self, request: web.Request, project: FakeProject) -> web.Response:
        name = request.match_info["branch"]
        tip = project.tip(name)
        if tip is None:
            raise GitLabError(404, "404 Branch Not Found")
        commit = {"id": tip, "short_id": tip[:8], "title": f"Commit {tip[:8]}"}
        return self._reply({"name": name, "commit": commit, "merged": False, "protected": name == "main"})

    async def _get_issue(self, request: web.Request, project: FakeProject) -> web.Response:
        iid = _iid(request, project.issues)
        issue = project.issues[iid]
        return self._reply(
            {
                "id": issue["id"],
                "iid": iid,
                "project_id": project.id,
                "state": issue["state"],
                "discussion_locked": issue["discussion_locked"],
                "web_url": f"{project.web_url}/-/issues/{iid}",
            }
        )

    async def _create_note(self, request: web.Request, project: FakeProject) -> web.Response:
        kind, iid = self._noteable(request, project)
        body = await _json(request)
        if not body.get("body"):
            raise GitLabError(400, error="body is missing")
        noteable = project.merge_requests[iid] if kind == "merge_requests" else project.issues[iid]
        if noteable.get("discussion_locked"):
            raise GitLabError(403, "403 Forbidden")
        note = {"id": new_id(), "body": body["body"], "created_at": now()}
        project.notes.setdefault((kind, iid), {})[note["id"]] = note
        return self._reply(project.note_json(kind, iid, note), 201)

    async def _get_note(self, request: web.Request, project: FakeProject) -> web.Response:
        kind, iid = self._noteable(request, project)
        note = project.notes.get((kind, iid), {}).get(_int(request, "note_id"))
        if note is None:
            raise GitLabError(404, "404 Note Not Found")
        return self._reply(project.note_json(kind, iid, note))

    async def _delete_note(self, request: web.Request, project: FakeProject) -> web.Response:
        kind, iid = self._noteable(request, project)
        if project.notes.get((kind, iid), {}).pop(_int(request, "note_id"), None) is None:
            raise GitLabError(404, "404 Note Not Found")
        return self._reply(None, 204)

    def _noteable(self, request: web.Request, project: FakeProject) -> tuple[str, int]:
        kind = request.match_info["kind"]
        return kind, _iid(request, project.merge_requests if kind == "merge_requests" else project.issues)


async def _json(request: web.Request) -> JSON:
    if not await request.read():
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise GitLabError(400, error="400 Bad request - invalid JSON") from None
    if not isinstance(body, dict):
        raise GitLabError(400, error="400 Bad request - invalid JSON")
    return body


def _int(request: web.Request, key: str) -> int:
    try:
        return int(request.match_info[key])
    except ValueError:
        raise GitLabError(404, error="404 Not Found") from None


def _iid(request: web.Request, found: dict[int, JSON]) -> int:
    iid = _int(request, "iid")
    if iid not in found:
        raise GitLabError(404, "404 Not found")
    return iid
