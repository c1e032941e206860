"""The Linear tool against the fake GraphQL API, through the real JsonHttpClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.linear import FakeLinear
from tools.common.base import Action, ActionResult, RiskHint, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.linear import actions, toolset
from tools.linear.client import LinearApi, linear_client

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
PLAN_URL = "https://acme.slack.com/archives/C0123/p1700000000000100"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLinear]:
    async with FakeLinear() as server:
        server.add_team("ENG", "Engineering")
        yield server


def connect(fake: FakeLinear, *, api_key: str | None = None, timeout: float = 5.0) -> LinearApi:
    return LinearApi(
        linear_client(api_key or fake.api_key, base_url=fake.url, timeout=timeout, retry=FAST_RETRY)
    )


@pytest.fixture
async def registry(fake: FakeLinear) -> AsyncIterator[Registry]:
    api = connect(fake)
    yield Registry(actions(api))
    await api.close()


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.run(action.parse_args(raw))


async def dry_run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.dry_run(action.parse_args(raw))


async def failure(registry: Registry, name: str, raw: dict[str, Any]) -> ToolError:
    with pytest.raises(ToolError) as raised:
        await run(registry, name, raw)
    return raised.value


def operations(fake: FakeLinear) -> list[str]:
    return [r.body["operationName"] for r in fake.requests]


# --- issues ----------------------------------------------------------------------------------------


async def test_create_issue_resolves_the_team_key_and_files_the_issue(
    registry: Registry, fake: FakeLinear
) -> None:
    action = registry.get("linear.create_issue")
    args = action.parse_args(
        {
            "team": "ENG",
            "title": "Checkout 5xx after deploy",
            "description": "See the plan thread.",
            "priority": 1,
        }
    )

    result = await action.run(args)

    issue = fake.issue_by_identifier("ENG-1")
    assert (issue.title, issue.description, issue.priority) == (
        "Checkout 5xx after deploy",
        "See the plan thread.",
        1,
    )
    assert result.summary == (
        "filed ENG-1 'Checkout 5xx after deploy': "
        "https://linear.app/acme/issue/ENG-1/checkout-5xx-after-deploy"
    )
    assert result.data["identifier"] == "ENG-1"
    assert operations(fake) == ["FindTeamByKey", "CreateIssue"]
    create = fake.requests[-1]
    assert create.headers["Authorization"] == fake.api_key
    assert create.body["variables"]["input"]["teamId"] == issue.team_id
    assert create.body["query"].startswith("mutation CreateIssue($input: IssueCreateInput!)")


async def test_rolling_back_a_created_issue_archives_it_and_that_can_be_undone(
    registry: Registry, fake: FakeLinear
) -> None:
    create = registry.get("linear.create_issue")
    args = create.parse_args({"team": "ENG", "title": "Checkout 5xx"})
    step = create.rollback(args, await create.run(args))
    issue = fake.issue_by_identifier("ENG-1")

    assert (step.action, step.args) == ("linear.archive_issue", {"issue": issue.id})
    archive = registry.get(step.action)
    archived = await archive.run(archive.parse_args(step.args))

    assert archived.summary == "archived ENG-1 'Checkout 5xx'"
    assert issue.archived_at is not None
    back = archive.rollback(archive.parse_args(step.args), archived)
    assert back is not None and back.action == "linear.unarchive_issue"

    await run(registry, back.action, back.args)

    assert issue.archived_at is None


async def test_archiving_an_archived_issue_changes_nothing_and_has_no_rollback(
    registry: Registry, fake: FakeLinear
) -> None:
    fake.add_issue("ENG", "Old", archived_at="2026-01-01T00:00:00.000Z")
    archive = registry.get("linear.archive_issue")
    args = archive.parse_args({"issue": "ENG-1"})

    result = await archive.run(args)

    assert result.summary == "ENG-1 'Old' was already archived"
    assert "ArchiveIssue" not in operations(fake)
    assert archive.rollback(args, result) is None


async def test_create_issue_dry_run_checks_the_team_and_files_nothing(
    registry: Registry, fake: FakeLinear
) -> None:
    result = await dry_run(registry, "linear.create_issue", {"team": "ENG", "title": "Checkout 5xx"})

    assert result.summary == "dry run: would file 'Checkout 5xx' in ENG (Engineering)"
    assert fake.issues == {}
    assert operations(fake) == ["FindTeamByKey"]


async def test_a_team_can_be_named_by_id(registry: Registry, fake: FakeLinear) -> None:
    team_id = fake.add_team("OPS", "Operations")

    result = await dry_run(registry, "linear.create_issue", {"team": team_id, "title": "x"})

    assert result.data == {"team": "OPS", "team_id": team_id}
    assert operations(fake) == ["ReadTeam"]


async def test_an_unknown_team_key_is_named(registry: Registry, fake: FakeLinear) -> None:
    error = await failure(registry, "linear.create_issue", {"team": "NOPE", "title": "x"})

    assert error.message == "linear: no team with key NOPE"
    assert fake.issues == {}


async def test_get_issue_reports_state_team_and_assignee(registry: Registry, fake: FakeLinear) -> None:
    fake.add_issue("ENG", "Checkout 5xx", state="In Progress", assignee="Ada")

    result = await run(registry, "linear.get_issue", {"issue": "ENG-1"})

    assert result.summary == "ENG-1 'Checkout 5xx': In Progress"
    assert (result.data["team"], result.data["assignee"], result.data["archived"]) == ("ENG", "Ada", False)


# --- comments and links ----------------------------------------------------------------------------


async def test_a_comment_is_posted_and_its_rollback_deletes_it(registry: Registry, fake: FakeLinear) -> None:
    issue = fake.add_issue("ENG", "Checkout 5xx")
    action = registry.get("linear.annotate_issue")
    args = action.parse_args({"issue": "ENG-1", "body": "Carapulse rolled checkout back to 1.4."})

    result = await action.run(args)

    [comment] = fake.comments.values()
    assert (comment["issue_id"], comment["body"]) == (issue.id, "Carapulse rolled checkout back to 1.4.")
    assert result.summary == "commented on ENG-1 'Checkout 5xx'"
    step = action.rollback(args, result)
    assert (step.action, step.args) == ("linear.delete_comment", {"comment_id": comment["id"]})
    assert registry.get(step.action).risk is RiskHint.HIGH

    undone = await run(registry, step.action, step.args)

    assert undone.summary == "deleted a comment on ENG-1"
    assert fake.comments == {}


async def test_comment_dry_run_reads_the_issue_only(registry: Registry, fake: FakeLinear) -> None:
    fake.add_issue("ENG", "Checkout 5xx")

    result = await dry_run(registry, "linear.annotate_issue", {"issue": "ENG-1", "body": "x"})

    assert result.summary == "dry run: would comment on ENG-1 'Checkout 5xx'"
    assert fake.comments == {}
    assert operations(fake) == ["ReadIssue"]


async def test_attach_link_adds_the_plan_link_and_its_rollback_removes_it(
    registry: Registry, fake: FakeLinear
) -> None:
    fake.add_issue("ENG", "Checkout 5xx")
    action = registry.get("linear.attach_link")
    args = action.parse_args(
        {"issue": "ENG-1", "url": PLAN_URL, "title": "Carapulse plan #42", "subtitle": "approved by @ada"}
    )

    result = await action.run(args)

    [attachment] = fake.attachments.values()
    assert (attachment["url"], attachment["title"], attachment["subtitle"]) == (
        PLAN_URL,
        "Carapulse plan #42",
        "approved by @ada",
    )
    assert result.summary == "attached the link to ENG-1 'Checkout 5xx': Carapulse plan #42"
    step = action.rollback(args, result)
    assert (step.action, step.args) == ("linear.delete_attachment", {"attachment_id": attachment["id"]})

    await run(registry, step.action, step.args)

    assert fake.attachments == {}


async def test_attaching_a_link_that_is_already_there_updates_it_and_leaves_it_on_rollback(
    registry: Registry, fake: FakeLinear
) -> None:
    fake.add_issue("ENG", "Checkout 5xx")
    await run(registry, "linear.attach_link", {"issue": "ENG-1", "url": PLAN_URL, "title": "plan"})
    action = registry.get("linear.attach_link")
    args = action.parse_args({"issue": "ENG-1", "url": PLAN_URL, "title": "plan (done)"})

    rehearsal = await action.dry_run(args)
    result = await action.run(args)

    assert rehearsal.summary == "dry run: would update the link on ENG-1 'Checkout 5xx'"
    assert result.summary == "updated the link on ENG-1 'Checkout 5xx': plan (done)"
    assert [a["title"] for a in fake.attachments.values()] == ["plan (done)"]
    assert action.rollback(args, result) is None


# --- failures --------------------------------------------------------------------------------------


async def test_an_unknown_issue_arrives_as_http_200_with_errors_and_is_not_found(
    registry: Registry, fake: FakeLinear
) -> None:
    error = await failure(registry, "linear.annotate_issue", {"issue": "ENG-99", "body": "x"})

    assert error.message == "linear: ReadIssue: invalid input: Could not find referenced Issue."
    assert error.call == "POST /graphql ReadIssue"
    assert error.status == 400
    assert fake.comments == {}


async def test_a_wrong_key_is_an_authentication_error(fake: FakeLinear) -> None:
    api = connect(fake, api_key="lin_api_wrong")
    try:
        error = await failure(Registry(actions(api)), "linear.get_issue", {"issue": "ENG-1"})
    finally:
        await api.close()

    assert error.message == (
        "linear: ReadIssue: not authenticated (check LINEAR_API_KEY): "
        "You need to authenticate to access this operation."
    )
    assert error.status == 401


async def test_rate_limiting_is_reported_and_not_retried(registry: Registry, fake: FakeLinear) -> None:
    fake.add_issue("ENG", "Checkout 5xx")
    fake.rate_limit_next(reset_ms=1_700_000_000_000)

    error = await failure(registry, "linear.get_issue", {"issue": "ENG-1"})

    assert error.message == "linear: ReadIssue: rate limited: Rate limit exceeded. Please try again later."
    assert error.status == 429
    assert len(fake.requests) == 1
    assert (await run(registry, "linear.get_issue", {"issue": "ENG-1"})).data["identifier"] == "ENG-1"


async def test_a_create_is_never_resent_after_a_server_error(registry: Registry, fake: FakeLinear) -> None:
    fake.answer_next("FindTeamByKey", "upstream connect error", status=503)
    fake.answer_next("CreateIssue", "upstream connect error", status=503)

    error = await failure(registry, "linear.create_issue", {"team": "ENG", "title": "x"})

    assert error.message == "linear: POST /graphql failed: HTTP 503: upstream connect error"
    assert operations(fake) == ["FindTeamByKey", "FindTeamByKey", "CreateIssue"], (
        "the read is retried, the create not"
    )
    assert fake.issues == {}


async def test_a_slow_api_times_out_readably(fake: FakeLinear) -> None:
    fake.latency.seconds = 1.0
    api = connect(fake, timeout=0.2)
    try:
        error = await failure(Registry(actions(api)), "linear.get_issue", {"issue": "ENG-1"})
    finally:
        await api.close()

    assert error.message == "linear: POST /graphql timed out after 0.2s"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>Bad gateway</html>", "linear: POST /graphql answered with something that is not JSON"),
        ({"data": None}, "linear: POST /graphql ReadIssue answered with something that is not a JSON object"),
        (
            {"data": {"issue": {"id": "x", "identifier": "ENG-1"}}},
            "linear: POST /graphql ReadIssue answered with an unexpected document "
            "(issue.title: Field required)",
        ),
    ],
)
async def test_a_malformed_answer_is_a_readable_error(
    registry: Registry, fake: FakeLinear, body: Any, message: str
) -> None:
    fake.fail_next(200, body)

    error = await failure(registry, "linear.get_issue", {"issue": "ENG-1"})

    assert error.message == message


async def test_a_mutation_that_does_not_succeed_is_an_error(registry: Registry, fake: FakeLinear) -> None:
    fake.add_issue("ENG", "Checkout 5xx")
    posted = await run(registry, "linear.annotate_issue", {"issue": "ENG-1", "body": "x"})
    fake.answer_next("DeleteComment", {"data": {"commentDelete": {"success": False}}})

    error = await failure(registry, "linear.delete_comment", {"comment_id": posted.data["comment_id"]})

    assert error.message == "linear: DeleteComment did not succeed"
    assert error.call == "POST /graphql DeleteComment"


# --- arguments and the entry point -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"issue": "eng-1", "url": PLAN_URL, "title": "t"},
        {"issue": "ENG-1", "url": "http://insecure.example/plan", "title": "t"},
        {"issue": "ENG-1", "url": "javascript:alert(1)", "title": "t"},
        {"issue": "ENG-1", "url": PLAN_URL, "title": ""},
        {"issue": "ENG-1", "url": PLAN_URL},
        {"issue": "ENG-1 OR 1=1", "url": PLAN_URL, "title": "t"},
    ],
)
def test_link_args_reject_bad_issues_and_urls(raw: dict[str, Any], registry: Registry) -> None:
    with pytest.raises(ValidationError):
        registry.get("linear.attach_link").parse_args(raw)


def test_the_toolset_is_left_out_without_an_api_key() -> None:
    with pytest.raises(NotConfigured, match="set LINEAR_API_KEY to enable"):
        toolset({})


def test_a_bad_api_url_stops_start_up_naming_it() -> None:
    with pytest.raises(ToolError, match="linear: LINEAR_API_URL: String should match pattern"):
        toolset({"LINEAR_API_KEY": "k", "LINEAR_API_URL": "api.linear.app"})


async def test_toolset_lists_its_actions_and_talks_to_the_configured_api(fake: FakeLinear) -> None:
    fake.add_issue("ENG", "Checkout 5xx")
    built = toolset({"LINEAR_API_KEY": fake.api_key, "LINEAR_API_URL": fake.url})
    try:
        assert built.status == f"enabled, {fake.url}/graphql"
        assert [a.name for a in Registry(built.actions)] == [
            "linear.get_issue",
            "linear.create_issue",
            "linear.archive_issue",
            "linear.unarchive_issue",
            "linear.annotate_issue",
            "linear.delete_comment",
            "linear.attach_link",
            "linear.delete_attachment",
        ]
        result = await run(Registry(built.actions), "linear.get_issue", {"issue": "ENG-1"})
        assert result.data["identifier"] == "ENG-1"
    finally:
        await built.aclose()
