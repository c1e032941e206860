"""The Boundary tool through its real client against the fake controller: login and re-login on 401,
targets and sessions, authorize with its cancel rollback, and errors in Boundary's own words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.boundary import FakeBoundary
from tests.processes import free_port
from tools.boundary import toolset
from tools.common.base import ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.toolset import NotConfigured, Toolset

PASSWORD = "s3cret-operator-password"


@pytest.fixture
async def boundary() -> AsyncIterator[FakeBoundary]:
    async with FakeBoundary() as server:
        server.add_account("carapulse", PASSWORD)
        server.add_account("alice", "alice-password")
        yield server


@pytest.fixture
def project(boundary: FakeBoundary) -> str:
    return boundary.add_project("payments")


@pytest.fixture
async def built(boundary: FakeBoundary) -> AsyncIterator[Toolset]:
    built = toolset(_login_settings(boundary))
    yield built
    await built.aclose()


@pytest.fixture
def tools(built: Toolset) -> Registry:
    return Registry(built.actions)


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action = registry.get(name)
    return await action.run(action.parse_args(raw))


async def test_the_first_call_logs_in_and_the_token_is_reused(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    boundary.add_target(project, "payments-db")

    await run(tools, "boundary.targets_list", {})
    await run(tools, "boundary.targets_list", {})

    login, *calls = boundary.requests
    assert (login.method, login.path) == ("POST", f"/v1/auth-methods/{boundary.auth_method_id}:authenticate")
    assert login.body == {"command": "login", "attributes": {"login_name": "carapulse", "password": PASSWORD}}
    (token,) = boundary.tokens
    assert [call.headers["Authorization"] for call in calls] == [f"Bearer {token}"] * 2


async def test_an_expired_token_is_replaced_by_logging_in_again(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    boundary.add_target(project, "payments-db")
    await run(tools, "boundary.targets_list", {})
    boundary.revoke_tokens()

    result = await run(tools, "boundary.targets_list", {})

    assert result.data["count"] == 1
    paths = [(r.method, r.path) for r in boundary.requests]
    authenticate = ("POST", f"/v1/auth-methods/{boundary.auth_method_id}:authenticate")
    listing = ("GET", "/v1/targets")
    assert paths == [authenticate, listing, listing, authenticate, listing]


async def test_targets_list_walks_every_page_of_child_scopes(tools: Registry, boundary: FakeBoundary) -> None:
    boundary.page_size = 2
    payments, search = boundary.add_project("payments"), boundary.add_project("search")
    made = [boundary.add_target(payments, f"db-{n}") for n in range(3)] + [boundary.add_target(search, "es")]

    result = await run(tools, "boundary.targets_list", {})

    assert sorted(t["id"] for t in result.data["targets"]) == sorted(made)
    assert len(boundary.calls("GET", "/v1/targets")) == 2
    assert boundary.requests[-1].query["list_token"]
    target = next(t for t in result.data["targets"] if t["name"] == "es")
    assert target | {"id": None} == {
        "id": None,
        "name": "es",
        "description": "es hosts",
        "type": "tcp",
        "scope_id": search,
        "scope_name": "search",
        "address": "10.0.0.5",
        "session_max_seconds": 28800,
        "session_connection_limit": -1,
        "authorized_actions": ["no-op", "read", "update", "delete", "authorize-session"],
    }
    assert result.summary.startswith("4 Boundary targets in global: ")
    assert boundary.requests[1].query == {"scope_id": "global", "recursive": "true"}


async def test_a_project_scope_can_be_listed_alone(tools: Registry, boundary: FakeBoundary) -> None:
    payments, search = boundary.add_project("payments"), boundary.add_project("search")
    boundary.add_target(search, "es")
    only = boundary.add_target(payments, "db")

    result = await run(tools, "boundary.targets_list", {"scope_id": payments, "recursive": False})

    assert [t["id"] for t in result.data["targets"]] == [only]
    assert result.summary == f"1 Boundary targets in {payments}: db"


async def test_a_non_recursive_list_of_global_is_refused_with_boundarys_reason(tools: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(tools, "boundary.targets_list", {"recursive": False})

    assert raised.value.status == 400
    assert raised.value.message == (
        "boundary: GET /v1/targets failed: bad request: InvalidArgument: Improperly formatted identifier. "
        "(scope_id: This field must be a valid project scope ID or the list operation must be recursive.)"
    )


async def test_authorize_session_hides_the_token_and_credentials_and_rolls_back_by_cancelling(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    target = boundary.add_target(project, "payments-db", address="10.1.2.3", port=5432)
    action = tools.get("boundary.session_authorize")
    args = action.parse_args({"target_id": target})

    result = await action.run(args)

    session_id = result.data["session_id"]
    assert boundary.sessions[session_id]["status"] == "pending"
    assert result.summary == f"authorized Boundary session {session_id} to target {target}"
    assert result.data["endpoint"] == "tcp://10.1.2.3:5432"
    assert result.data["brokered_credentials"] == 1
    dumped = result.model_dump_json()
    for secret in ("authorization_token", "hunter2", "credential", "token", PASSWORD):
        assert secret not in dumped.replace("brokered_credentials", "")
    step = action.rollback(args, result)
    assert step is not None
    assert (step.action, step.args) == ("boundary.session_cancel", {"session_id": session_id})
    await run(tools, step.action, step.args)
    assert boundary.sessions[session_id]["status"] == "canceling"


async def test_authorize_dry_run_checks_the_permission_and_opens_nothing(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    target = boundary.add_target(project, "payments-db")
    action = tools.get("boundary.session_authorize")

    result = await action.dry_run(action.parse_args({"target_id": target}))

    assert result.summary == "dry run: would authorize a session to target payments-db"
    assert boundary.sessions == {}
    boundary.targets[target]["authorized_actions"].remove("authorize-session")
    with pytest.raises(ToolError, match=f"may not authorize sessions to target {target}"):
        await action.dry_run(action.parse_args({"target_id": target}))


async def test_a_forbidden_authorize_names_the_target(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    target = boundary.add_target(project, "payments-db")
    boundary.denied.add(("authorize-session", target))

    with pytest.raises(ToolError) as raised:
        await run(tools, "boundary.session_authorize", {"target_id": target})

    assert (
        raised.value.message
        == f"boundary: permission denied on target {target}: PermissionDenied: Forbidden."
    )
    assert raised.value.status == 403
    assert raised.value.call == f"POST /v1/targets/{target}:authorize-session"
    assert boundary.sessions == {}


async def test_an_unknown_target_is_not_found(tools: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(tools, "boundary.session_authorize", {"target_id": "ttcp_0000000000"})

    assert raised.value.message == "boundary: target ttcp_0000000000 not found"
    assert raised.value.status == 404


async def test_an_authorize_is_never_retried_blindly(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    target = boundary.add_target(project, "payments-db")
    await run(tools, "boundary.targets_list", {})  # log in first
    boundary.fail_next(503, {"kind": "Unavailable", "message": "controller is shutting down"})

    with pytest.raises(ToolError, match="Unavailable: controller is shutting down"):
        await run(tools, "boundary.session_authorize", {"target_id": target})

    assert len(boundary.calls("POST", f"/v1/targets/{target}:authorize-session")) == 1


async def test_sessions_list_leaves_out_terminated_sessions_and_secrets(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    db, cache = boundary.add_target(project, "db"), boundary.add_target(project, "cache")
    active = boundary.add_session(db, "alice")
    boundary.add_session(db, "alice", status="terminated")
    boundary.add_session(cache, "alice", status="pending")

    result = await run(tools, "boundary.sessions_list", {"target_id": db})

    assert [s["id"] for s in result.data["sessions"]] == [active]
    assert result.summary == f"1 Boundary sessions of target {db} in global: 1 active"
    assert set(result.data["sessions"][0]) == {
        "id", "target_id", "scope_id", "user_id", "host_id", "type", "status", "version",
        "endpoint", "created_time", "expiration_time",
    }  # fmt: skip
    everything = await run(tools, "boundary.sessions_list", {"include_terminated": True})
    assert everything.summary == "3 Boundary sessions in global: 1 active, 1 pending, 1 terminated"


async def test_cancel_sends_the_version_it_read(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    session = boundary.add_session(boundary.add_target(project, "db"), "alice")
    boundary.sessions[session]["version"] = 3
    action = tools.get("boundary.session_cancel")
    args = action.parse_args({"session_id": session})

    result = await action.run(args)

    assert boundary.calls("POST", f"/v1/sessions/{session}:cancel")[0].body == {"version": 3}
    assert result.summary == f"cancelled Boundary session {session} (was active)"
    assert result.data["status"] == "canceling"
    assert result.data["previous_status"] == "active"
    assert action.rollback(args, result) is None


async def test_cancel_leaves_a_finished_session_alone(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    session = boundary.add_session(boundary.add_target(project, "db"), "alice", status="terminated")

    result = await run(tools, "boundary.session_cancel", {"session_id": session})

    assert result.summary == f"already cancelled Boundary session {session} (was terminated)"
    assert boundary.calls("POST", f"/v1/sessions/{session}:cancel") == []


async def test_cancel_dry_run_describes_the_session_and_cancels_nothing(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    target = boundary.add_target(project, "db")
    session = boundary.add_session(target, "alice")
    action = tools.get("boundary.session_cancel")

    result = await action.dry_run(action.parse_args({"session_id": session}))

    user = boundary.accounts["alice"].user_id
    assert (
        result.summary
        == f"dry run: would cancel Boundary session {session} (active, user {user}, target {target})"
    )
    assert boundary.sessions[session]["status"] == "active"


async def test_a_session_that_changed_meanwhile_is_a_readable_conflict(
    tools: Registry, boundary: FakeBoundary, project: str
) -> None:
    session = boundary.add_session(boundary.add_target(project, "db"), "alice")
    body = {"kind": "FailedPrecondition", "message": "Unable to update session: version mismatch."}
    boundary.fail_next(400, body, path_prefix=f"/v1/sessions/{session}:cancel")

    with pytest.raises(ToolError) as raised:
        await run(tools, "boundary.session_cancel", {"session_id": session})

    assert raised.value.message == (
        f"boundary: POST /v1/sessions/{session}:cancel failed: bad request: "
        "FailedPrecondition: Unable to update session: version mismatch."
    )


async def test_an_unknown_session_is_not_found(tools: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(tools, "boundary.session_cancel", {"session_id": "s_0000000000"})

    assert raised.value.message == "boundary: session s_0000000000 not found"
    assert raised.value.call == "GET /v1/sessions/s_0000000000"


async def test_a_wrong_password_is_a_readable_login_failure(boundary: FakeBoundary) -> None:
    built = toolset(_login_settings(boundary) | {"BOUNDARY_PASSWORD": "wrong"})
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(built.actions), "boundary.targets_list", {})
    finally:
        await built.aclose()

    assert raised.value.message == (
        f"boundary: login as carapulse with auth method {boundary.auth_method_id} failed: "
        "Unauthenticated: Unable to authenticate."
    )
    assert raised.value.status == 401
    assert "wrong" not in raised.value.message


async def test_a_fixed_token_is_used_as_is_and_a_refused_one_is_final(
    boundary: FakeBoundary, project: str
) -> None:
    boundary.add_target(project, "db")
    token = boundary.issue_token("alice")
    built = toolset({"BOUNDARY_ADDR": boundary.url, "BOUNDARY_TOKEN": token})
    try:
        tools = Registry(built.actions)
        assert (await run(tools, "boundary.targets_list", {})).data["count"] == 1
        boundary.revoke_tokens()
        with pytest.raises(ToolError) as raised:
            await run(tools, "boundary.targets_list", {})
    finally:
        await built.aclose()

    assert raised.value.message == (
        "boundary: not authenticated (BOUNDARY_TOKEN refused): "
        "Unauthenticated: Unauthenticated, or invalid token."
    )
    assert token not in raised.value.message
    assert not any(r.path.endswith(":authenticate") for r in boundary.requests)


async def test_an_unreachable_controller_is_named() -> None:
    addr = f"http://127.0.0.1:{free_port()}"
    built = toolset({"BOUNDARY_ADDR": addr, "BOUNDARY_TOKEN": "at_1234567890_abc"})
    try:
        with pytest.raises(ToolError, match=f"boundary: cannot reach {addr}"):
            await run(Registry(built.actions), "boundary.sessions_list", {})
    finally:
        await built.aclose()


async def test_an_answer_that_is_not_json_is_named(tools: Registry, boundary: FakeBoundary) -> None:
    await run(tools, "boundary.targets_list", {})
    boundary.fail_next(200, "<html>maintenance</html>")

    with pytest.raises(ToolError, match="boundary: GET /v1/targets answered with something that is not JSON"):
        await run(tools, "boundary.targets_list", {})


async def test_the_toolset_reports_how_it_logs_in(built: Toolset, boundary: FakeBoundary) -> None:
    assert built.name == "boundary"
    assert built.status == (
        f"enabled, controller {boundary.url} (login carapulse via {boundary.auth_method_id})"
    )
    assert PASSWORD not in built.status
    assert [action.name for action in Registry(built.actions)] == [
        "boundary.targets_list",
        "boundary.sessions_list",
        "boundary.session_authorize",
        "boundary.session_cancel",
    ]


def test_the_toolset_is_left_out_without_an_address() -> None:
    with pytest.raises(NotConfigured, match="set BOUNDARY_ADDR to enable"):
        toolset({"BOUNDARY_TOKEN": "at_1234567890_abc"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {},
            "boundary: set BOUNDARY_TOKEN, or BOUNDARY_AUTH_METHOD_ID, BOUNDARY_LOGIN_NAME, "
            "BOUNDARY_PASSWORD to log in",
        ),
        (
            {"BOUNDARY_AUTH_METHOD_ID": "ampw_1234567890", "BOUNDARY_LOGIN_NAME": "carapulse"},
            "boundary: set BOUNDARY_TOKEN, or BOUNDARY_PASSWORD to log in",
        ),
        (
            {"BOUNDARY_TOKEN": "t", "BOUNDARY_SCOPE_ID": "project-1"},
            "boundary: BOUNDARY_SCOPE_ID: String should",
        ),
        (
            {"BOUNDARY_TOKEN": "t", "BOUNDARY_ADDR": "controller:9200"},
            "boundary: BOUNDARY_ADDR: String should",
        ),
        (
            {"BOUNDARY_AUTH_METHOD_ID": "password", "BOUNDARY_LOGIN_NAME": "c", "BOUNDARY_PASSWORD": "p"},
            "boundary: BOUNDARY_AUTH_METHOD_ID: String should match pattern",
        ),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ToolError) as raised:
        toolset({"BOUNDARY_ADDR": "https://boundary.example:9200"} | environ)

    assert raised.value.message.startswith(message)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("boundary.session_cancel", {"session_id": "s_123"}),
        ("boundary.session_cancel", {"session_id": "ttcp_1234567890"}),
        ("boundary.session_authorize", {"target_id": "s_1234567890"}),
        ("boundary.session_authorize", {"target_id": "ttcp_1234567890", "token": "x"}),
        ("boundary.targets_list", {"scope_id": "payments"}),
    ],
)
def test_action_args_reject_malformed_ids(name: str, raw: dict[str, Any], tools: Registry) -> None:
    with pytest.raises(ValidationError):
        tools.get(name).parse_args(raw)


def _login_settings(boundary: FakeBoundary) -> dict[str, str]:
    return {
        "BOUNDARY_ADDR": boundary.url,
        "BOUNDARY_AUTH_METHOD_ID": boundary.auth_method_id,
        "BOUNDARY_LOGIN_NAME": "carapulse",
        "BOUNDARY_PASSWORD": PASSWORD,
    }
