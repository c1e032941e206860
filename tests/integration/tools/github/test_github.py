"""The github tool's actions through the real client against the fake GitHub REST API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.git_remote import BareRemote
from tests.fakes.github import FakeGitHub
from tests.integration.tools.git.support import git_registry
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.common.wording import utc_clock
from tools.github import actions, toolset
from tools.github.client import GitHubClient

SHOP = "acme/shop"
PULLS = "/repos/acme/shop/pulls"
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub() as fake:
        fake.add_repository(SHOP)
        yield fake


@pytest.fixture
async def client(github: FakeGitHub) -> AsyncIterator[GitHubClient]:
    client = GitHubClient.create(token=github.token, api_url=github.url, timeout=2.0, retry=FAST_RETRY)
    yield client
    await client.close()


@pytest.fixture
def registry(client: GitHubClient) -> Registry:
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
    return {"repository": SHOP, "head": "release/1.5", "base": "main", "title": "Release 1.5", **extra}


async def opened(registry: Registry, github: FakeGitHub) -> int:
    github.add_commits(SHOP, "release/1.5", count=2)
    result = await run(registry, "github.open_pull_request", open_args(body="Bumps checkout to 1.5.0"))
    return int(result.data["number"])


async def test_open_pull_request_rehearses_then_opens_and_rolls_back_by_closing(
    registry: Registry, github: FakeGitHub
) -> None:
    github.add_commits(SHOP, "release/1.5", count=2)
    action = registry.get("github.open_pull_request")
    args = action.parse_args(open_args(body="Bumps checkout to 1.5.0"))

    rehearsal = await action.dry_run(args)
    assert rehearsal.summary == "dry run: would open a pull request release/1.5 → main (2 commits)"
    assert github.repositories[SHOP].pulls == {}
    result = await action.run(args)

    assert result.summary == "opened acme/shop#1 release/1.5 → main: https://github.com/acme/shop/pull/1"
    assert result.data["head_sha"] == github.repositories[SHOP].tip("release/1.5")
    sent = github.calls("POST", PULLS)[0]
    assert sent.body == {
        "title": "Release 1.5",
        "head": "release/1.5",
        "base": "main",
        "body": "Bumps checkout to 1.5.0",
        "draft": False,
    }
    assert sent.headers["Authorization"] == f"Bearer {github.token}"
    assert sent.headers["Accept"] == "application/vnd.github+json"
    assert sent.headers["X-GitHub-Api-Version"] == "2022-11-28"

    step = action.rollback(args, result)
    assert (step.action, step.args) == ("github.close_pull_request", {"repository": SHOP, "number": 1})
    closed = await run(registry, step.action, step.args)
    assert closed.summary == "acme/shop#1 open → closed"
    assert github.pull(SHOP, 1)["state"] == "closed"

    close = registry.get("github.close_pull_request")
    reopen = close.rollback(close.parse_args(step.args), closed)
    assert reopen is not None and reopen.action == "github.reopen_pull_request"
    await run(registry, reopen.action, reopen.args)
    assert github.pull(SHOP, 1)["state"] == "open"


async def test_closing_a_closed_pull_request_changes_nothing_and_needs_no_rollback(
    registry: Registry, github: FakeGitHub
) -> None:
    number = await opened(registry, github)
    await run(registry, "github.close_pull_request", {"repository": SHOP, "number": number})
    action = registry.get("github.close_pull_request")
    args = action.parse_args({"repository": SHOP, "number": number})

    again = await action.run(args)

    assert again.summary == "acme/shop#1 is already closed"
    assert action.rollback(args, again) is None
    assert len(github.calls("PATCH", f"{PULLS}/1")) == 1


async def test_opening_a_duplicate_pull_request_is_refused_in_rehearsal_and_by_github(
    registry: Registry, github: FakeGitHub
) -> None:
    await opened(registry, github)

    rehearsal = await failure(registry, "github.open_pull_request", open_args(), dry_run=True)
    refused = await failure(registry, "github.open_pull_request", open_args())

    assert rehearsal.message == "github: acme/shop#1 already proposes release/1.5 → main"
    assert refused.message == (
        "github: POST /repos/acme/shop/pulls failed: rejected: Validation Failed: "
        "A pull request already exists for acme:release/1.5."
    )
    assert refused.status == 422


async def test_a_head_without_new_commits_is_named(registry: Registry, github: FakeGitHub) -> None:
    github.add_commits(SHOP, "release/1.5", count=0)

    rehearsal = await failure(registry, "github.open_pull_request", open_args(), dry_run=True)
    refused = await failure(registry, "github.open_pull_request", open_args())

    assert rehearsal.message == "github: release/1.5 has no commits that main lacks"
    assert refused.message.endswith("Validation Failed: No commits between main and release/1.5")


async def test_a_missing_branch_is_not_found_in_rehearsal(registry: Registry) -> None:
    error = await failure(registry, "github.open_pull_request", open_args(head="nope"), dry_run=True)

    assert error.message == "github: GET /repos/acme/shop/compare/main...nope failed: not found: Not Found"
    assert error.status == 404


async def test_pull_request_status_reads_every_page_of_checks(registry: Registry, github: FakeGitHub) -> None:
    number = await opened(registry, github)
    for index in range(130):
        github.add_check_run(SHOP, "release/1.5", f"test-{index}", status="completed", conclusion="success")
    github.add_check_run(SHOP, "release/1.5", "lint", status="completed", conclusion="failure")
    github.add_check_run(SHOP, "release/1.5", "e2e", status="in_progress", conclusion=None)
    github.set_status(SHOP, "release/1.5", "ci/jenkins", "success")
    github.set_status(SHOP, "release/1.5", "security/scan", "pending")

    result = await run(registry, "github.get_pull_request_status", {"repository": SHOP, "number": number})

    assert result.summary == (
        "acme/shop#1 open, mergeable (clean), checks failure: 131 passed, 2 pending, 1 failed (lint)"
    )
    assert result.data["checks"]["pending"] == ["e2e", "security/scan"]
    head = github.repositories[SHOP].tip("release/1.5")
    pages = [r.query for r in github.calls("GET", f"/repos/acme/shop/commits/{head}/check-runs")]
    assert pages == [{"per_page": "100"}, {"per_page": "100", "page": "2"}]


async def test_a_next_page_on_another_host_is_never_followed(registry: Registry, github: FakeGitHub) -> None:
    github.add_commits(SHOP, "release/1.5")
    link = '<https://collector.example/repos/acme/shop/pulls?page=2>; rel="next"'
    github.fail_next(200, [], headers={"Link": link}, path_prefix=PULLS)

    error = await failure(registry, "github.open_pull_request", open_args(), dry_run=True)

    assert error.message.startswith(f"github: the next page is outside {github.url}")


async def test_merge_sends_the_head_it_read_and_reports_the_merge_commit(
    registry: Registry, github: FakeGitHub
) -> None:
    number = await opened(registry, github)
    head = github.repositories[SHOP].tip("release/1.5")
    github.set_status(SHOP, head, "ci/jenkins", "success")
    raw = {"repository": SHOP, "number": number, "merge_method": "squash", "expected_head_sha": head[:10]}

    rehearsal = await run(registry, "github.merge_pull_request", raw, dry_run=True)
    result = await run(registry, "github.merge_pull_request", raw)

    assert (
        rehearsal.summary
        == "dry run: acme/shop#1 can be merged (clean), checks success: 1 passed, 0 pending, 0 failed"
    )
    merge_commit = github.pull(SHOP, number)["merge_commit_sha"]
    assert result.summary == f"merged acme/shop#1 (squash) as {merge_commit[:12]}"
    assert github.calls("PUT", f"{PULLS}/1/merge")[0].body == {"merge_method": "squash", "sha": head}
    assert github.repositories[SHOP].tip("main") == merge_commit
    assert (
        registry.get("github.merge_pull_request").rollback(
            registry.get("github.merge_pull_request").parse_args(raw), result
        )
        is None
    )


VALUES = "apps/checkout/prod/values.yaml"
AUTHOR = {"author_name": "U0123ALICE1", "author_email": "U0123ALICE1@users.carapulse.invalid"}


async def test_a_pull_request_found_by_its_head_is_merged_and_rolled_back_by_reverting_the_merge(
    registry: Registry, github: FakeGitHub, tmp_path: Path
) -> None:
    remote = BareRemote(tmp_path, {VALUES: "image:\n  tag: v1.4.1\n"})
    github.add_repository("acme/gitops", git=remote)
    git = git_registry(tmp_path)
    where = {"remote": remote.url, "branch": "deploy/checkout"}
    await run(git, "git.create_branch", {**where, "from_ref": "main"})
    await run(
        git, "git.set_value", {**where, "file": VALUES, "path": "image.tag", "value": "v1.4.2", **AUTHOR}
    )
    await run(
        registry,
        "github.open_pull_request",
        {**open_args(head="deploy/checkout"), "repository": "acme/gitops"},
    )
    raw = {
        "repository": "acme/gitops",
        "head": "deploy/checkout",
        "revert_via": {"remote": remote.url, **AUTHOR},
    }
    action = registry.get("github.merge_pull_request")

    result = await action.run(action.parse_args(raw))

    assert result.data["merge_commit"] == remote.tip("main")
    assert remote.log("%s|%an|%P")[0].startswith("Merge pull request #1 from acme/deploy/checkout|GitHub|")
    assert remote.show(VALUES) == "image:\n  tag: v1.4.2"
    step = action.rollback(action.parse_args(raw), result)
    assert step is not None
    assert (step.action, step.args) == (
        "git.revert_commit",
        {"remote": remote.url, **AUTHOR, "branch": "main", "commit": result.data["merge_commit"]},
    )
    assert (
        step.description == f"revert {result.data['merge_commit'][:12]} (the merge of acme/gitops#1) on main"
    )
    await run(git, step.action, step.args)
    assert remote.show(VALUES) == "image:\n  tag: v1.4.1"
    closed = await run(registry, "github.close_pull_request", {"repository": "acme/gitops", "number": 1})
    assert closed.summary == "acme/gitops#1 is already closed (merged)"


async def test_a_merge_by_head_needs_exactly_one_open_pull_request(
    registry: Registry, github: FakeGitHub
) -> None:
    error = await failure(registry, "github.merge_pull_request", {"repository": SHOP, "head": "release/1.5"})
    assert error.message == "github: acme/shop has no open pull request from release/1.5"

    await opened(registry, github)
    github.add_commits(SHOP, "release", count=1)
    await run(registry, "github.open_pull_request", open_args(base="release"))
    error = await failure(registry, "github.merge_pull_request", {"repository": SHOP, "head": "release/1.5"})
    assert error.message == "github: acme/shop has 2 open pull requests from release/1.5; name one by number"


async def test_a_merge_without_revert_via_or_by_rebase_has_no_rollback(
    registry: Registry, github: FakeGitHub
) -> None:
    action = registry.get("github.merge_pull_request")
    via = {"remote": "file:///r.git", **AUTHOR}
    result = ActionResult(summary="merged", data={"number": 1, "base": "main", "merge_commit": "a" * 40})

    assert action.rollback(action.parse_args({"repository": SHOP, "number": 1}), result) is None
    rebase = {"repository": SHOP, "number": 1, "merge_method": "rebase", "revert_via": via}
    assert action.rollback(action.parse_args(rebase), result) is None


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"mergeable": False, "mergeable_state": "dirty"}, "it has merge conflicts"),
        ({"mergeable_state": "blocked"}, "required reviews or status checks are missing"),
        ({"state": "closed"}, "it is closed"),
    ],
)
async def test_an_unmergeable_pull_request_says_why(
    registry: Registry, github: FakeGitHub, fields: dict[str, Any], why: str
) -> None:
    number = await opened(registry, github)
    github.pull(SHOP, number).update(fields)
    raw = {"repository": SHOP, "number": number}

    rehearsal = await failure(registry, "github.merge_pull_request", raw, dry_run=True)
    refused = await failure(registry, "github.merge_pull_request", raw)

    assert rehearsal.message == refused.message == f"github: acme/shop#1 cannot be merged: {why}"
    assert refused.status == 405
    assert refused.call == "PUT /repos/acme/shop/pulls/1/merge"


async def test_a_head_pushed_after_review_is_not_merged(registry: Registry, github: FakeGitHub) -> None:
    number = await opened(registry, github)
    reviewed = github.repositories[SHOP].tip("release/1.5")
    github.add_commits(SHOP, "release/1.5")

    error = await failure(
        registry,
        "github.merge_pull_request",
        {"repository": SHOP, "number": number, "expected_head_sha": reviewed},
    )

    assert error.message.startswith(
        f"github: acme/shop#1's head is {github.repositories[SHOP].tip('release/1.5')[:12]}"
    )
    assert error.status == 409
    assert github.calls("PUT", f"{PULLS}/1/merge") == []


async def test_githubs_409_on_merge_is_a_head_changed_error(registry: Registry, github: FakeGitHub) -> None:
    number = await opened(registry, github)
    body = {"message": "Head branch was modified. Review and try the merge again.", "documentation_url": "x"}
    github.fail_next(409, body, path_prefix=f"{PULLS}/1/merge")

    error = await failure(registry, "github.merge_pull_request", {"repository": SHOP, "number": number})

    assert (
        error.message
        == "github: acme/shop#1's head changed since Carapulse read it; review it and merge again"
    )
    assert error.status == 409
    assert github.pull(SHOP, number)["merged_at"] is None


async def test_a_deployment_of_a_green_ref_is_created_without_auto_merge(
    registry: Registry, github: FakeGitHub
) -> None:
    github.set_status(SHOP, "main", "ci/jenkins", "success")
    raw = {
        "repository": SHOP,
        "ref": "main",
        "environment": "production",
        "payload": {"image": "checkout:1.5.0"},
    }

    rehearsal = await run(registry, "github.create_deployment", raw, dry_run=True)
    result = await run(registry, "github.create_deployment", raw)

    assert (
        rehearsal.summary
        == "dry run: would deploy main to production (statuses success: 1 passed, 0 pending, 0 failed)"
    )
    deployment = github.repositories[SHOP].deployments[result.data["id"]]
    assert deployment["auto_merge"] is False
    assert deployment["payload"] == {"image": "checkout:1.5.0"}
    assert (
        result.summary
        == f"created deployment {deployment['id']} of main ({deployment['sha'][:12]}) to production"
    )
    assert (
        registry.get("github.create_deployment").rollback(
            registry.get("github.create_deployment").parse_args(raw), result
        )
        is None
    )


async def test_a_deployment_with_failing_required_contexts_is_refused(
    registry: Registry, github: FakeGitHub
) -> None:
    github.set_status(SHOP, "main", "ci/jenkins", "failure")
    raw = {"repository": SHOP, "ref": "main"}

    rehearsal = await failure(registry, "github.create_deployment", raw, dry_run=True)
    refused = await failure(registry, "github.create_deployment", raw)
    forced = await run(registry, "github.create_deployment", {**raw, "required_contexts": []})

    assert rehearsal.message == "github: main cannot be deployed: ci/jenkins not successful"
    assert refused.message == (
        "github: POST /repos/acme/shop/deployments failed: conflict: "
        "Conflict: Commit status checks failed for main.: ci/jenkins is failure"
    )
    assert refused.status == 409
    assert github.calls("POST", "/repos/acme/shop/deployments")[-1].body["required_contexts"] == []
    assert forced.data["ref"] == "main"


async def test_deployment_statuses_are_recorded_and_unknown_deployments_named(
    registry: Registry, github: FakeGitHub
) -> None:
    deployment = await run(registry, "github.create_deployment", {"repository": SHOP, "ref": "main"})
    raw = {
        "repository": SHOP,
        "deployment_id": deployment.data["id"],
        "state": "success",
        "environment_url": "https://shop.example.com",
    }

    rehearsal = await run(registry, "github.create_deployment_status", raw, dry_run=True)
    result = await run(registry, "github.create_deployment_status", raw)
    missing = await failure(registry, "github.create_deployment_status", {**raw, "deployment_id": 1})

    assert (
        rehearsal.summary
        == f"dry run: would mark deployment {raw['deployment_id']} (main to production) success"
    )
    assert result.summary == f"deployment {raw['deployment_id']} is success"
    [status] = github.repositories[SHOP].deployment_statuses[raw["deployment_id"]]
    assert status["environment_url"] == "https://shop.example.com/"
    assert missing.status == 404


async def test_a_workflow_is_dispatched_with_string_inputs(registry: Registry, github: FakeGitHub) -> None:
    github.add_workflow(SHOP, "deploy.yml", "Deploy", inputs={"tag": True, "canary": False})
    raw = {
        "repository": SHOP,
        "workflow": "deploy.yml",
        "ref": "main",
        "inputs": {"tag": "1.5.0", "canary": True},
    }

    rehearsal = await run(registry, "github.dispatch_workflow", raw, dry_run=True)
    result = await run(registry, "github.dispatch_workflow", raw)

    assert rehearsal.summary == "dry run: would dispatch Deploy (.github/workflows/deploy.yml) on main"
    assert result.summary == "dispatched deploy.yml on main with tag=1.5.0, canary=true"
    assert github.repositories[SHOP].dispatches == [
        {"workflow": "deploy.yml", "ref": "main", "inputs": {"tag": "1.5.0", "canary": "true"}}
    ]


@pytest.mark.parametrize(
    ("workflow", "inputs", "message"),
    [
        ({"dispatchable": False}, {}, "Workflow does not have 'workflow_dispatch' trigger"),
        ({"inputs": {"tag": True}}, {}, "Required input 'tag' not provided"),
        ({}, {"colour": "blue"}, 'Unexpected inputs provided: ["colour"]'),
    ],
)
async def test_githubs_dispatch_refusals_are_passed_on(
    registry: Registry, github: FakeGitHub, workflow: dict[str, Any], inputs: dict[str, str], message: str
) -> None:
    github.add_workflow(SHOP, "deploy.yml", "Deploy", **workflow)
    raw = {"repository": SHOP, "workflow": "deploy.yml", "ref": "main", "inputs": inputs}

    error = await failure(registry, "github.dispatch_workflow", raw)

    assert error.message == (
        f"github: POST /repos/acme/shop/actions/workflows/deploy.yml/dispatches failed: rejected: {message}"
    )
    assert github.repositories[SHOP].dispatches == []


async def test_a_disabled_workflow_fails_its_rehearsal(registry: Registry, github: FakeGitHub) -> None:
    workflow = github.add_workflow(SHOP, "deploy.yml", "Deploy", state="disabled_manually")

    error = await failure(
        registry,
        "github.dispatch_workflow",
        {"repository": SHOP, "workflow": str(workflow.id), "ref": "main"},
        dry_run=True,
    )

    assert (
        error.message
        == "github: workflow .github/workflows/deploy.yml is disabled_manually, so it cannot run"
    )


async def test_a_comment_is_posted_and_rolled_back_by_deleting_it(
    registry: Registry, github: FakeGitHub
) -> None:
    number = await opened(registry, github)
    action = registry.get("github.add_comment")
    args = action.parse_args({"repository": SHOP, "number": number, "body": "Rolled out to prod :rocket:"})

    rehearsal = await action.dry_run(args)
    result = await action.run(args)

    comment_id = result.data["comment_id"]
    assert rehearsal.summary == "dry run: would comment on acme/shop#1 (open)"
    assert (
        result.summary
        == f"commented on acme/shop#1: https://github.com/acme/shop/pull/1#issuecomment-{comment_id}"
    )
    step = action.rollback(args, result)
    assert (step.action, step.args) == (
        "github.delete_comment",
        {"repository": SHOP, "comment_id": comment_id},
    )
    await run(registry, step.action, step.args, dry_run=True)
    await run(registry, step.action, step.args)
    assert github.repositories[SHOP].comments == {}
    gone = await failure(registry, step.action, step.args)
    assert gone.status == 404


async def test_a_locked_issue_cannot_be_commented_on(registry: Registry, github: FakeGitHub) -> None:
    number = github.add_issue(SHOP, locked=True)
    raw = {"repository": SHOP, "number": number, "body": "hello"}

    rehearsal = await failure(registry, "github.add_comment", raw, dry_run=True)
    refused = await failure(registry, "github.add_comment", raw)

    assert rehearsal.message == "github: acme/shop#1 is locked"
    assert refused.message == (
        "github: POST /repos/acme/shop/issues/1/comments failed: permission denied: "
        "Unable to create comment because issue is locked."
    )


async def test_a_bad_token_is_named(github: FakeGitHub) -> None:
    client = GitHubClient.create(token="ghp_wrong", api_url=github.url, retry=FAST_RETRY)
    try:
        error = await failure(
            Registry(actions(client)), "github.get_pull_request_status", {"repository": SHOP, "number": 1}
        )
    finally:
        await client.close()

    assert error.message == (
        "github: GET /repos/acme/shop/pulls/1 failed: not authenticated (check the token): Bad credentials"
    )
    assert error.status == 401


async def test_an_unknown_repository_or_pull_request_is_not_found(registry: Registry) -> None:
    repository = await failure(
        registry, "github.get_pull_request_status", {"repository": "acme/nope", "number": 1}
    )
    pull = await failure(registry, "github.get_pull_request_status", {"repository": SHOP, "number": 7})

    assert repository.message == "github: GET /repos/acme/nope/pulls/1 failed: not found: Not Found"
    assert pull.status == 404


async def test_a_spent_rate_limit_says_when_it_resets(registry: Registry, github: FakeGitHub) -> None:
    github.rate_remaining = 0

    error = await failure(registry, "github.get_pull_request_status", {"repository": SHOP, "number": 1})

    assert error.status == 403
    assert error.message == (
        "github: rate limited on GET /repos/acme/shop/pulls/1: API rate limit exceeded for user ID 41898282. "
        "If you reach out to GitHub Support for help, please include the request ID "
        "0B12:3A4F:5C6D7E:8F90A1:66B2C3D4.; "
        f"the limit of 5000 requests resets at {utc_clock(github.rate_reset)}"
    )
    assert len(github.calls("GET", f"{PULLS}/1")) == 1, "a 403 is not retried"


async def test_a_secondary_rate_limit_on_a_write_says_how_long_to_wait(
    registry: Registry, github: FakeGitHub
) -> None:
    github.add_commits(SHOP, "release/1.5")
    body = {
        "message": "You have exceeded a secondary rate limit. "
        "Please wait a few minutes before you try again.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    }
    github.fail_next(429, body, headers={"Retry-After": "60"}, path_prefix=PULLS)

    error = await failure(registry, "github.open_pull_request", open_args())

    assert error.message == (
        "github: rate limited on POST /repos/acme/shop/pulls: You have exceeded a secondary rate limit. "
        "Please wait a few minutes before you try again.; retry after 60s"
    )
    assert len(github.calls("POST", PULLS)) == 1, "a create is never repeated blindly"
    assert github.repositories[SHOP].pulls == {}


async def test_a_throttled_read_is_retried_after_retry_after(registry: Registry, github: FakeGitHub) -> None:
    number = await opened(registry, github)
    github.fail_next(
        429, {"message": "slow down"}, headers={"Retry-After": "0"}, times=2, path_prefix=f"{PULLS}/1"
    )

    result = await run(registry, "github.get_pull_request_status", {"repository": SHOP, "number": number})

    assert result.data["number"] == 1
    assert len(github.calls("GET", f"{PULLS}/1")) == 3


async def test_a_slow_answer_times_out(github: FakeGitHub) -> None:
    client = GitHubClient.create(
        token=github.token, api_url=github.url, timeout=0.3, retry=RetryPolicy(attempts=1)
    )
    github.stall_next(2.0)
    try:
        error = await failure(
            Registry(actions(client)), "github.get_pull_request_status", {"repository": SHOP, "number": 1}
        )
    finally:
        await client.close()

    assert error.message == "github: GET /repos/acme/shop/pulls/1 timed out after 0.3s"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "<html>Unicorn!</html>",
            "github: GET /repos/acme/shop/pulls/1 answered with something that is not JSON",
        ),
        (
            {"number": "one"},
            "github: GET /repos/acme/shop/pulls/1 answered with an unexpected document (number: ",
        ),
        (
            ["a list"],
            "github: GET /repos/acme/shop/pulls/1 answered with something that is not a JSON object",
        ),
    ],
)
async def test_a_malformed_answer_is_named(
    registry: Registry, github: FakeGitHub, answer: Any, message: str
) -> None:
    github.fail_next(200, answer, path_prefix=f"{PULLS}/1")

    error = await failure(registry, "github.get_pull_request_status", {"repository": SHOP, "number": 1})

    assert error.message.startswith(message)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("github.get_pull_request_status", {"repository": "acme/..", "number": 1}),
        ("github.get_pull_request_status", {"repository": "acme", "number": 1}),
        ("github.get_pull_request_status", {"repository": "acme/shop/x", "number": 1}),
        ("github.get_pull_request_status", {"repository": SHOP, "number": 0}),
        ("github.open_pull_request", open_args(head="-x")),
        ("github.open_pull_request", open_args(title="")),
        ("github.merge_pull_request", {"repository": SHOP, "number": 1, "merge_method": "octopus"}),
        ("github.merge_pull_request", {"repository": SHOP}),
        ("github.merge_pull_request", {"repository": SHOP, "number": 1, "head": "release/1.5"}),
        ("github.merge_pull_request", {"repository": SHOP, "number": 1, "revert_via": {"remote": "-x"}}),
        ("github.dispatch_workflow", {"repository": SHOP, "workflow": "../deploy.yml", "ref": "main"}),
        (
            "github.dispatch_workflow",
            {
                "repository": SHOP,
                "workflow": "deploy.yml",
                "ref": "main",
                "inputs": {f"i{n}": "x" for n in range(26)},
            },
        ),
        ("github.create_deployment_status", {"repository": SHOP, "deployment_id": 1, "state": "done"}),
        ("github.add_comment", {"repository": SHOP, "number": 1, "body": ""}),
    ],
)
def test_bad_arguments_are_rejected_before_any_request(
    registry: Registry, name: str, raw: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        registry.get(name).parse_args(raw)


async def test_the_toolset_is_enabled_by_a_token_and_closes_its_session(github: FakeGitHub) -> None:
    built = toolset({"GITHUB_TOKEN": github.token, "GITHUB_API_URL": github.url})

    assert built.status == f"enabled, API {github.url}"
    assert [action.name for action in built.actions] == [
        "github.get_pull_request_status",
        "github.open_pull_request",
        "github.close_pull_request",
        "github.reopen_pull_request",
        "github.merge_pull_request",
        "github.create_deployment",
        "github.create_deployment_status",
        "github.dispatch_workflow",
        "github.add_comment",
        "github.delete_comment",
    ]
    client = built.actions[0].client  # type: ignore[attr-defined]
    assert all(action.client is client for action in built.actions)  # type: ignore[attr-defined]
    assert built.closers == [client.close]
    github.add_commits(SHOP, "release/1.5")
    await run(Registry(built.actions), "github.open_pull_request", open_args())
    await built.aclose()
    assert github.pull(SHOP, 1)["state"] == "open"


def test_the_toolset_defaults_to_github_com_and_names_bad_settings() -> None:
    assert toolset({"GITHUB_TOKEN": "ghp_x"}).status == "enabled, API https://api.github.com"
    with pytest.raises(NotConfigured, match="set GITHUB_TOKEN to enable"):
        toolset({"GITHUB_API_URL": "https://github.example.com/api/v3"})
    with pytest.raises(ToolError, match=re.escape("github: GITHUB_API_URL: ")):
        toolset({"GITHUB_TOKEN": "ghp_x", "GITHUB_API_URL": "not a url"})
