"""The PagerDuty tool against the fake REST v2 and Events v2 APIs, through the real JsonHttpClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.pagerduty import FakePagerDuty
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.pagerduty import actions, toolset
from tools.pagerduty.client import PagerDutyApi, events_client, rest_client

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
WRITER = "oncall@example.com"
CHECKOUT = "PCHKOUT"


@pytest.fixture
async def fake() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as server:
        server.add_service(CHECKOUT, "Checkout", routing_key=ROUTING_KEY)
        yield server


def connect(
    fake: FakePagerDuty, *, token: str | None = None, timeout: float = 5.0, **kwargs: Any
) -> PagerDutyApi:
    return PagerDutyApi(
        rest_client(token or fake.token, base_url=fake.url, timeout=timeout, retry=FAST_RETRY),
        events_client(base_url=fake.url, timeout=timeout, retry=FAST_RETRY),
        **{"from_email": WRITER, "routing_key": ROUTING_KEY, **kwargs},
    )


@pytest.fixture
async def api(fake: FakePagerDuty) -> AsyncIterator[PagerDutyApi]:
    client = connect(fake)
    yield client
    await client.close()


@pytest.fixture
def registry(api: PagerDutyApi) -> Registry:
    return Registry(actions(api))


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.run(action.parse_args(raw))


async def failure(registry: Registry, name: str, raw: dict[str, Any]) -> ToolError:
    with pytest.raises(ToolError) as raised:
        await run(registry, name, raw)
    return raised.value


def changes(fake: FakePagerDuty) -> list[Any]:
    return [r for r in fake.requests if r.method != "GET"]


# --- incidents -------------------------------------------------------------------------------------


async def test_list_incidents_filters_by_service_and_status(registry: Registry, fake: FakePagerDuty) -> None:
    fake.add_service("POTHER1", "Search")
    fake.add_incident(CHECKOUT, "5xx on /pay")
    fake.add_incident(CHECKOUT, "Latency p99 > 2s", status="acknowledged")
    fake.add_incident(CHECKOUT, "Old outage", status="resolved")
    fake.add_incident("POTHER1", "Search down")

    result = await run(registry, "pagerduty.list_incidents", {"service_id": CHECKOUT})

    assert result.summary == "2 incidents on Checkout (1 triggered, 1 acknowledged)"
    assert [(i["title"], i["status"]) for i in result.data["incidents"]] == [
        ("5xx on /pay", "triggered"),
        ("Latency p99 > 2s", "acknowledged"),
    ]
    assert result.data["incidents"][0]["assigned_to"] == ["Alice Example"]
    [request] = fake.requests
    assert request.headers["Authorization"] == f"Token token={fake.token}"
    assert request.headers["Accept"] == "application/vnd.pagerduty+json;version=2"


async def test_list_incidents_follows_offset_pagination_up_to_the_limit(
    registry: Registry, fake: FakePagerDuty
) -> None:
    for n in range(230):
        fake.add_incident(CHECKOUT, f"alert {n}")

    everything = await run(registry, "pagerduty.list_incidents", {"service_id": CHECKOUT, "limit": 1000})
    some = await run(registry, "pagerduty.list_incidents", {"service_id": CHECKOUT, "limit": 150})

    assert len(everything.data["incidents"]) == 230
    assert everything.data["more"] is False
    assert [(r.query["offset"], r.query["limit"]) for r in fake.requests[:3]] == [
        ("0", "100"),
        ("100", "100"),
        ("200", "100"),
    ]
    assert len(some.data["incidents"]) == 150
    assert some.data["more"] is True
    assert (
        some.summary
        == "150 incidents on Checkout (150 triggered); more than 150 match, raise the limit to see them"
    )


async def test_no_incidents_names_the_service_id(registry: Registry) -> None:
    result = await run(
        registry, "pagerduty.list_incidents", {"service_id": CHECKOUT, "statuses": ["resolved"]}
    )

    assert result.summary == f"0 incidents on {CHECKOUT}"


async def test_acknowledge_reads_the_incident_then_sets_its_status_as_the_from_user(
    registry: Registry, fake: FakePagerDuty
) -> None:
    incident = fake.add_incident(CHECKOUT, "5xx on /pay")
    action = registry.get("pagerduty.acknowledge_incident")
    args = action.parse_args({"incident_id": incident.id})

    result = await action.run(args)

    assert result.summary == "acknowledged incident #1 '5xx on /pay' (was triggered)"
    assert result.data == {
        "incident_id": incident.id,
        "number": 1,
        "previous_status": "triggered",
        "status": "acknowledged",
        "changed": True,
    }
    assert incident.status == "acknowledged"
    [put] = changes(fake)
    assert (put.path, put.headers["From"]) == (f"/incidents/{incident.id}", WRITER)
    assert put.body == {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    assert action.rollback(args, result) is None


async def test_acknowledge_dry_run_reads_and_changes_nothing(registry: Registry, fake: FakePagerDuty) -> None:
    incident = fake.add_incident(CHECKOUT, "5xx on /pay")
    action = registry.get("pagerduty.acknowledge_incident")

    result = await action.dry_run(action.parse_args({"incident_id": incident.id}))

    assert result.summary == "dry run: would acknowledge incident #1 '5xx on /pay' (triggered)"
    assert incident.status == "triggered"
    assert changes(fake) == []


async def test_resolving_a_resolved_incident_is_a_no_op_and_acknowledging_it_an_error(
    registry: Registry, fake: FakePagerDuty
) -> None:
    incident = fake.add_incident(CHECKOUT, "Old outage", status="resolved")

    resolved = await run(registry, "pagerduty.resolve_incident", {"incident_id": incident.id})
    error = await failure(registry, "pagerduty.acknowledge_incident", {"incident_id": incident.id})

    assert resolved.summary == "incident #1 'Old outage' was already resolved"
    assert resolved.data["changed"] is False
    assert error.message == "incident #1 'Old outage' is already resolved; it cannot be acknowledged"
    assert changes(fake) == []


async def test_annotate_adds_a_note_to_the_timeline(registry: Registry, fake: FakePagerDuty) -> None:
    incident = fake.add_incident(CHECKOUT, "5xx on /pay")
    action = registry.get("pagerduty.annotate_incident")
    args = action.parse_args({"incident_id": incident.id, "content": "Carapulse scaled checkout to 6"})

    rehearsal = await action.dry_run(args)
    assert incident.notes == []
    result = await action.run(args)

    assert rehearsal.summary == "dry run: would add a note to incident #1 '5xx on /pay' (triggered)"
    assert result.summary == "added a note to incident #1 '5xx on /pay'"
    assert [n["content"] for n in incident.notes] == ["Carapulse scaled checkout to 6"]
    assert result.data["note_id"] == incident.notes[0]["id"]
    assert fake.calls("POST", f"/incidents/{incident.id}/notes")[0].headers["From"] == WRITER


async def test_an_unknown_from_user_is_refused_with_pagerdutys_reason(fake: FakePagerDuty) -> None:
    incident = fake.add_incident(CHECKOUT, "5xx on /pay")
    api = connect(fake, from_email="nobody@example.com")
    try:
        error = await failure(
            Registry(actions(api)), "pagerduty.resolve_incident", {"incident_id": incident.id}
        )
    finally:
        await api.close()

    assert error.message == (
        f"pagerduty: PUT /incidents/{incident.id} failed: bad request: Requester User Not Found"
    )
    assert error.status == 400
    assert incident.status == "triggered"


# --- Events v2 -------------------------------------------------------------------------------------


async def test_trigger_opens_an_alert_and_its_rollback_resolves_it(
    registry: Registry, fake: FakePagerDuty
) -> None:
    action = registry.get("pagerduty.trigger_alert")
    args = action.parse_args(
        {"summary": "Checkout error budget burning", "source": "carapulse", "severity": "critical"}
    )

    result = await action.run(args)

    dedup_key = result.data["dedup_key"]
    assert dedup_key.startswith("carapulse-")
    assert result.summary == "triggered a critical alert from carapulse: Checkout error budget burning"
    [event] = fake.events
    assert event == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": "Checkout error budget burning",
            "source": "carapulse",
            "severity": "critical",
        },
    }
    incident = fake.open_incident(dedup_key)
    assert incident is not None and incident.status == "triggered"
    assert ROUTING_KEY not in str(result)

    step = action.rollback(args, result)
    assert (step.action, step.args) == ("pagerduty.resolve_alert", {"dedup_key": dedup_key})
    undone = await run(registry, step.action, step.args)

    assert undone.summary == f"resolved the alert with dedup key {dedup_key}"
    assert incident.status == "resolved"
    assert fake.events[-1] == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": dedup_key}


async def test_a_trigger_has_no_dry_run(registry: Registry, fake: FakePagerDuty) -> None:
    action = registry.get("pagerduty.trigger_alert")

    with pytest.raises(ToolError, match=r"pagerduty\.trigger_alert has no dry run"):
        await action.dry_run(action.parse_args({"summary": "x", "source": "y"}))

    assert fake.events == []


async def test_a_throttled_trigger_is_resent_with_the_same_dedup_key(
    registry: Registry, fake: FakePagerDuty
) -> None:
    fake.fail_next(
        429,
        {"status": "throttle event", "message": "Requests for this service are arriving too quickly."},
        path_prefix="/v2/",
    )

    result = await run(
        registry, "pagerduty.trigger_alert", {"summary": "x", "source": "y", "dedup_key": "chk-1"}
    )

    assert result.data["dedup_key"] == "chk-1"
    sent = [r.body["dedup_key"] for r in fake.calls("POST", "/v2/enqueue")]
    assert sent == ["chk-1", "chk-1"]
    assert len([i for i in fake.incidents.values() if i.incident_key == "chk-1"]) == 1


async def test_an_invalid_event_is_reported_with_the_events_api_reasons(fake: FakePagerDuty) -> None:
    api = connect(fake, routing_key="too-short")
    try:
        error = await failure(
            Registry(actions(api)), "pagerduty.trigger_alert", {"summary": "x", "source": "y"}
        )
    finally:
        await api.close()

    assert error.message == (
        "pagerduty: POST /v2/enqueue failed: bad request: Event object is invalid: "
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    )
    assert "too-short" not in error.message


# --- on call ---------------------------------------------------------------------------------------


async def test_list_oncalls_orders_people_by_escalation_level(
    registry: Registry, fake: FakePagerDuty
) -> None:
    policy = ("PEPOL01", "Checkout escalation")
    fake.add_oncall(policy, 2, "Bob Manager")
    fake.add_oncall(policy, 1, "Alice Example", schedule="Checkout primary")

    result = await run(registry, "pagerduty.list_oncalls", {"escalation_policy_id": "PEPOL01"})

    assert result.summary == (
        "on call for Checkout escalation: level 1 Alice Example (Checkout primary), level 2 Bob Manager"
    )
    assert [(o["level"], o["user"], o["schedule"], o["email"]) for o in result.data["oncalls"]] == [
        (1, "Alice Example", "Checkout primary", "alice.example@example.com"),
        (2, "Bob Manager", None, "bob.manager@example.com"),
    ]
    assert fake.requests[-1].query["escalation_policy_ids[]"] == "PEPOL01"
    assert fake.requests[-1].query["include[]"] == "users"


async def test_nobody_on_call_is_said_plainly(registry: Registry) -> None:
    result = await run(registry, "pagerduty.list_oncalls", {"escalation_policy_id": "PEPOL09"})

    assert result.summary == "nobody is on call for escalation policy PEPOL09"


# --- failures --------------------------------------------------------------------------------------


async def test_a_wrong_token_is_an_authentication_error(fake: FakePagerDuty) -> None:
    api = connect(fake, token="wrong")
    try:
        error = await failure(Registry(actions(api)), "pagerduty.list_incidents", {"service_id": CHECKOUT})
    finally:
        await api.close()

    assert error.message == (
        "pagerduty: GET /incidents failed: not authenticated (check the token): Authentication failed"
    )
    assert error.status == 401


async def test_an_unknown_incident_is_not_found(registry: Registry) -> None:
    error = await failure(registry, "pagerduty.acknowledge_incident", {"incident_id": "QNOPE"})

    assert error.message == "pagerduty: GET /incidents/QNOPE failed: not found: Not Found"
    assert error.status == 404


async def test_rate_limits_are_retried_for_reads_and_reported_when_they_persist(
    registry: Registry, fake: FakePagerDuty
) -> None:
    limited = {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    headers = {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "20"}
    fake.fail_next(429, limited, headers=headers, times=FAST_RETRY.attempts - 1)

    assert (await run(registry, "pagerduty.list_incidents", {"service_id": CHECKOUT})).data["incidents"] == []

    fake.fail_next(429, limited, headers=headers, times=FAST_RETRY.attempts)
    error = await failure(registry, "pagerduty.list_incidents", {"service_id": CHECKOUT})

    assert error.message == "pagerduty: GET /incidents failed: rate limited: Rate Limit Exceeded"
    assert error.status == 429


async def test_a_note_is_never_resent_blindly(registry: Registry, fake: FakePagerDuty) -> None:
    incident = fake.add_incident(CHECKOUT, "5xx on /pay")
    fake.fail_next(503, "upstream unavailable", path_prefix=f"/incidents/{incident.id}/notes")

    error = await failure(
        registry, "pagerduty.annotate_incident", {"incident_id": incident.id, "content": "x"}
    )

    assert error.status == 503
    assert len(fake.calls("POST", f"/incidents/{incident.id}/notes")) == 1


async def test_a_slow_api_times_out_readably(fake: FakePagerDuty) -> None:
    fake.latency.seconds = 1.0
    api = connect(fake, timeout=0.2)
    try:
        error = await failure(Registry(actions(api)), "pagerduty.list_incidents", {"service_id": CHECKOUT})
    finally:
        await api.close()

    assert error.message == "pagerduty: GET /incidents timed out after 0.2s"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>maintenance</html>", "pagerduty: GET /incidents answered with something that is not JSON"),
        (
            {"incidents": [{"id": "Q1"}], "limit": 100, "offset": 0, "more": False},
            "pagerduty: GET /incidents answered with an unexpected document "
            "(incidents.0.incident_number: Field required)",
        ),
    ],
)
async def test_a_malformed_answer_is_a_readable_error(
    registry: Registry, fake: FakePagerDuty, body: Any, message: str
) -> None:
    fake.fail_next(200, body)

    error = await failure(registry, "pagerduty.list_incidents", {"service_id": CHECKOUT})

    assert error.message == message


# --- arguments and the entry point -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"service_id": "pchkout"},
        {"service_id": "P/../users"},
        {"service_id": CHECKOUT, "statuses": ["open"]},
        {"service_id": CHECKOUT, "statuses": []},
        {"service_id": CHECKOUT, "limit": 0},
        {"service_id": CHECKOUT, "team": "x"},
    ],
)
def test_list_args_reject_bad_ids_and_statuses(raw: dict[str, Any], registry: Registry) -> None:
    with pytest.raises(ValidationError):
        registry.get("pagerduty.list_incidents").parse_args(raw)


def test_the_toolset_is_left_out_without_a_token() -> None:
    with pytest.raises(NotConfigured, match="set PAGERDUTY_TOKEN to enable"):
        toolset({"PAGERDUTY_FROM_EMAIL": WRITER})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"PAGERDUTY_FROM_EMAIL": "not-an-email"},
            "pagerduty: PAGERDUTY_FROM_EMAIL: String should match pattern",
        ),
        (
            {"PAGERDUTY_ROUTING_KEY": "short"},
            "pagerduty: PAGERDUTY_ROUTING_KEY must be a 32-character integration key",
        ),
        (
            {"PAGERDUTY_API_URL": "api.pagerduty.com"},
            "pagerduty: PAGERDUTY_API_URL: String should match pattern",
        ),
    ],
)
def test_a_wrong_setting_stops_start_up_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ToolError) as raised:
        toolset({"PAGERDUTY_TOKEN": "t", **environ})

    assert raised.value.message.startswith(message)


async def test_writes_are_only_offered_when_they_can_run(fake: FakePagerDuty) -> None:
    read_only = toolset({"PAGERDUTY_TOKEN": fake.token, "PAGERDUTY_API_URL": fake.url})
    full = toolset(
        {
            "PAGERDUTY_TOKEN": fake.token,
            "PAGERDUTY_API_URL": fake.url,
            "PAGERDUTY_EVENTS_URL": fake.url,
            "PAGERDUTY_FROM_EMAIL": WRITER,
            "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        }
    )
    try:
        assert [a.name for a in read_only.actions] == [
            "pagerduty.list_incidents",
            "pagerduty.get_incident",
            "pagerduty.list_oncalls",
        ]
        assert read_only.status == (
            f"enabled, {fake.url}: read-only incidents (set PAGERDUTY_FROM_EMAIL to change them); "
            "no alerts (set PAGERDUTY_ROUTING_KEY)"
        )
        assert [a.name for a in Registry(full.actions)][3:] == [
            "pagerduty.acknowledge_incident",
            "pagerduty.resolve_incident",
            "pagerduty.annotate_incident",
            "pagerduty.trigger_alert",
            "pagerduty.resolve_alert",
        ]
        assert full.status == f"enabled, {fake.url}: changes incidents as {WRITER}; sends alerts"
        result = await run(Registry(full.actions), "pagerduty.trigger_alert", {"summary": "x", "source": "y"})
        assert fake.open_incident(result.data["dedup_key"]) is not None
    finally:
        await read_only.aclose()
        await full.aclose()
