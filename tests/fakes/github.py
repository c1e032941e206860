"""A fake GitHub REST API v3 on loopback, at GitHub's paths: pulls (list, create, get, update, merge),
compare, commit statuses and check runs, deployments and their statuses, workflow dispatches, issue
comments and /rate_limit.

It answers like GitHub: Bearer-token auth ("Bad credentials"), `{"message", "documentation_url"}`
errors with `errors` on a 422, the merge endpoint's 405 and 409, Link-header pagination, and
x-ratelimit-* headers on every answer, with a 403 once the budget is spent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes.git_remote import BareRemote
from tests.fakes.github_state import (
    BOT_USER,
    DOCS,
    JSON,
    FakeRepository,
    GitHubError,
    Workflow,
    find_workflow,
    json_body,
    new_id,
    new_sha,
    not_found,
    now,
    page_of,
    path_int,
    pull_number,
    validation_failed,
)
from tests.fakes.http_stall import StallingHttpServer

_REPO = "/repos/{owner}/{repo}"
_MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
_RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
_DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
_MERGER = ("GitHub", "noreply@github.com")
RepoHandler = Callable[[web.Request, FakeRepository], Awaitable[web.StreamResponse]]


class FakeGitHub(StallingHttpServer):
    def __init__(
        self, *, token: str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a", rate_limit: int = 5000
    ) -> None:
        super().__init__()
        self.token = token
        self.repositories: dict[str, FakeRepository] = {}
        self.rate_limit = rate_limit
        self.rate_remaining = rate_limit
        self.rate_reset = int(time.time()) + 3600

    # Seeding, for tests.

    def add_repository(
        self, full_name: str, *, default_branch: str = "main", git: BareRemote | None = None
    ) -> FakeRepository:
        """A repository with one made-up commit, or the real history of `git`."""
        owner, name = full_name.split("/")
        branches = {} if git else {default_branch: [new_sha()]}
        repository = FakeRepository(owner, name, default_branch, branches=branches, git=git)
        self.repositories[full_name] = repository
        return repository

    def add_commits(self, full_name: str, branch: str, *, count: int = 1, start: str | None = None) -> str:
        """Push `count` new commits to `branch`, creating it from `start` (default branch) if needed."""
        repository = self.repositories[full_name]
        if branch not in repository.branches:
            repository.branches[branch] = list(repository.branches[start or repository.default_branch])
        repository.branches[branch] += [new_sha() for _ in range(count)]
        return repository.branches[branch][-1]

    def set_status(self, full_name: str, ref: str, context: str, state: str) -> None:
        repository = self.repositories[full_name]
        sha = repository.resolve(ref)
        status = {"id": new_id(), "state": state, "context": context, "description": f"{context} {state}"}
        repository.statuses.setdefault(sha, {})[context] = status | {
            "target_url": f"https://ci.example/{sha}"
        }

    def add_check_run(
        self, full_name: str, ref: str, name: str, *, status: str, conclusion: str | None
    ) -> None:
        repository = self.repositories[full_name]
        sha = repository.resolve(ref)
        run = {"id": new_id(), "head_sha": sha, "name": name, "status": status, "conclusion": conclusion}
        repository.check_runs.setdefault(sha, []).append(
            run | {"html_url": f"{repository.html_url}/runs/{run['id']}"}
        )

    def add_workflow(self, full_name: str, file: str, name: str, **fields: Any) -> Workflow:
        workflow = Workflow(id=new_id(), file=file, name=name, **fields)
        self.repositories[full_name].workflows[file] = workflow
        return workflow

    def add_issue(self, full_name: str, *, title: str = "Checkout is slow", locked: bool = False) -> int:
        repository = self.repositories[full_name]
        number = repository.next_number()
        repository.issues[number] = {"title": title, "state": "open", "locked": locked, "pull": False}
        return number

    def pull(self, full_name: str, number: int) -> JSON:
        return self.repositories[full_name].pulls[number]

    # The server.

    def routes(self) -> list[web.RouteDef]:
        def on_repo(method: str, path: str, handler: RepoHandler) -> web.RouteDef:
            return self.route(method, _REPO + path, self._in_repository(handler))

        return [
            self.route("GET", "/rate_limit", self._rate_limit),
            on_repo("GET", "/pulls", self._list_pulls),
            on_repo("POST", "/pulls", self._create_pull),
            on_repo("GET", "/pulls/{number}", self._get_pull),
            on_repo("PATCH", "/pulls/{number}", self._update_pull),
            on_repo("PUT", "/pulls/{number}/merge", self._merge_pull),
            on_repo("GET", "/compare/{basehead}", self._compare),
            on_repo("GET", "/commits/{ref}/status", self._combined_status),
            on_repo("GET", "/commits/{ref}/check-runs", self._check_runs),
            on_repo("POST", "/deployments", self._create_deployment),
            on_repo("GET", "/deployments/{id}", self._get_deployment),
            on_repo("POST", "/deployments/{id}/statuses", self._create_deployment_status),
            on_repo("GET", "/actions/workflows/{workflow}", self._get_workflow),
            on_repo("POST", "/actions/workflows/{workflow}/dispatches", self._dispatch),
            on_repo("GET", "/issues/comments/{id}", self._get_comment),
            on_repo("DELETE", "/issues/comments/{id}", self._delete_comment),
            on_repo("GET", "/issues/{number}", self._get_issue),
            on_repo("POST", "/issues/{number}/comments", self._create_comment),
        ]

    def check_auth(self, request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
            return web.json_response(
                {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}, status=401
            )
        if request.path == "/rate_limit":
            return None
        if self.rate_remaining <= 0:
            body = {
                "message": "API rate limit exceeded for user ID 41898282. If you reach out to GitHub Support "
                "for help, please include the request ID 0B12:3A4F:5C6D7E:8F90A1:66B2C3D4.",
                "documentation_url": _RATE_DOCS,
                "status": "403",
            }
            return web.json_response(body, status=403, headers=self._rate_headers())
        self.rate_remaining -= 1
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(self.rate_remaining),
            "x-ratelimit-used": str(self.rate_limit - self.rate_remaining),
            "x-ratelimit-reset": str(self.rate_reset),
            "x-ratelimit-resource": "core",
        }

    def _reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        all_headers = {**self._rate_headers(), **(headers or {})}
        if body is None:
            return web.Response(status=status, headers=all_headers)
        return web.json_response(body, status=status, headers=all_headers)

    def _in_repository(self, handler: RepoHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            full_name = f"{request.match_info['owner']}/{request.match_info['repo']}"
            try:
                repository = self.repositories.get(full_name)
                if repository is None:
                    raise not_found()
                if repository.git is not None:
                    repository.branches = await repository.git.branches()
                return await handler(request, repository)
            except GitHubError as error:
                return self._reply(error.document, error.status)

        return handle

    async def _rate_limit(self, request: web.Request) -> web.Response:
        core = {
            "limit": self.rate_limit,
            "remaining": self.rate_remaining,
            "used": self.rate_limit - self.rate_remaining,
            "reset": self.rate_reset,
        }
        return self._reply({"resources": {"core": core, "search": core, "graphql": core}, "rate": core})

    async def _list_pulls(self, request: web.Request, repository: FakeRepository) -> web.Response:
        state = request.query.get("state", "open")
        head = request.query.get("head")
        base = request.query.get("base")
        numbers = [
            number
            for number, pull in sorted(repository.pulls.items())
            if state in ("all", pull["state"])
            and (head is None or head == f"{repository.owner}:{pull['head']}")
            and (base is None or base == pull["base"])
        ]
        pulls = [repository.pull_json(n, self.url) for n in numbers]
        page, headers = page_of(request, self.url, pulls)
        return self._reply(page, headers=headers)

    async def _create_pull(self, request: web.Request, repository: FakeRepository) -> web.Response:
        body = await json_body(request)
        for required in ("head", "base", "title"):
            if not body.get(required):
                raise validation_failed(
                    {"resource": "PullRequest", "field": required, "code": "missing_field"}
                )
        head, base = body["head"].split(":")[-1], body["base"]
        for name, branch in (("base", base), ("head", head)):
            if branch not in repository.branches:
                raise validation_failed({"resource": "PullRequest", "field": name, "code": "invalid"})
        if not repository.ahead(base, head):
            raise validation_failed(
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head}",
                }
            )
        if any(
            p["head"] == head and p["base"] == base and p["state"] == "open"
            for p in repository.pulls.values()
        ):
            message = f"A pull request already exists for {repository.owner}:{head}."
            raise validation_failed({"resource": "PullRequest", "code": "custom", "message": message})
        number = repository.next_number()
        repository.issues[number] = {"title": body["title"], "state": "open", "locked": False, "pull": True}
        repository.pulls[number] = {
            "id": new_id(),
            "title": body["title"],
            "body": body.get("body"),
            "head": head,
            "head_sha": repository.tip(head),
            "base": base,
            "state": "open",
            "draft": bool(body.get("draft", False)),
            "mergeable": True,
            "mergeable_state": "draft" if body.get("draft") else "clean",
            "merge_commit_sha": None,
            "created_at": now(),
            "updated_at": now(),
            "closed_at": None,
            "merged_at": None,
        }
        return self._reply(repository.pull_json(number, self.url), 201)

    async def _get_pull(self, request: web.Request, repository: FakeRepository) -> web.Response:
        return self._reply(repository.pull_json(pull_number(request, repository), self.url))

    async def _update_pull(self, request: web.Request, repository: FakeRepository) -> web.Response:
        number = pull_number(request, repository)
        pull, body = repository.pulls[number], await json_body(request)
        state = body.get("state")
        if state is not None:
            if state not in ("open", "closed"):
                raise validation_failed({"resource": "PullRequest", "field": "state", "code": "invalid"})
            if pull["merged_at"] is not None and state != pull["state"]:
                message = "state cannot be changed. The pull request has already been merged."
                raise validation_failed(
                    {"resource": "PullRequest", "code": "custom", "field": "state", "message": message}
                )
            pull["state"] = state
            pull["closed_at"] = now() if state == "closed" else None
            repository.issues[number]["state"] = state
        pull.update({key: body[key] for key in ("title", "body") if key in body}, updated_at=now())
        return self._reply(repository.pull_json(number, self.url))

    async def _merge_pull(self, request: web.Request, repository: FakeRepository) -> web.Response:
        number = pull_number(request, repository)
        pull, body = repository.pulls[number], await json_body(request)
        if body.get("merge_method", "merge") not in ("merge", "squash", "rebase"):
            raise validation_failed({"resource": "PullRequest", "field": "merge_method", "code": "invalid"})
        mergeable = pull["mergeable"] and pull["mergeable_state"] in ("clean", "unstable", "has_hooks")
        if pull["state"] != "open" or not mergeable:
            raise GitHubError(405, "Pull Request is not mergeable", documentation_url=_MERGE_DOCS)
        head_sha = repository.tip(pull["head"])
        if body.get("sha") and body["sha"] != head_sha:
            message = "Head branch was modified. Review and try the merge again."
            raise GitHubError(409, message, documentation_url=_MERGE_DOCS)
        merge_commit = await self._merge(repository, number, body.get("merge_method", "merge"))
        pull.update(state="closed", merged_at=now(), closed_at=now(), merge_commit_sha=merge_commit)
        repository.issues[number]["state"] = "closed"
        return self._reply(
            {"sha": merge_commit, "merged": True, "message": "Pull Request successfully merged"}
        )

    async def _merge(self, repository: FakeRepository, number: int, method: str) -> str:
        pull = repository.pulls[number]
        base, head = pull["base"], pull["head"]
        if repository.git is None:
            merge_commit = new_sha()
            repository.branches[base] += [*repository.ahead(base, head), merge_commit]
            return merge_commit
        if method == "rebase":
            raise GitHubError(422, "this fake does not rebase into a git-backed repository")
        message = f"Merge pull request #{number} from {repository.owner}/{head}\n\n{pull['title']}"
        merged = await repository.git.merge(
            base, head, message=message, author=_MERGER, squash=method == "squash"
        )
        if merged is None:
            raise GitHubError(405, "Pull Request is not mergeable", documentation_url=_MERGE_DOCS)
        repository.branches = await repository.git.branches()
        return merged

    async def _compare(self, request: web.Request, repository: FakeRepository) -> web.Response:
        base, _, head = request.match_info["basehead"].partition("...")
        if base not in repository.branches or head not in repository.branches:
            raise not_found()
        ahead, behind = repository.ahead(base, head), repository.ahead(head, base)
        status = (
            "identical"
            if not (ahead or behind)
            else "diverged"
            if ahead and behind
            else "ahead"
            if ahead
            else "behind"
        )
        commits = [{"sha": sha, "commit": {"message": f"Commit {sha[:7]}"}} for sha in ahead]
        document = {
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": len(behind),
            "total_commits": len(ahead),
        }
        return self._reply(document | {"commits": commits, "files": []})

    async def _combined_status(self, request: web.Request, repository: FakeRepository) -> web.Response:
        sha = repository.resolve(request.match_info["ref"])
        statuses = list(repository.statuses.get(sha, {}).values())
        page, headers = page_of(request, self.url, statuses)
        document = {
            "state": repository.combined_status(sha),
            "statuses": page,
            "sha": sha,
            "total_count": len(statuses),
            "repository": {"full_name": repository.full_name},
        }
        return self._reply(document, headers=headers)

    async def _check_runs(self, request: web.Request, repository: FakeRepository) -> web.Response:
        runs = repository.check_runs.get(repository.resolve(request.match_info["ref"]), [])
        page, headers = page_of(request, self.url, runs)
        return self._reply({"total_count": len(runs), "check_runs": page}, headers=headers)

    async def _create_deployment(self, request: web.Request, repository: FakeRepository) -> web.Response:
        body = await json_body(request)
        ref = body.get("ref")
        if not ref:
            raise validation_failed({"resource": "Deployment", "field": "ref", "code": "missing_field"})
        try:
            sha = repository.resolve(ref)
        except GitHubError:
            raise GitHubError(422, f"No ref found for: {ref}") from None
        statuses = repository.statuses.get(sha, {})
        required = body.get("required_contexts", list(statuses))
        failing = [
            {"context": context, "state": statuses[context]["state"] if context in statuses else "missing"}
            for context in required
            if statuses.get(context, {}).get("state") != "success"
        ]
        if failing:
            error = {
                "contexts": failing,
                "resource": "Deployment",
                "field": "required_contexts",
                "code": "invalid",
            }
            raise GitHubError(409, f"Conflict: Commit status checks failed for {ref}.", errors=[error])
        deployment = self._deployment(repository, new_id(), sha, body)
        repository.deployments[deployment["id"]] = deployment
        return self._reply({k: v for k, v in deployment.items() if k != "auto_merge"}, 201)

    def _deployment(self, repository: FakeRepository, deployment_id: int, sha: str, body: JSON) -> JSON:
        environment = body.get("environment", "production")
        return {
            "url": f"{self.url}/repos/{repository.full_name}/deployments/{deployment_id}",
            "id": deployment_id,
            "node_id": f"DE_kwDO{deployment_id}",
            "sha": sha,
            "ref": body["ref"],
            "task": body.get("task", "deploy"),
            "payload": body.get("payload", {}),
            "original_environment": environment,
            "environment": environment,
            "description": body.get("description"),
            "creator": BOT_USER,
            "created_at": now(),
            "updated_at": now(),
            "transient_environment": False,
            "production_environment": environment == "production",
            "auto_merge": body.get("auto_merge", True),
        }

    async def _get_deployment(self, request: web.Request, repository: FakeRepository) -> web.Response:
        deployment = repository.deployments.get(path_int(request, "id"))
        if deployment is None:
            raise not_found()
        return self._reply({k: v for k, v in deployment.items() if k != "auto_merge"})

    async def _create_deployment_status(
        self, request: web.Request, repository: FakeRepository
    ) -> web.Response:
        deployment_id = path_int(request, "id")
        if deployment_id not in repository.deployments:
            raise not_found()
        body = await json_body(request)
        if body.get("state") not in _DEPLOYMENT_STATES:
            raise validation_failed({"resource": "DeploymentStatus", "field": "state", "code": "invalid"})
        status = {
            "id": new_id(),
            "state": body["state"],
            "description": body.get("description", ""),
            "environment": repository.deployments[deployment_id]["environment"],
            "environment_url": body.get("environment_url", ""),
            "log_url": body.get("log_url", ""),
            "creator": BOT_USER,
            "created_at": now(),
            "deployment_url": repository.deployments[deployment_id]["url"],
        }
        repository.deployment_statuses.setdefault(deployment_id, []).append(status)
        return self._reply(status, 201)

    async def _get_workflow(self, request: web.Request, repository: FakeRepository) -> web.Response:
        workflow = find_workflow(request, repository)
        return self._reply(
            {
                "id": workflow.id,
                "node_id": f"W_kwDO{workflow.id}",
                "name": workflow.name,
                "path": f".github/workflows/{workflow.file}",
                "state": workflow.state,
                "html_url": f"{repository.html_url}/blob/main/.github/workflows/{workflow.file}",
            }
        )

    async def _dispatch(self, request: web.Request, repository: FakeRepository) -> web.Response:
        workflow, body = find_workflow(request, repository), await json_body(request)
        if not workflow.dispatchable:
            raise GitHubError(422, "Workflow does not have 'workflow_dispatch' trigger")
        if workflow.state != "active":
            raise GitHubError(422, "Cannot trigger a 'workflow_dispatch' on a disabled workflow")
        if body.get("ref") not in repository.branches:
            raise GitHubError(422, f"No ref found for: {body.get('ref')}")
        inputs = body.get("inputs") or {}
        unexpected = sorted(set(inputs) - set(workflow.inputs))
        if unexpected:
            raise GitHubError(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
        missing = [name for name, required in workflow.inputs.items() if required and name not in inputs]
        if missing:
            raise GitHubError(422, f"Required input '{missing[0]}' not provided")
        repository.dispatches.append({"workflow": workflow.file, "ref": body["ref"], "inputs": inputs})
        return self._reply(None, 204)

    async def _get_issue(self, request: web.Request, repository: FakeRepository) -> web.Response:
        number = path_int(request, "number")
        issue = repository.issues.get(number)
        if issue is None:
            raise not_found()
        document = {
            "number": number,
            "title": issue["title"],
            "state": issue["state"],
            "locked": issue["locked"],
        }
        if issue["pull"]:
            document["pull_request"] = {"html_url": f"{repository.html_url}/pull/{number}"}
        return self._reply(document)

    async def _create_comment(self, request: web.Request, repository: FakeRepository) -> web.Response:
        number = path_int(request, "number")
        issue, body = repository.issues.get(number), await json_body(request)
        if issue is None:
            raise not_found()
        if issue["locked"]:
            raise GitHubError(403, "Unable to create comment because issue is locked.")
        if not body.get("body"):
            raise validation_failed({"resource": "IssueComment", "field": "body", "code": "missing_field"})
        comment_id = new_id()
        kind = "pull" if issue["pull"] else "issues"
        repository.comments[comment_id] = {
            "id": comment_id,
            "node_id": f"IC_kwDO{comment_id}",
            "html_url": f"{repository.html_url}/{kind}/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.url}/repos/{repository.full_name}/issues/{number}",
            "body": body["body"],
            "user": BOT_USER,
            "created_at": now(),
            "updated_at": now(),
            "author_association": "NONE",
        }
        return self._reply(repository.comments[comment_id], 201)

    async def _get_comment(self, request: web.Request, repository: FakeRepository) -> web.Response:
        comment = repository.comments.get(path_int(request, "id"))
        if comment is None:
            raise not_found()
        return self._reply(comment)

    async def _delete_comment(self, request: web.Request, repository: FakeRepository) -> web.Response:
        if repository.comments.pop(path_int(request, "id"), None) is None:
            raise not_found()
        return self._reply(None, 204)
