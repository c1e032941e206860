"""The prometheus tool against a real Prometheus (Debian's binary) scraping itself, Alertmanager and a
checkout exporter, and evaluating tests/fakes/prometheus_stack/rules.yml; Thanos parameters against
a fake Thanos Query, since Thanos cannot run here."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes.prometheus_stack import (
    CHECKOUT_ERROR_RATIO,
    EXEMPLAR_TRACE_ID,
    RunningStack,
    eventually,
)
from tests.fakes.thanos_query import STORE_ERROR, FakeThanosQuery
from tests.processes import free_port
from tools.common.base import ActionResult, ToolError
from tools.common.http import JsonHttpClient
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.prometheus import actions, toolset
from tools.prometheus.client import PrometheusClient, prometheus_error

CLOCK = r"\d\d:\d\d:\d\d UTC"


@pytest.fixture
async def registry(stack: RunningStack) -> AsyncIterator[Registry]:
    tools = toolset({"PROMETHEUS_URL": stack.prometheus_url})
    yield Registry(tools.actions)
    await tools.aclose()


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action = registry.get(name)
    return await action.run(action.parse_args(raw))


async def test_query_up_returns_every_scraped_target(registry: Registry, stack: RunningStack) -> None:
    result = await run(registry, "prometheus.query", {"expr": "up"})

    assert result.data["result_type"] == "vector"
    assert result.data["series_count"] == 3
    jobs = {series["metric"]["job"]: series["value"][1] for series in result.data["result"]}
    assert jobs == {"prometheus": "1", "alertmanager": "1", "checkout": "1"}
    assert result.summary.startswith("up: 3 series: up{")
    assert f'up{{instance="{stack.checkout_target}", job="checkout"}} = 1' in result.summary


async def test_query_keeps_only_limit_series_in_data_and_counts_all(registry: Registry) -> None:
    result = await run(registry, "prometheus.query", {"expr": "up", "limit": 1})

    assert len(result.data["result"]) == 1
    assert result.data["series_count"] == 3
    assert result.data["truncated"] is True


async def test_query_scalar_reports_its_value(registry: Registry) -> None:
    result = await run(registry, "prometheus.query", {"expr": "scalar(vector(42))"})

    assert result.summary == "scalar(vector(42)) = 42"
    assert result.data["result_type"] == "scalar"


async def test_query_of_a_range_selector_counts_points_per_series(registry: Registry) -> None:
    result = await run(registry, "prometheus.query", {"expr": 'up{job="prometheus"}[10s]'})

    assert result.data["result_type"] == "matrix"
    assert re.fullmatch(
        r'up\{job="prometheus"\}\[10s\]: 1 series: up\{instance="[^"]+", job="prometheus"\}: \d+ points?',
        result.summary,
    )


async def test_query_range_returns_one_point_per_step(registry: Registry) -> None:
    args = {"expr": 'up{job="prometheus"}', "window_seconds": 30, "step_seconds": 1}
    # Prometheus has scraped for a few seconds only: wait until the range holds several points.
    result = await eventually(
        lambda: run(registry, "prometheus.query_range", args),
        lambda r: len(r.data["result"][0]["values"]) >= 3,
    )

    assert result.data["result_type"] == "matrix"
    assert result.data["series_count"] == 1
    assert result.data["end"] - result.data["start"] == 30
    points = result.data["result"][0]["values"]
    assert len(points) >= 3
    assert {value for _, value in points} == {"1"}
    assert re.fullmatch(
        r'up\{job="prometheus"\}: 1 series, \d+ samples over 30s \(step 1s\), min 1, max 1', result.summary
    )


async def test_list_rules_shows_the_rule_file_with_firing_and_pending_alerts(registry: Registry) -> None:
    result = await eventually(
        lambda: run(registry, "prometheus.list_rules", {}), lambda r: "pending" in r.summary
    )

    assert result.summary == (
        "3 rules in 1 group; firing: ProbeAlwaysFiring; pending: CheckoutErrorRatioHigh"
    )
    [group] = result.data["groups"]
    assert group["name"] == "carapulse-probe"
    firing = next(rule for rule in group["rules"] if rule["name"] == "ProbeAlwaysFiring")
    assert firing | {"labels": None} == {
        "type": "alerting",
        "name": "ProbeAlwaysFiring",
        "query": "vector(1) > 0",
        "health": "ok",
        "last_error": "",
        "state": "firing",
        "labels": None,
        "active_alerts": 1,
    }
    assert firing["labels"]["severity"] == "critical"


async def test_list_rules_filters_by_type(registry: Registry) -> None:
    result = await run(registry, "prometheus.list_rules", {"type": "record"})

    assert [rule["name"] for rule in result.data["groups"][0]["rules"]] == ["job:up:sum"]
    assert result.summary == "1 rule in 1 group"


async def test_list_alerts_shows_the_always_firing_alert(registry: Registry) -> None:
    result = await eventually(
        lambda: run(registry, "prometheus.list_alerts", {"state": "firing"}),
        lambda r: r.data["alert_count"] > 0,
    )

    assert result.summary == "1 alert: ProbeAlwaysFiring (firing)"
    [alert] = result.data["alerts"]
    assert alert["labels"] == {
        "alertname": "ProbeAlwaysFiring",
        "namespace": "prod",
        "service": "checkout",
        "severity": "critical",
    }


async def test_list_alerts_filters_by_labels(registry: Registry) -> None:
    result = await eventually(
        lambda: run(registry, "prometheus.list_alerts", {"labels": {"severity": "warning"}}),
        lambda r: r.data["alert_count"] > 0,
    )

    assert result.summary == "1 alert: CheckoutErrorRatioHigh (pending)"


async def test_list_series_finds_the_checkout_target(registry: Registry, stack: RunningStack) -> None:
    result = await run(registry, "prometheus.list_series", {"match": ['up{job="checkout"}']})

    assert result.data["series"] == [{"__name__": "up", "instance": stack.checkout_target, "job": "checkout"}]
    assert result.summary.startswith('1 series match up{job="checkout"}: up{instance=')


async def test_query_exemplars_returns_the_trace_id(registry: Registry) -> None:
    result = await run(registry, "prometheus.query_exemplars", {"expr": "checkout_requests_total"})

    assert result.data["exemplar_count"] >= 1
    [series] = result.data["series"]
    assert series["seriesLabels"]["code"] == "500"
    assert series["exemplars"][0]["labels"] == {"trace_id": EXEMPLAR_TRACE_ID}
    assert f'{{trace_id="{EXEMPLAR_TRACE_ID}"}}' in result.summary


async def test_threshold_holds_over_the_window(registry: Registry) -> None:
    result = await run(
        registry,
        "prometheus.query_threshold",
        {
            "expr": 'up{job="prometheus"}',
            "comparator": "==",
            "threshold": 1,
            "window_seconds": 1.5,
            "interval_seconds": 0.5,
        },
    )

    assert result.data["evaluations"] >= 2
    assert result.data["series_count"] == 1
    assert re.fullmatch(
        r'up\{job="prometheus"\} == 1 held for 1\.5s \(\d evaluations, 1 series; closest 1\)', result.summary
    )


async def test_threshold_fails_at_once_with_the_value_time_and_condition(registry: Registry) -> None:
    action = registry.get("prometheus.query_threshold")
    args = action.parse_args(
        {
            "expr": "checkout_error_ratio",
            "comparator": "<",
            "threshold": 0.01,
            "window_seconds": 600,
            "label": "error_rate",
        }
    )
    started = time.monotonic()

    with pytest.raises(ToolError) as failure:
        await action.run(args)

    assert time.monotonic() - started < 5, "a violation must not wait out the window"
    assert re.fullmatch(
        rf"error_rate was {re.escape(str(CHECKOUT_ERROR_RATIO))} at {CLOCK}, needs < 0\.01",
        failure.value.message,
    )


async def test_threshold_names_the_failing_series_when_there_are_several(registry: Registry) -> None:
    with pytest.raises(ToolError) as failure:
        await run(registry, "prometheus.query_threshold", {"expr": "up", "comparator": "!=", "threshold": 1})

    assert re.fullmatch(
        rf'up \(up\{{instance="[^"]+", job="\w+"\}}\) was 1 at {CLOCK}, needs != 1', failure.value.message
    )


async def test_threshold_fails_on_no_data(registry: Registry) -> None:
    with pytest.raises(ToolError) as failure:
        await run(
            registry,
            "prometheus.query_threshold",
            {"expr": "checkout_missing_metric", "comparator": ">", "threshold": 0, "window_seconds": 0},
        )

    assert re.fullmatch(rf"no data for checkout_missing_metric at {CLOCK}, needs > 0", failure.value.message)


async def test_threshold_passes_on_no_data_when_allowed(registry: Registry) -> None:
    result = await run(
        registry,
        "prometheus.query_threshold",
        {
            "expr": "checkout_missing_metric",
            "comparator": ">",
            "threshold": 0,
            "allow_empty": True,
            "window_seconds": 0,
        },
    )

    assert result.summary == "checkout_missing_metric: no data now (1 evaluation); allowed"
    assert result.data["closest"] is None


async def test_threshold_refuses_a_string_result(registry: Registry) -> None:
    with pytest.raises(ToolError, match="returned a string result, not numbers"):
        await run(
            registry, "prometheus.query_threshold", {"expr": '"ok"', "comparator": "==", "threshold": 1}
        )


@pytest.mark.parametrize("action", ["prometheus.query", "prometheus.query_threshold"])
async def test_bad_promql_is_prometheus_own_error(registry: Registry, action: str) -> None:
    raw: dict[str, Any] = {"expr": "sum(rate(http_requests_total[5m])"}
    if action == "prometheus.query_threshold":
        raw |= {"comparator": "<", "threshold": 1}

    with pytest.raises(ToolError) as failure:
        await run(registry, action, raw)

    assert failure.value.status == 400
    assert failure.value.call == "GET /api/v1/query"
    assert failure.value.message == (
        'prometheus: GET /api/v1/query failed: bad request: invalid parameter "query": '
        "1:34: parse error: unclosed left parenthesis"
    )


async def test_execution_error_says_what_failed(registry: Registry) -> None:
    with pytest.raises(ToolError) as failure:
        await run(registry, "prometheus.query", {"expr": "up * on() up"})

    assert failure.value.status == 422
    assert "found duplicate series for the match group" in failure.value.message
    assert failure.value.message.endswith("(execution)")


async def test_range_query_with_too_many_points_is_refused_by_prometheus(registry: Registry) -> None:
    with pytest.raises(ToolError, match="exceeded maximum resolution of 11,000 points per timeseries"):
        await run(
            registry, "prometheus.query_range", {"expr": "up", "window_seconds": 86400, "step_seconds": 1}
        )


async def test_unreachable_prometheus_is_a_readable_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    http = JsonHttpClient(
        "prometheus",
        url,
        error_message=prometheus_error,
        retry=RetryPolicy(2, initial_wait=0.01, max_wait=0.02),
    )
    query = Registry(actions(PrometheusClient(http))).get("prometheus.query")

    with pytest.raises(ToolError) as failure:
        await query.run(query.parse_args({"expr": "up"}))
    await http.close()

    assert failure.value.message.startswith(f"prometheus: cannot reach {url}: ")
    assert failure.value.call == "GET /api/v1/query"


# --- Thanos parameters, against a fake Thanos Query ---------------------------------------------------


@pytest.fixture
async def thanos() -> AsyncIterator[FakeThanosQuery]:
    async with FakeThanosQuery() as server:
        yield server


THANOS_CALLS = [
    ("prometheus.query", {"expr": "up"}, "/api/v1/query"),
    ("prometheus.query_range", {"expr": "up", "window_seconds": 60}, "/api/v1/query_range"),
    (
        "prometheus.query_threshold",
        {"expr": "up", "comparator": "==", "threshold": 1, "window_seconds": 0},
        "/api/v1/query",
    ),
    ("prometheus.list_series", {"match": ["up"]}, "/api/v1/series"),
    ("prometheus.list_rules", {}, "/api/v1/rules"),
    ("prometheus.list_alerts", {}, "/api/v1/alerts"),
    ("prometheus.list_targets", {}, "/api/v1/targets"),
    ("prometheus.query_exemplars", {"expr": "up"}, "/api/v1/query_exemplars"),
]
QUERY_PARAMS = {"dedup": "true", "partial_response": "false", "max_source_resolution": "auto"}
EXPECTED_THANOS_PARAMS = {
    "/api/v1/query": QUERY_PARAMS,
    "/api/v1/query_range": QUERY_PARAMS,
    "/api/v1/series": {"dedup": "true", "partial_response": "false"},
    "/api/v1/rules": {"partial_response": "false"},
    "/api/v1/alerts": {"partial_response": "false"},
    "/api/v1/targets": {"partial_response": "false"},
    "/api/v1/query_exemplars": {"partial_response": "false"},
}
THANOS_KEYS = {"dedup", "partial_response", "max_source_resolution"}


@pytest.mark.parametrize(("action", "raw", "path"), THANOS_CALLS)
async def test_thanos_url_sends_thanos_parameters_and_the_token(
    thanos: FakeThanosQuery, action: str, raw: dict[str, Any], path: str
) -> None:
    tools = toolset({"THANOS_URL": thanos.url, "PROMETHEUS_TOKEN": "prom-token-123"})

    await run(Registry(tools.actions), action, raw)
    await tools.aclose()

    [request] = thanos.requests
    assert request.path == path
    assert {k: v for k, v in request.query.items() if k in THANOS_KEYS} == EXPECTED_THANOS_PARAMS[path]
    assert request.headers["Authorization"] == "Bearer prom-token-123"


async def test_thanos_flag_uses_prometheus_url_with_configured_parameters(thanos: FakeThanosQuery) -> None:
    environ = {
        "PROMETHEUS_URL": thanos.url,
        "THANOS": "1",
        "THANOS_DEDUP": "false",
        "THANOS_PARTIAL_RESPONSE": "true",
        "THANOS_MAX_SOURCE_RESOLUTION": "5m",
    }
    tools = toolset(environ)

    await run(Registry(tools.actions), "prometheus.query", {"expr": "up"})
    await tools.aclose()

    assert thanos.requests[0].query | {"query": None} == {
        "query": None,
        "dedup": "false",
        "partial_response": "true",
        "max_source_resolution": "5m",
    }
    assert tools.status == (
        f"enabled, Thanos Query at {thanos.url} "
        "(dedup off, partial response allowed, max source resolution 5m)"
    )


@pytest.mark.parametrize(("action", "raw", "path"), THANOS_CALLS)
async def test_plain_prometheus_gets_no_thanos_parameters(
    thanos: FakeThanosQuery, action: str, raw: dict[str, Any], path: str
) -> None:
    tools = toolset({"PROMETHEUS_URL": thanos.url})

    await run(Registry(tools.actions), action, raw)
    await tools.aclose()

    assert not THANOS_KEYS & thanos.requests[0].query.keys()
    assert "Authorization" not in thanos.requests[0].headers


async def test_thanos_missing_store_fails_the_query_when_partial_responses_are_refused() -> None:
    async with FakeThanosQuery(store_down=True) as thanos:
        tools = toolset({"THANOS_URL": thanos.url})
        with pytest.raises(ToolError) as failure:
            await run(Registry(tools.actions), "prometheus.query", {"expr": "up"})
        await tools.aclose()

    assert failure.value.status == 422
    assert (
        failure.value.message == f"prometheus: GET /api/v1/query failed: rejected: {STORE_ERROR} (execution)"
    )


async def test_thanos_partial_answer_carries_its_warning() -> None:
    async with FakeThanosQuery(store_down=True) as thanos:
        tools = toolset({"THANOS_URL": thanos.url, "THANOS_PARTIAL_RESPONSE": "true"})
        result = await run(Registry(tools.actions), "prometheus.query", {"expr": "up"})
        await tools.aclose()

    assert result.data["warnings"] == [STORE_ERROR]
    assert result.summary.endswith(f"(warning: {STORE_ERROR})")


# --- the entry point ------------------------------------------------------------------------------


def test_toolset_is_not_configured_without_a_url() -> None:
    with pytest.raises(NotConfigured, match="PROMETHEUS_URL"):
        toolset({"PROMETHEUS_TOKEN": "t"})


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"PROMETHEUS_URL": "prometheus:9090"}, "PROMETHEUS_URL"),
        ({"THANOS_URL": "ftp://thanos"}, "THANOS_URL"),
        ({"PROMETHEUS_URL": "http://p:9090", "THANOS": "sometimes"}, "THANOS"),
        (
            {"PROMETHEUS_URL": "http://p:9090", "THANOS_MAX_SOURCE_RESOLUTION": "fine"},
            "THANOS_MAX_SOURCE_RESOLUTION",
        ),
    ],
)
def test_toolset_names_the_bad_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ToolError) as failure:
        toolset(environ)

    assert failure.value.message.startswith(f"prometheus: {variable}: ")


async def test_toolset_lists_its_read_actions_and_where_it_queries() -> None:
    tools = toolset({"PROMETHEUS_URL": "http://prometheus.monitoring:9090/"})
    await tools.aclose()

    assert [action.name for action in tools.actions] == [
        "prometheus.query",
        "prometheus.query_range",
        "prometheus.list_rules",
        "prometheus.list_alerts",
        "prometheus.list_targets",
        "prometheus.list_series",
        "prometheus.query_exemplars",
        "prometheus.query_threshold",
    ]
    assert all(action.effect == "read" and action.idempotent for action in tools.actions)
    assert tools.status == "enabled, http://prometheus.monitoring:9090"


async def test_thanos_url_wins_over_prometheus_url_and_says_so() -> None:
    tools = toolset({"PROMETHEUS_URL": "http://prometheus:9090", "THANOS_URL": "http://thanos-query:10902"})
    await tools.aclose()

    assert tools.status.startswith("enabled, Thanos Query at http://thanos-query:10902 (")
    assert tools.status.endswith("; PROMETHEUS_URL is not used while THANOS_URL is set")


async def test_list_targets_names_each_scraped_job_with_its_labels(
    registry: Registry, stack: RunningStack
) -> None:
    result = await eventually(
        lambda: run(registry, "prometheus.list_targets", {}),
        lambda r: {t["health"] for t in r.data["targets"]} == {"up"},
    )

    assert result.summary == "3 targets"
    by_job = {target["job"]: target for target in result.data["targets"]}
    assert set(by_job) == {"prometheus", "alertmanager", "checkout"}
    assert by_job["checkout"]["instance"] == stack.checkout_target
    assert by_job["checkout"]["labels"] == {"instance": stack.checkout_target, "job": "checkout"}
    assert by_job["checkout"]["scrape_url"] == f"http://{stack.checkout_target}/metrics"
    only = await run(registry, "prometheus.list_targets", {"job": "checkout", "limit": 1})
    assert [t["job"] for t in only.data["targets"]] == ["checkout"] and only.data["truncated"] is False
