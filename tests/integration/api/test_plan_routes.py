"""The plan routes over real HTTP: a pipeline plans, its card goes to the API channel, a person
approves it in the fake Slack; reads, pages, cancels and every refusal with its reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from blocks import ids
from bot.audit import AuditKind
from bot.db.models import AuditEvent, Plan, StepRun
from bot.playground.slack.state import BOB, OPS_CHANNEL
from tests.integration.api.conftest import ApiBot

DEPLOY = {"token": "deploy"}
SCALE = {"workflow": "scale_service", "inputs": {"name": "checkout", "namespace": "shop", "count": 5}}


async def api_calls(api: ApiBot) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with api.bot.carapulse.runtime.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.kind == AuditKind.API_CALL).order_by(AuditEvent.id)
        )
        return [(row.actor_id, row.plan_id, row.detail) for row in rows]


async def test_a_pipelines_plan_is_approved_in_slack_by_a_person_and_runs(api: ApiBot) -> None:
    created = await api.call("POST", "/api/v1/plans", json=SCALE)

    assert created.status == 201, created.body
    plan_id = created.body["id"]
    assert created.body["status"] == "awaiting_approval"
    assert created.body["url"] == f"{api.bot.url}/api/v1/plans/{plan_id}"
    card = api.bot.card(plan_id)
    assert card is not None
    assert created.body["slack_permalink"] == (
        f"https://acme-sre.slack.com/archives/{OPS_CHANNEL}/p{card['ts'].replace('.', '')}"
    )
    assert "pipeline `token:deploy`" in str(card["blocks"])
    await api.bot.driver.block_action(ids.PLAN_APPROVE, str(plan_id), user=BOB)
    await api.bot.card_text(plan_id, "Succeeded")
    read = await api.call("GET", f"/api/v1/plans/{plan_id}")
    assert read.status == 200
    assert (read.body["status"], read.body["final"], read.body["requester_id"]) == (
        "succeeded",
        True,
        "token:deploy",
    )
    assert [a["user_id"] for a in read.body["approvals"]] == [BOB]
    assert read.body["execution"]["status"] == "succeeded"
    assert {step["state"] for step in read.body["steps"]} == {"succeeded"}
    assert api.bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    assert await api_calls(api) == [
        (
            "token:deploy",
            plan_id,
            {"method": "POST", "path": "/api/v1/plans", "status": 201, "claims": DEPLOY},
        ),
        (
            "token:deploy",
            plan_id,
            {"method": "GET", "path": f"/api/v1/plans/{plan_id}", "status": 200, "claims": DEPLOY},
        ),
    ]


async def test_a_sentence_is_planned_as_in_slack(api: ApiBot) -> None:
    created = await api.call("POST", "/api/v1/plans", json={"intent": "scale checkout to 3 in shop"})

    assert created.status == 201, created.body
    read = await api.call("GET", f"/api/v1/plans/{created.body['id']}")
    assert read.body["workflow"]["name"] == "scale_service"
    assert read.body["intent"] == "scale checkout to 3 in shop"


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_plan(api: ApiBot) -> None:
    headers = {"Idempotency-Key": "run-42/attempt"}

    first = await api.call("POST", "/api/v1/plans", json=SCALE, headers=headers)
    second = await api.call("POST", "/api/v1/plans", json=SCALE, headers=headers)
    other = await api.call("POST", "/api/v1/plans", json=SCALE)

    assert first.status == second.status == other.status == 201
    assert first.body["id"] == second.body["id"] != other.body["id"]
    assert len(api.bot.slack.calls_to("chat.postMessage")) == 2


async def test_a_viewer_token_may_read_but_not_plan_a_write(api: ApiBot) -> None:
    viewer = await api.issue("reader", ["viewer"])

    refused = await api.call("POST", "/api/v1/plans", json=SCALE, token=viewer)
    listed = await api.call("GET", "/api/v1/plans", token=viewer)

    assert refused.status == 403
    assert refused.body == {
        "error": "forbidden",
        "message": "Denied: planning a write needs the operator or admin role",
        "problems": {},
    }
    assert listed.status == 200
    assert (await api_calls(api))[0] == (
        "token:reader",
        None,
        {
            "method": "POST",
            "path": "/api/v1/plans",
            "status": 403,
            "reason": "Denied: planning a write needs the operator or admin role",
            "claims": {"token": "reader"},
        },
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "no credentials: send `Authorization: Bearer <token>`"),
        ("cpt_" + "n" * 43, "the API token is unknown or revoked"),
        ("not-a-token", "the bearer token is neither a Carapulse API token (cpt_…) nor a JWT"),
    ],
)
async def test_calls_without_a_valid_credential_get_401_with_the_reason_and_are_audited(
    api: ApiBot, token: str, reason: str
) -> None:
    answer = await api.call("GET", "/api/v1/plans", token=token)

    assert answer.status == 401
    assert answer.body == {"error": "unauthorized", "message": reason, "problems": {}}
    assert await api_calls(api) == [
        ("anonymous", None, {"method": "GET", "path": "/api/v1/plans", "status": 401, "reason": reason})
    ]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "the body is not valid JSON"),
        (b"[]", 422, "Input should be a valid dictionary or instance of PlanCreate"),
        (b"{}", 422, "give either `workflow` (with `inputs`) or `intent`, not both and not neither"),
        (
            json.dumps({"workflow": "scale_service", "intent": "scale checkout to 5 in shop"}).encode(),
            422,
            "not both and not neither",
        ),
        (json.dumps({"intent": "x", "inputs": {"a": 1}}).encode(), 422, "`inputs` go with `workflow`"),
        (
            json.dumps({"intent": "x", "approve": True}).encode(),
            422,
            "approve: Extra inputs are not permitted",
        ),
        (json.dumps({"workflow": "scale_service", "inputs": {"name": [1]}}).encode(), 422, "inputs.name"),
        (json.dumps({"workflow": "nope"}).encode(), 404, "There is no workflow `nope`"),
        (
            json.dumps({"workflow": "scale_service", "inputs": {"name": "checkout", "count": -1}}).encode(),
            422,
            "`scale_service` cannot start with these inputs: count:",
        ),
        (json.dumps({"intent": "make it faster"}).encode(), 400, "make it faster"),
    ],
)
async def test_bad_bodies_are_refused_with_the_reason_and_nothing_is_planned(
    api: ApiBot, body: bytes, status: int, message: str
) -> None:
    answer = await api.call("POST", "/api/v1/plans", data=body, headers={"Content-Type": "application/json"})

    assert answer.status == status, answer.body
    assert message in answer.body["message"]
    assert await api.bot.count(Plan) == 0


async def test_workflow_inputs_are_refused_field_by_field(api: ApiBot) -> None:
    inputs = {"name": "checkout", "count": -1, "colour": "red"}
    answer = await api.call("POST", "/api/v1/plans", json={"workflow": "scale_service", "inputs": inputs})

    assert answer.status == 422
    assert answer.body["error"] == "invalid_inputs"
    assert set(answer.body["problems"]) == {"colour"}


@pytest.mark.parametrize(
    ("headers", "data", "status", "message"),
    [
        ({"Content-Type": "text/plain"}, b"{}", 415, "send the body as application/json, not text/plain"),
        (
            {"Content-Type": "application/json"},
            b"{" + b" " * (2 * 1024 * 1024) + b"}",
            413,
            "body is larger than 1048576 bytes",
        ),
        (
            {"Content-Type": "application/json", "Idempotency-Key": "with spaces"},
            json.dumps(SCALE).encode(),
            400,
            "Idempotency-Key must be 1-128 letters, digits or ._:/-",
        ),
    ],
)
async def test_requests_the_api_cannot_read_are_refused_with_the_reason(
    api: ApiBot, headers: dict[str, str], data: bytes, status: int, message: str
) -> None:
    answer = await api.call("POST", "/api/v1/plans", data=data, headers=headers)

    assert answer.status == status
    assert message in answer.body["message"]


async def test_plans_are_listed_newest_first_a_page_at_a_time(api: ApiBot) -> None:
    ids_made = [(await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"] for _ in range(3)]

    first = await api.call("GET", "/api/v1/plans?limit=2")
    second = await api.call("GET", f"/api/v1/plans?limit=2&cursor={first.body['next_cursor']}")
    waiting = await api.call("GET", "/api/v1/plans?status=awaiting_approval&requester=token:deploy")

    assert [p["id"] for p in first.body["plans"]] == ids_made[:0:-1]
    assert [p["id"] for p in second.body["plans"]] == ids_made[:1]
    assert second.body["next_cursor"] is None
    assert first.body["plans"][0]["environment"] == "prod"
    assert len(waiting.body["plans"]) == 3


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("cursor=-3", "cursor"),
        ("status=done", "status"),
        ("colour=red", "colour"),
        ("limit=1&limit=2", "limit"),
    ],
)
async def test_bad_queries_are_refused_naming_the_parameter(api: ApiBot, query: str, problem: str) -> None:
    answer = await api.call("GET", f"/api/v1/plans?{query}")

    assert answer.status == 422
    assert problem in answer.body["problems"]


async def test_a_pipeline_cancels_its_plan_once(api: ApiBot) -> None:
    plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]

    cancelled = await api.call("POST", f"/api/v1/plans/{plan_id}/cancel")
    again = await api.call("POST", f"/api/v1/plans/{plan_id}/cancel")

    assert cancelled.status == 200
    assert (cancelled.body["status"], cancelled.body["status_actor_id"]) == ("cancelled", "token:deploy")
    assert again.status == 409
    assert again.body["message"] == f"Plan #{plan_id} has already ended (cancelled)."
    await api.bot.card_text(plan_id, "Cancelled by pipeline `token:deploy`")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/plans/999", 404),
        ("POST", "/api/v1/plans/999/cancel", 404),
        ("GET", "/api/v1/plans/99999999999", 422),
        ("GET", "/api/v1/plans/abc", 404),
    ],
)
async def test_unknown_plans_are_not_found(api: ApiBot, method: str, path: str, status: int) -> None:
    answer = await api.call(method, path)

    assert answer.status == status


async def test_step_output_is_redacted_when_read_even_if_stored_before_a_pattern_covered_it(
    api: ApiBot,
) -> None:
    plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]
    await api.bot.driver.block_action(ids.PLAN_APPROVE, str(plan_id), user=BOB)
    await api.bot.card_text(plan_id, "Succeeded")
    leaked = "xoxb-1234567890-abcdefghijkl"
    async with api.bot.carapulse.runtime.sessions.begin() as session:
        await session.execute(
            update(StepRun).values(output={"note": leaked, "password": "hunter2"}, output_summary=leaked)
        )

    read = await api.call("GET", f"/api/v1/plans/{plan_id}")

    assert leaked not in json.dumps(read.body) and "hunter2" not in json.dumps(read.body)
    assert read.body["steps"][0]["output"] == {"note": "[redacted]", "password": "[redacted]"}


async def test_the_api_is_off_without_api_channel(bot: Any) -> None:
    answer = await ApiBot(bot=bot, token="cpt_x").call("GET", "/api/v1/plans")

    assert answer.status == 404
    assert answer.body["message"] == "The API is off on this Carapulse: set API_CHANNEL and API_TEAM_ID."
