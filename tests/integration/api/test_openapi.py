"""/api/v1/openapi.json is a valid OpenAPI 3.1 document, and what the API answers matches it."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from blocks import ids
from bot.playground.slack.state import BOB
from tests.integration.api.conftest import ApiBot
from tests.integration.api.test_plan_routes import SCALE


def conforms(document: dict[str, Any], schema_name: str, body: Any) -> list[str]:
    """The ways `body` breaks the document's schema `schema_name` (empty when it conforms)."""
    registry = Registry().with_resource(
        "urn:carapulse-api", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": f"urn:carapulse-api#/components/schemas/{schema_name}"}, registry=registry
    )
    return [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(body)]


async def test_the_document_is_valid_openapi_and_needs_no_credentials(api: ApiBot) -> None:
    answer = await api.call("GET", "/api/v1/openapi.json", token="")

    assert answer.status == 200
    validate(answer.body)
    assert answer.body["openapi"] == "3.1.0"
    assert set(answer.body["paths"]) == {
        "/api/v1/plans",
        "/api/v1/plans/{plan_id}",
        "/api/v1/plans/{plan_id}/cancel",
        "/api/v1/plans/{plan_id}/events",
    }
    listing = answer.body["paths"]["/api/v1/plans"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"limit", "cursor", "status", "requester"}


async def test_answers_match_the_documented_schemas(api: ApiBot) -> None:
    document = (await api.call("GET", "/api/v1/openapi.json", token="")).body
    created = await api.call("POST", "/api/v1/plans", json=SCALE)
    await api.bot.driver.block_action(ids.PLAN_APPROVE, str(created.body["id"]), user=BOB)
    await api.bot.card_text(created.body["id"], "Succeeded")

    read = await api.call("GET", f"/api/v1/plans/{created.body['id']}")
    listed = await api.call("GET", "/api/v1/plans")
    refused = await api.call("POST", "/api/v1/plans", json={"intent": "x", "inputs": {"a": 1}})

    assert conforms(document, "PlanCreated", created.body) == []
    assert conforms(document, "PlanOut", read.body) == []
    assert conforms(document, "PlanPage", listed.body) == []
    assert conforms(document, "ErrorBody", refused.body) == []
    assert conforms(document, "PlanOut", {**read.body, "status": "done"}) != []
