"""The gitlab tool's actions through the real client against the fake GitLab REST API v4."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.git_remote import BareRemote
from tests.fakes.gitlab import FakeGitLab
from tests.integration.tools.git.support import git_registry
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.gitlab import actions, toolset
from tools.gitlab.client import GitLabClient

APP = "platform/deploy/checkout"
# The client's calls (and so its messages) name the URL-encoded path; the fake's request log and
# fault prefixes see the path as aiohttp decodes it.
ENCODED = "/projects/platform%2Fdeploy%2Fcheckout"
MRS = f"/api/v4/projects/{APP}/merge_requests"
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


@pytest.fixture
async def gitlab() -> AsyncIterator[FakeGitLab]:
    async with FakeGitLab() as fake:
        fake.add_project(APP)
        yield fake


@pytest.fixture
async def client(gitlab: FakeGitLab) -> AsyncIterator[GitLabClient]:
    client = GitLabClient.create(token=gitlab.token, url=gitlab.url, timeout=2.0, retry=FAST_RETRY)
    yield client
    await client.close()


@pytest.fixture
def registry(client: GitLabClient) -> Registry:
    return Registry(actions(client))


async def run(registry: Registry, name: str, raw: dict[str, Any], *, dry_run: bool = False) -> ActionResult:
    action: Action[Any] = registry.get(name)
    args = action.parse_args(raw)
    return await (action.dry_run(args) if dry_run else action.run(args))


async def failure(registry: Registry, name: str, raw: dict[str, Any], *, dry_run: bool = False) -> ToolError:
    with pytest.raises(ToolError) as raised:
        await run(registry, name, raw, dry_run=dry_run)
    return raised.value


def open_args(**extra: Any) -> dict[str, Any]:
    return {
        "project": APP,
        "source_branch": "bump/1.5.0",
        "target_branch": "main",
        "title": "Bump to 1.5.0",
        **extra,
    }


async def opened(registry: Registry, gitlab: FakeGitLab) -> int:
    gitlab.add_commits(APP, "bump/1.5.0")
    result = await run(registry, "gitlab.open_merge_request", open_args())
    return int(result.data["iid"])


async def test_open_merge_request_addresses_the_project_by_encoded_path_and_rolls_back_by_closing(
    registry: Registry, gitlab: FakeGitLab
) -> None:
    gitlab.add_commits(APP, "bump/1.5.0")
    action = registry.get("gitlab.open_merge_request")
    args = action.parse_args(open_args(description="Image tag bump", remove_source_branch=True))

    rehearsal = await action.dry_run(args)
    assert rehearsal.summary == "dry run: would open a merge request bump/1.5.0 → main"
    assert gitlab.projects[APP].merge_requests == {}
    result = await action.run(args)

    assert result.summary == (
        f"opened {APP}!1 bump/1.5.0 → main: https://gitlab.example/{APP}/-/merge_requests/1"
    )
    sent = gitlab.calls("POST", MRS)[0]
    assert sent.headers["PRIVATE-TOKEN"] == gitlab.token
    assert sent.body == {
        "source_branch": "bump/1.5.0",
        "target_branch": "main",
        "title": "Bump to 1.5.0",
        "description": "Image tag bump",
        "remove_source_branch": True,
    }
    assert gitlab.calls("GET", f"/api/v4/projects/{APP}/repository/branches/bump/1.5.0")

    step = action.rollback(args, result)
    assert (step.action, step.args) == ("gitlab.close_merge_request", {"project": APP, "iid": 1})
    closed = await run(registry, step.action, step.args)
    assert closed.summary == f"{APP}!1 opened → closed"
    assert gitlab.merge_request(APP, 1)["state"] == "closed"
    close = registry.get("gitlab.close_merge_request")
    reopen = close.rollback(close.parse_args(step.args), closed)
    assert reopen is not None
    await run(registry, reopen.action, reopen.args)
    assert gitlab.merge_request(APP, 1)["state"] == "opened"


async def test_a_raw_slash_in_the_project_path_would_not_reach_the_project(gitlab: FakeGitLab) -> None:
    client = GitLabClient.create(token=gitlab.token, url=gitlab.url, retry=FAST_RETRY)
    try:
        with pytest.raises(ToolError) as raised:
            await client.request("GET", f"/projects/{APP}/merge_requests/1")
    finally:
        await client.close()

    assert raised.value.message == (
        f"gitlab: GET /projects/{APP}/merge_requests/1 failed: not found: 404 Not Found"
    )


async def test_a_draft_is_opened_with_gitlabs_title_prefix(registry: Registry, gitlab: FakeGitLab) -> None:
    gitlab.add_commits(APP, "bump/1.5.0")

    result = await run(registry, "gitlab.open_merge_request", open_args(draft=True))

    assert gitlab.merge_request(APP, 1)["title"] == "Draft: Bump to 1.5.0"
    assert result.data["draft"] is True


async def test_a_duplicate_merge_request_is_refused_in_rehearsal_and_by_gitlab(
    registry: Registry, gitlab: FakeGitLab
) -> None:
    await opened(registry, gitlab)

    rehearsal = await failure(registry, "gitlab.open_merge_request", open_args(), dry_run=True)
    refused = await failure(registry, "gitlab.open_merge_request", open_args())

    assert rehearsal.message == f"gitlab: {APP}!1 already proposes bump/1.5.0 → main"
    assert refused.message == (
        f"gitlab: POST {ENCODED}/merge_requests failed: conflict: "
        "Another open merge request already exists for this source branch: !1"
    )
    assert refused.status == 409


async def test_a_missing_branch_is_named(registry: Registry) -> None:
    rehearsal = await failure(registry, "gitlab.open_merge_request", open_args(), dry_run=True)
    refused = await failure(registry, "gitlab.open_merge_request", open_args())

    assert rehearsal.message == (
        f"gitlab: GET {ENCODED}/repository/branches/bump%2F1.5.0 failed: not found: 404 Branch Not Found"
    )
    assert refused.message.endswith('conflict: Source branch "bump/1.5.0" does not exist')


async def test_status_reports_the_head_pipeline_and_reads_every_page_of_pipelines(
    registry: Registry, gitlab: FakeGitLab
) -> None:
    iid = await opened(registry, gitlab)
    for _ in range(104):
        gitlab.add_pipeline(APP, iid, "failed")
    head = gitlab.add_pipeline(APP, iid, "success")

    result = await run(registry, "gitlab.get_merge_request_status", {"project": APP, "iid": iid})

    assert result.summary == f"{APP}!1 opened, can be merged, pipeline #{head['id']} success"
    assert len(result.data["pipelines"]) == 105
    assert result.data["pipelines"][0]["id"] == head["id"]
    pages = [r.query.get("page") for r in gitlab.calls("GET", f"{MRS}/1/pipelines")]
    assert pages == ["1", "2"]


async def test_merge_sends_the_head_it_read(registry: Registry, gitlab: FakeGitLab) -> None:
    iid = await opened(registry, gitlab)
    head = gitlab.projects[APP].tip("bump/1.5.0")
    gitlab.add_pipeline(APP, iid, "success")
    raw = {"project": APP, "iid": iid, "squash": True, "expected_sha": head[:8]}

    rehearsal = await run(registry, "gitlab.merge_merge_request", raw, dry_run=True)
    result = await run(registry, "gitlab.merge_merge_request", raw)

    assert rehearsal.summary.startswith(f"dry run: {APP}!1 can be merged, pipeline #")
    merged = gitlab.merge_request(APP, iid)
    assert result.summary == f"merged {APP}!1 as {merged['merge_commit_sha'][:12]}"
    assert gitlab.calls("PUT", f"{MRS}/1/merge")[0].body == {
        "sha": head,
        "squash": True,
        "should_remove_source_branch": False,
    }
    assert merged["state"] == "merged"
    assert gitlab.projects[APP].tip("main") == merged["merge_commit_sha"]
    action = registry.get("gitlab.merge_merge_request")
    assert action.rollback(action.parse_args(raw), result) is None


VALUES = "apps/checkout/prod/values.yaml"
AUTHOR = {"author_name": "U0123ALICE1", "author_email": "U0123ALICE1@users.carapulse.invalid"}


@pytest.mark.parametrize("squash", [False, True])
async def test_a_merge_request_found_by_its_source_is_merged_and_rolled_back_by_reverting_what_landed(
    registry: Registry, gitlab: FakeGitLab, tmp_path: Path, squash: bool
) -> None:
    remote = BareRemote(tmp_path, {VALUES: "image:\n  tag: v1.4.1\n"})
    gitlab.add_project("platform/gitops", git=remote)
    git = git_registry(tmp_path)
    where = {"remote": remote.url, "branch": "deploy/checkout"}
    await run(git, "git.create_branch", {**where, "from_ref": "main"})
    change = {**where, "file": VALUES, "path": "image.tag", "value": "v1.4.2", **AUTHOR}
    await run(git, "git.set_value", change)
    opening = open_args(project="platform/gitops", source_branch="deploy/checkout")
    await run(registry, "gitlab.open_merge_request", opening)
    raw = {
        "project": "platform/gitops",
        "source_branch": "deploy/checkout",
        "squash": squash,
        "revert_via": {"remote": remote.url, **AUTHOR},
    }
    action = registry.get("gitlab.merge_merge_request")

    result = await action.run(action.parse_args(raw))

    assert result.data["landed_commit"] == remote.tip("main")
    assert len(remote.log("%P")[0].split()) == (1 if squash else 2)
    assert remote.show(VALUES) == "image:\n  tag: v1.4.2"
    step = action.rollback(action.parse_args(raw), result)
    assert step is not None
    assert (step.action, step.args["branch"], step.args["commit"]) == (
        "git.revert_commit",
        "main",
        remote.tip("main"),
    )
    await run(git, step.action, step.args)
    assert remote.show(VALUES) == "image:\n  tag: v1.4.1"
    close = registry.get("gitlab.close_merge_request")
    closing = close.parse_args({"project": "platform/gitops", "iid": 1})
    closed = await close.run(closing)
    assert closed.summary == "platform/gitops!1 is already merged"
    assert close.rollback(closing, closed) is None


async def test_a_merge_by_source_needs_exactly_one_open_merge_request(
    registry: Registry, gitlab: FakeGitLab
) -> None:
    by_source = {"project": APP, "source_branch": "bump/1.5.0"}
    error = await failure(registry, "gitlab.merge_merge_request", by_source)
    assert error.message == f"gitlab: {APP} has no open merge request from bump/1.5.0"

    await opened(registry, gitlab)
    gitlab.add_commits(APP, "release")
    await run(registry, "gitlab.open_merge_request", open_args(target_branch="release"))
    error = await failure(registry, "gitlab.merge_merge_request", by_source)
    assert error.message == f"gitlab: {APP} has 2 open merge requests from bump/1.5.0; name one by iid"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"status": "ci_must_pass"}, "its pipeline must succeed first"),
        ({"status": "not_approved"}, "it lacks required approvals"),
        ({"title": "Draft: Bump to 1.5.0"}, "it is a draft"),
    ],
)
async def test_a_merge_request_gitlab_will_not_merge_now_says_why(
    registry: Registry, gitlab: FakeGitLab, change: dict[str, Any], why: str
) -> None:
    iid = await opened(registry, gitlab)
    gitlab.merge_request(APP, iid).update(change)
    raw = {"project": APP, "iid": iid}

    rehearsal = await failure(registry, "gitlab.merge_merge_request", raw, dry_run=True)
    refused = await failure(registry, "gitlab.merge_merge_request", raw)

    assert rehearsal.message == f"gitlab: {APP}!1 cannot be merged: {why}"
    assert refused.message == f"gitlab: {APP}!1 cannot be merged: {why} (405 Method Not Allowed)"
    assert refused.status == 405


@pytest.mark.parametrize("status", [406, 422])
async def test_a_conflicting_merge_request_is_refused_with_gitlabs_words(
    registry: Registry, gitlab: FakeGitLab, status: int
) -> None:
    iid = await opened(registry, gitlab)
    gitlab.merge_request(APP, iid)["conflict"] = True
    gitlab.conflict_status = status

    rehearsal = await failure(
        registry, "gitlab.merge_merge_request", {"project": APP, "iid": iid}, dry_run=True
    )
    refused = await failure(registry, "gitlab.merge_merge_request", {"project": APP, "iid": iid})

    assert rehearsal.message == f"gitlab: {APP}!1 cannot be merged: it has merge conflicts"
    assert refused.message == f"gitlab: {APP}!1 cannot be merged: Branch cannot be merged"
    assert refused.status == status


async def test_a_source_branch_pushed_after_the_read_is_not_merged(
    registry: Registry, gitlab: FakeGitLab
) -> None:
    iid = await opened(registry, gitlab)
    reviewed = gitlab.projects[APP].tip("bump/1.5.0")
    gitlab.add_commits(APP, "bump/1.5.0")
    newer = gitlab.projects[APP].tip("bump/1.5.0")

    local = await failure(
        registry, "gitlab.merge_merge_request", {"project": APP, "iid": iid, "expected_sha": reviewed}
    )
    # GitLab's own guard, for a push that lands between our read and the merge call.
    gitlab.fail_next(
        409, {"message": f"SHA does not match HEAD of source branch: {newer}"}, path_prefix=f"{MRS}/1/merge"
    )
    remote = await failure(registry, "gitlab.merge_merge_request", {"project": APP, "iid": iid})

    assert local.message.startswith(f"gitlab: {APP}!1's source head is {newer[:12]}, not the reviewed")
    assert local.status == 409
    assert remote.message == (
        f"gitlab: {APP}!1's source branch changed since Carapulse read it "
        f"(SHA does not match HEAD of source branch: {newer}); review it and merge again"
    )
    assert gitlab.merge_request(APP, iid)["state"] == "opened"


async def test_a_token_that_may_not_merge_is_named(registry: Registry, gitlab: FakeGitLab) -> None:
    iid = await opened(registry, gitlab)
    gitlab.can_merge = False

    error = await failure(registry, "gitlab.merge_merge_request", {"project": APP, "iid": iid})

    assert error.message == f"gitlab: the token may not merge {APP}!1, or is not valid (401 Unauthorized)"


@pytest.mark.parametrize("target", ["merge_request", "issue"])
async def test_a_comment_is_posted_and_rolled_back_by_deleting_it(
    registry: Registry, gitlab: FakeGitLab, target: str
) -> None:
    iid = await opened(registry, gitlab) if target == "merge_request" else gitlab.add_issue(APP)
    action = registry.get("gitlab.add_comment")
    args = action.parse_args({"project": APP, "target": target, "iid": iid, "body": "Deployed to prod"})

    rehearsal = await action.dry_run(args)
    result = await action.run(args)

    mark = "!" if target == "merge_request" else "#"
    note_id = result.data["note_id"]
    assert rehearsal.summary == f"dry run: would comment on {APP}{mark}1 (opened)"
    assert result.summary == f"commented on {APP}{mark}1 (note {note_id})"
    kind = "merge_requests" if target == "merge_request" else "issues"
    assert gitlab.projects[APP].notes[(kind, 1)][note_id]["body"] == "Deployed to prod"
    step = action.rollback(args, result)
    assert step.args == {"project": APP, "target": target, "iid": iid, "note_id": note_id}
    await run(registry, step.action, step.args, dry_run=True)
    await run(registry, step.action, step.args)
    assert gitlab.projects[APP].notes[(kind, 1)] == {}
    gone = await failure(registry, step.action, step.args)
    assert gone.message.endswith("not found: 404 Note Not Found")


async def test_a_locked_discussion_cannot_be_commented_on(registry: Registry, gitlab: FakeGitLab) -> None:
    iid = gitlab.add_issue(APP, discussion_locked=True)
    raw = {"project": APP, "target": "issue", "iid": iid, "body": "hello"}

    rehearsal = await failure(registry, "gitlab.add_comment", raw, dry_run=True)
    refused = await failure(registry, "gitlab.add_comment", raw)

    assert rehearsal.message == f"gitlab: {APP}#1's discussion is locked"
    assert refused.message.endswith("failed: permission denied: 403 Forbidden")


async def test_a_bad_token_is_named(gitlab: FakeGitLab) -> None:
    client = GitLabClient.create(token="glpat-wrong", url=gitlab.url, retry=FAST_RETRY)
    try:
        error = await failure(
            Registry(actions(client)), "gitlab.get_merge_request_status", {"project": APP, "iid": 1}
        )
    finally:
        await client.close()

    assert error.message == (
        f"gitlab: GET {ENCODED}/merge_requests/1 failed: "
        "not authenticated (check the token): 401 Unauthorized"
    )
    assert error.status == 401


@pytest.mark.parametrize(
    ("project", "iid", "message"),
    [("platform/nope", 1, "404 Project Not Found"), (APP, 9, "404 Not found"), ("42", 9, "404 Not found")],
)
async def test_unknown_projects_and_merge_requests_are_not_found(
    registry: Registry, project: str, iid: int, message: str
) -> None:
    error = await failure(registry, "gitlab.get_merge_request_status", {"project": project, "iid": iid})

    assert error.message.endswith(f"failed: not found: {message}")
    assert error.status == 404


async def test_a_missing_parameter_is_gitlabs_error_sentence(client: GitLabClient) -> None:
    with pytest.raises(ToolError) as raised:
        await client.request("POST", f"{ENCODED}/merge_requests", json_body={"title": "x"})

    assert raised.value.message.endswith("failed: bad request: source_branch is missing")


async def test_a_spent_rate_limit_is_retried_for_reads_and_named_for_writes(
    registry: Registry, gitlab: FakeGitLab
) -> None:
    gitlab.add_commits(APP, "bump/1.5.0")
    gitlab.rate_remaining = 0
    gitlab.rate_reset = 0  # Retry-After: 0, so the read's retries do not wait

    read = await failure(registry, "gitlab.get_merge_request_status", {"project": APP, "iid": 1})
    write = await failure(registry, "gitlab.open_merge_request", open_args())

    assert read.message.endswith("failed: rate limited: Retry later; retry after 0s")
    assert len(gitlab.calls("GET", f"{MRS}/1")) == FAST_RETRY.attempts
    assert write.message == (
        f"gitlab: POST {ENCODED}/merge_requests failed: rate limited: Retry later; retry after 0s"
    )
    assert write.status == 429
    assert len(gitlab.calls("POST", MRS)) == 1
    assert gitlab.projects[APP].merge_requests == {}


async def test_a_slow_answer_times_out(gitlab: FakeGitLab) -> None:
    client = GitLabClient.create(
        token=gitlab.token, url=gitlab.url, timeout=0.3, retry=RetryPolicy(attempts=1)
    )
    gitlab.stall_next(2.0)
    try:
        error = await failure(
            Registry(actions(client)), "gitlab.get_merge_request_status", {"project": APP, "iid": 1}
        )
    finally:
        await client.close()

    assert error.message == f"gitlab: GET {ENCODED}/merge_requests/1 timed out after 0.3s"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("<!DOCTYPE html><h1>502</h1>", "answered with something that is not JSON"),
        ({"iid": 1, "state": "opened"}, "answered with an unexpected document (title: Field required)"),
    ],
)
async def test_a_malformed_answer_is_named(
    registry: Registry, gitlab: FakeGitLab, answer: Any, message: str
) -> None:
    gitlab.fail_next(200, answer, path_prefix=f"{MRS}/1")

    error = await failure(registry, "gitlab.get_merge_request_status", {"project": APP, "iid": 1})

    assert error.message == f"gitlab: GET {ENCODED}/merge_requests/1 {message}"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("gitlab.get_merge_request_status", {"project": "platform/../admin", "iid": 1}),
        ("gitlab.get_merge_request_status", {"project": "checkout", "iid": 1}),
        ("gitlab.get_merge_request_status", {"project": "platform/checkout?x=1", "iid": 1}),
        ("gitlab.get_merge_request_status", {"project": APP, "iid": 0}),
        ("gitlab.open_merge_request", open_args(source_branch="a..b")),
        ("gitlab.open_merge_request", open_args(title="")),
        ("gitlab.merge_merge_request", {"project": APP, "iid": 1, "expected_sha": "HEAD"}),
        ("gitlab.merge_merge_request", {"project": APP}),
        ("gitlab.merge_merge_request", {"project": APP, "iid": 1, "source_branch": "bump/1.5.0"}),
        ("gitlab.add_comment", {"project": APP, "target": "epic", "iid": 1, "body": "x"}),
        ("gitlab.add_comment", {"project": APP, "iid": 1, "body": ""}),
    ],
)
def test_bad_arguments_are_rejected_before_any_request(
    registry: Registry, name: str, raw: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        registry.get(name).parse_args(raw)


async def test_the_toolset_is_enabled_by_a_token_and_shares_one_client(gitlab: FakeGitLab) -> None:
    built = toolset({"GITLAB_TOKEN": gitlab.token, "GITLAB_URL": gitlab.url})

    assert built.status == f"enabled, {gitlab.url}"
    assert [action.name for action in built.actions] == [
        "gitlab.get_merge_request_status",
        "gitlab.open_merge_request",
        "gitlab.close_merge_request",
        "gitlab.reopen_merge_request",
        "gitlab.merge_merge_request",
        "gitlab.add_comment",
        "gitlab.delete_comment",
    ]
    client = built.actions[0].client  # type: ignore[attr-defined]
    assert all(action.client is client for action in built.actions)  # type: ignore[attr-defined]
    assert built.closers == [client.close]
    gitlab.add_commits(APP, "bump/1.5.0")
    await run(Registry(built.actions), "gitlab.open_merge_request", open_args())
    await built.aclose()
    assert gitlab.merge_request(APP, 1)["state"] == "opened"


def test_the_toolset_defaults_to_gitlab_com_and_names_bad_settings() -> None:
    assert toolset({"GITLAB_TOKEN": "glpat-x"}).status == "enabled, https://gitlab.com"
    with pytest.raises(NotConfigured, match="set GITLAB_TOKEN to enable"):
        toolset({"GITLAB_URL": "https://gitlab.example"})
    with pytest.raises(ToolError, match=re.escape("gitlab: GITLAB_URL: ")):
        toolset({"GITLAB_TOKEN": "glpat-x", "GITLAB_URL": "gitlab.example"})
