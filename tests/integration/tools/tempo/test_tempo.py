"""The Tempo tool against the fake query-frontend: TraceQL search, a trace summarised by its slowest
spans and the services that spent the time, old and new trace endpoints, and readable failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tests.fakes.tempo import FakeSpan, FakeTempo
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.tempo import TempoClient, actions, toolset

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
CHECKOUT_TRACE = "2f3e0cee77ae5dc9c17ade3689eb2e54"
CART_TRACE = "0000000000000000a1b2c3d4e5f60718"

# A checkout that waits on payments, whose fraud check timed out: payments spent most of the time,
# although frontend and checkout have the longest spans.
CHECKOUT_SPANS = [
    FakeSpan("1111111111111111", None, "frontend", "POST /checkout", 0, 1210, kind="SPAN_KIND_SERVER"),
    FakeSpan(
        "2222222222222222", "1111111111111111", "checkout", "PlaceOrder", 10, 1130, kind="SPAN_KIND_SERVER"
    ),
    FakeSpan(
        "3333333333333333", "2222222222222222", "checkout", "charge card", 20, 900, kind="SPAN_KIND_CLIENT"
    ),
    FakeSpan("4444444444444444", "3333333333333333", "payments", "Charge", 30, 880, kind="SPAN_KIND_SERVER"),
    FakeSpan(
        "5555555555555555",
        "4444444444444444",
        "payments",
        "fraud check",
        40,
        600,
        error="timeout calling fraud-model",
        attributes={"http.status_code": 504},
    ),
    FakeSpan(
        "6666666666666666", "2222222222222222", "checkout", "INSERT orders", 950, 150, kind="SPAN_KIND_CLIENT"
    ),
]
CART_SPANS = [
    FakeSpan("7777777777777777", None, "frontend", "GET /cart", 0, 40, kind="SPAN_KIND_SERVER"),
    FakeSpan("8888888888888888", "7777777777777777", "cart", "GetCart", 5, 30, kind="SPAN_KIND_SERVER"),
]
CHECKOUT_SUMMARY = (
    "trace 2f3e0cee…: frontend POST /checkout, 1.2s, 6 spans in 3 services; "
    "slowest: frontend POST /checkout 1.2s, checkout PlaceOrder 1.1s, checkout charge card 900ms; "
    "most time: payments 73%, checkout 21%, frontend 7%; "
    "errors: payments fraud check (timeout calling fraud-model)"
)


def seed(server: FakeTempo) -> None:
    now = datetime.now(UTC)
    server.add_trace(CHECKOUT_TRACE, now - timedelta(minutes=10), CHECKOUT_SPANS)
    server.add_trace(CART_TRACE, now - timedelta(minutes=20), CART_SPANS)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTempo]:
    async with FakeTempo() as server:
        seed(server)
        yield server


@pytest.fixture
async def client(fake: FakeTempo) -> AsyncIterator[TempoClient]:
    client = TempoClient.connect(fake.url, timeout=2.0, retry=FAST_RETRY)
    yield client
    await client.close()


@pytest.fixture
def registry(client: TempoClient) -> Registry:
    return Registry(actions(client))


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.run(action.parse_args(raw))


FAILED_PAYMENTS = '{ resource.service.name = "payments" && status = error }'


async def test_query_traces_runs_traceql_over_the_window(registry: Registry, fake: FakeTempo) -> None:
    result = await run(registry, "tempo.query_traces", {"query": FAILED_PAYMENTS})

    assert result.summary == (
        f"1 traces match {FAILED_PAYMENTS} in the last 60 min; "
        "slowest: frontend POST /checkout 1.2s (2f3e0cee…)"
    )
    assert result.data["traces"] == [
        {
            "trace_id": CHECKOUT_TRACE,
            "root_service": "frontend",
            "root_name": "POST /checkout",
            "start": result.data["traces"][0]["start"],
            "duration_ms": 1210,
            "matched_spans": 1,
        }
    ]
    query = fake.calls("GET", "/api/search")[0].query
    assert query["q"] == FAILED_PAYMENTS
    assert int(query["end"]) - int(query["start"]) == 3600
    assert query["limit"] == "20"
    assert result.data["metrics"]["inspectedBytes"] == "48213"


async def test_query_traces_lists_the_slowest_first(registry: Registry) -> None:
    result = await run(registry, "tempo.query_traces", {"query": "{ }", "limit": 10})

    assert [hit["root_name"] for hit in result.data["traces"]] == ["POST /checkout", "GET /cart"]
    assert result.data["traces"][1]["trace_id"] == "a1b2c3d4e5f60718", "Tempo trims leading zeros"
    assert result.summary.endswith(
        "slowest: frontend POST /checkout 1.2s (2f3e0cee…); frontend GET /cart 40ms (a1b2c3d4…)"
    )


async def test_query_traces_with_an_end_searches_before_it(registry: Registry, fake: FakeTempo) -> None:
    end = datetime.now(UTC) - timedelta(minutes=15)

    result = await run(
        registry,
        "tempo.query_traces",
        {"query": "{ duration > 10ms }", "since_minutes": 30, "end": end.isoformat()},
    )

    assert [hit["root_name"] for hit in result.data["traces"]] == ["GET /cart"]
    assert result.summary.startswith("1 traces match { duration > 10ms } in the 30 min before ")
    assert fake.calls("GET", "/api/search")[0].query["end"] == str(int(end.timestamp()))


async def test_query_traces_says_when_nothing_matches(registry: Registry) -> None:
    result = await run(
        registry, "tempo.query_traces", {"query": '{ name = "DELETE /cart" }', "since_minutes": 5}
    )

    assert result.summary == """no traces match { name = "DELETE /cart" } in the last 5 min"""
    assert result.data["traces"] == []


async def test_a_bad_traceql_query_is_tempos_parse_error(registry: Registry) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "tempo.query_traces", {"query": "{ status == error }"})

    assert raised.value.status == 400
    assert raised.value.message == (
        "tempo: GET /api/search failed: bad request: invalid TraceQL query: "
        "parse error at line 1, col 3: syntax error: unexpected IDENTIFIER"
    )


async def test_get_trace_summarises_slowest_spans_and_time_by_service(
    registry: Registry, fake: FakeTempo
) -> None:
    result = await run(registry, "tempo.get_trace", {"trace_id": CHECKOUT_TRACE})

    assert result.summary == CHECKOUT_SUMMARY
    assert result.data["service_time"] == [
        {"service": "payments", "self_ms": 880.0, "share": 0.727},
        {"service": "checkout", "self_ms": 250.0, "share": 0.207},
        {"service": "frontend", "self_ms": 80.0, "share": 0.066},
    ]
    assert result.data["slowest"][0] == {
        "span_id": "1111111111111111",
        "service": "frontend",
        "name": "POST /checkout",
        "kind": "server",
        "duration_ms": 1210.0,
        "error": False,
    }
    assert result.data["errors"][0]["span_id"] == "5555555555555555", "base64 ids come back as hex"
    assert result.data["partial"] is False
    assert [r.path for r in fake.requests] == [f"/api/v2/traces/{CHECKOUT_TRACE}"]


async def test_an_older_tempo_is_asked_on_the_v1_endpoint(fake: FakeTempo) -> None:
    async with FakeTempo(legacy=True) as legacy:
        seed(legacy)
        client = TempoClient.connect(legacy.url, retry=FAST_RETRY)
        try:
            result = await run(
                Registry(actions(client)), "tempo.get_trace", {"trace_id": CHECKOUT_TRACE.upper()}
            )
        finally:
            await client.close()

    assert result.summary == CHECKOUT_SUMMARY
    assert [r.path for r in legacy.requests] == [
        f"/api/v2/traces/{CHECKOUT_TRACE}",
        f"/api/traces/{CHECKOUT_TRACE}",
    ]


async def test_a_partial_trace_says_why(registry: Registry, fake: FakeTempo) -> None:
    fake.partial[CHECKOUT_TRACE] = "Trace exceeds maximum size of 5000000 bytes, a partial trace is returned"

    result = await run(registry, "tempo.get_trace", {"trace_id": CHECKOUT_TRACE})

    assert result.summary.endswith(
        "; partial trace: Trace exceeds maximum size of 5000000 bytes, a partial trace is returned"
    )
    assert result.data["partial"] is True


async def test_an_unknown_trace_is_not_found_on_either_endpoint(registry: Registry, fake: FakeTempo) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "tempo.get_trace", {"trace_id": "deadbeef"})

    assert raised.value.status == 404
    assert raised.value.message == "tempo: trace deadbeef not found"
    assert [r.path for r in fake.requests] == ["/api/v2/traces/deadbeef", "/api/traces/deadbeef"]


async def test_a_trace_without_spans_is_not_found(registry: Registry, fake: FakeTempo) -> None:
    fake.fail_next(200, {"trace": {}, "metrics": {}}, path_prefix="/api/v2/traces")

    with pytest.raises(ToolError, match=f"tempo: trace {CHECKOUT_TRACE} not found"):
        await run(registry, "tempo.get_trace", {"trace_id": CHECKOUT_TRACE})


async def test_tenant_and_token_are_sent_and_required() -> None:
    async with FakeTempo(token="tempo-read", tenant="team-a") as secured:
        seed(secured)
        built = toolset({"TEMPO_URL": secured.url, "TEMPO_TOKEN": "tempo-read", "TEMPO_TENANT": "team-a"})
        anonymous = TempoClient.connect(secured.url, retry=FAST_RETRY)
        try:
            assert built.status == f"enabled, {secured.url}, tenant team-a"
            result = await run(Registry(built.actions), "tempo.get_trace", {"trace_id": CHECKOUT_TRACE})
            assert result.data["span_count"] == 6
            with pytest.raises(ToolError) as raised:
                await run(Registry(actions(anonymous)), "tempo.query_traces", {"query": "{ }"})
        finally:
            await built.aclose()
            await anonymous.close()

    headers = secured.requests[0].headers
    assert (headers["Authorization"], headers["X-Scope-OrgID"]) == ("Bearer tempo-read", "team-a")
    assert raised.value.status == 401
    assert (
        raised.value.message
        == "tempo: GET /api/search failed: not authenticated (check the token): Unauthorized"
    )


async def test_a_denied_tenant_is_a_permission_error(registry: Registry, fake: FakeTempo) -> None:
    fake.fail_next(403, "access denied: tenant team-b is not allowed to read team-a\n")

    with pytest.raises(ToolError) as raised:
        await run(registry, "tempo.query_traces", {"query": "{ }"})

    assert raised.value.status == 403
    assert raised.value.message == (
        "tempo: GET /api/search failed: permission denied: "
        "access denied: tenant team-b is not allowed to read team-a"
    )


async def test_throttled_queries_are_retried_after_retry_after(registry: Registry, fake: FakeTempo) -> None:
    fake.fail_next(429, "job queue full\n", headers={"Retry-After": "1"}, times=2)

    result = await run(registry, "tempo.query_traces", {"query": "{ }"})

    assert len(result.data["traces"]) == 2
    assert len(fake.calls("GET", "/api/search")) == 3


async def test_throttling_that_does_not_end_is_reported(registry: Registry, fake: FakeTempo) -> None:
    fake.fail_next(
        429, "max outstanding requests per tenant reached\n", headers={"Retry-After": "1"}, times=5
    )

    with pytest.raises(ToolError) as raised:
        await run(registry, "tempo.query_traces", {"query": "{ }"})

    assert raised.value.status == 429
    assert raised.value.message == (
        "tempo: GET /api/search failed: rate limited: max outstanding requests per tenant reached"
    )


async def test_a_tempo_that_does_not_answer_in_time_is_a_timeout(fake: FakeTempo) -> None:
    client = TempoClient.connect(fake.url, timeout=0.3, retry=FAST_RETRY)
    fake.stall_next(1.0)
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(actions(client)), "tempo.get_trace", {"trace_id": CHECKOUT_TRACE})
    finally:
        await client.close()

    assert raised.value.message == f"tempo: GET /api/v2/traces/{CHECKOUT_TRACE} timed out after 0.3s"


@pytest.mark.parametrize(
    ("body", "action", "raw", "message"),
    [
        (
            "<html>502 Bad Gateway</html>",
            "tempo.query_traces",
            {"query": "{ }"},
            "tempo: GET /api/search answered with something that is not JSON",
        ),
        (
            {"traces": "none"},
            "tempo.query_traces",
            {"query": "{ }"},
            "tempo: GET /api/search answered without a list of traces",
        ),
        (
            ["not", "a", "trace"],
            "tempo.get_trace",
            {"trace_id": CHECKOUT_TRACE},
            f"tempo: GET /api/v2/traces/{CHECKOUT_TRACE} answered without a trace",
        ),
    ],
)
async def test_malformed_answers_are_readable_errors(
    registry: Registry, fake: FakeTempo, body: Any, action: str, raw: dict[str, Any], message: str
) -> None:
    fake.fail_next(200, body)

    with pytest.raises(ToolError) as raised:
        await run(registry, action, raw)

    assert raised.value.message == message


@pytest.mark.parametrize(
    ("action", "raw"),
    [
        ("tempo.query_traces", {"query": "status = error"}),
        ("tempo.query_traces", {"query": "{ }", "since_minutes": 0}),
        ("tempo.query_traces", {"query": "{ }", "limit": 101}),
        ("tempo.query_traces", {"query": "{ }", "end": "2024-05-01T12:00:00"}),
        ("tempo.get_trace", {"trace_id": "not-hex"}),
        ("tempo.get_trace", {"trace_id": "a" * 33}),
        ("tempo.get_trace", {"trace_id": "../../api/overrides"}),
        ("tempo.get_trace", {"trace_id": CHECKOUT_TRACE, "top": 0}),
    ],
)
def test_bad_arguments_are_rejected(registry: Registry, action: str, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        registry.get(action).parse_args(raw)


def test_the_toolset_is_left_out_without_a_url() -> None:
    with pytest.raises(NotConfigured, match="set TEMPO_URL to enable"):
        toolset({"TEMPO_TENANT": "team-a"})


async def test_toolset_names_its_actions() -> None:
    built = toolset({"TEMPO_URL": "http://tempo.monitoring:3200"})
    try:
        assert built.status == "enabled, http://tempo.monitoring:3200"
        assert [action.name for action in Registry(built.actions)] == [
            "tempo.query_traces",
            "tempo.get_trace",
        ]
    finally:
        await built.aclose()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TEMPO_URL": "tempo:3200"}, "tempo: TEMPO_URL: "),
        ({"TEMPO_URL": "http://tempo:3200", "TEMPO_TENANT": "team a"}, "tempo: TEMPO_TENANT: "),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ToolError) as raised:
        toolset(environ)

    assert raised.value.message.startswith(message)
