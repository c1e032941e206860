"""The demo Prometheus: its series, the expressions it reads, and its HTTP answers as the prometheus
tool's own actions read them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.playground.prometheus import ERROR_RATIO, INCIDENT_RATIO, BadQuery, DemoPrometheus, parse
from bot.playground.serving import serving
from tools.common.base import ToolError
from tools.prometheus import toolset

NOW = 1_800_000_000.0
CHECKOUT = f'{ERROR_RATIO}{{namespace="shop",service="checkout"}}'


class World:
    """A clock and Deployment generations the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW
        self.generations = {"checkout": 1, "payments": 4}

    def prometheus(self) -> DemoPrometheus:
        services = {name: ("shop", name) for name in self.generations}
        return DemoPrometheus(
            services, generation_of=lambda _, name: self.generations.get(name), clock=lambda: self.now
        )


@pytest.fixture
def world() -> World:
    return World()


def test_the_error_ratio_stays_low_until_an_incident_raises_it(world: World) -> None:
    prometheus = world.prometheus()
    assert all(0 < prometheus.value("checkout", NOW + s) < 0.01 for s in range(0, 3600, 60))

    world.now += 10
    prometheus.raise_errors("checkout")
    assert prometheus.value("checkout", world.now - 1) < 0.01
    assert prometheus.value("checkout", world.now + 1) > INCIDENT_RATIO - 0.01
    assert prometheus.value("payments", world.now + 1) < 0.01


def test_a_change_to_the_deployment_or_calming_it_ends_the_incident(world: World) -> None:
    prometheus = world.prometheus()
    prometheus.raise_errors("checkout")
    world.now += 60
    world.generations["checkout"] = 2  # restarted, scaled or rolled back
    assert prometheus.value("checkout", world.now + 1) < 0.01
    assert prometheus.value("checkout", world.now - 30) > 0.1, "the past keeps its spike"

    prometheus.raise_errors("payments")
    world.now += 5
    prometheus.calm("payments")
    assert prometheus.value("payments", world.now + 1) < 0.01


def test_only_demo_services_can_be_raised(world: World) -> None:
    with pytest.raises(LookupError, match="'nosuch' is not a demo service"):
        world.prometheus().raise_errors("nosuch")


@pytest.mark.parametrize(
    ("expr", "selected"),
    [
        (ERROR_RATIO, ["checkout", "payments"]),
        (CHECKOUT, ["checkout"]),
        (f'{ERROR_RATIO}{{service=~"pay.*"}}', ["payments"]),
        (f'{ERROR_RATIO}{{service!="payments", namespace="shop"}}', ["checkout"]),
        (f'{ERROR_RATIO}{{service!~"c.*"}}', ["payments"]),
        (f"{ERROR_RATIO} > 0.05", []),
        (f"{ERROR_RATIO} < 1e-1", ["checkout", "payments"]),
        ('up{job="x"}', []),
    ],
)
def test_selectors_and_comparisons_pick_the_series(world: World, expr: str, selected: list[str]) -> None:
    result = world.prometheus().instant(expr, NOW)
    assert [series["metric"]["service"] for series in result] == selected


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        (f"sum(rate({ERROR_RATIO}[5m]))", "understands one metric selector"),
        (f"{ERROR_RATIO}{{service=checkout}}", "cannot read the label matchers"),
        (f'{ERROR_RATIO}{{service=~"("}}', "invalid regular expression"),
        (f"{ERROR_RATIO} > high", "understands one metric selector"),
        ("", "understands one metric selector"),
    ],
)
def test_expressions_beyond_a_selector_are_refused_with_what_is_understood(expr: str, problem: str) -> None:
    with pytest.raises(BadQuery, match=problem):
        parse(expr)


@pytest.fixture
async def served(world: World) -> AsyncIterator[tuple[World, DemoPrometheus, str]]:
    prometheus = world.prometheus()
    async with serving(prometheus.app()) as url:
        yield world, prometheus, url


async def run_action(url: str, name: str, args: dict[str, Any]) -> Any:
    tools = toolset({"PROMETHEUS_URL": url})
    try:
        action = next(a for a in tools.actions if a.name == name)
        return await action.run(action.args_model.model_validate(args))
    finally:
        await tools.aclose()


async def test_the_prometheus_tool_reads_instant_and_range_answers(
    served: tuple[World, DemoPrometheus, str],
) -> None:
    world, prometheus, url = served
    world.now = time.time() - 300  # the tool asks for "now" by the real clock
    instant = await run_action(url, "prometheus.query", {"expr": CHECKOUT})
    assert "1 series" in instant.summary

    prometheus.raise_errors("checkout")
    ranged = await run_action(url, "prometheus.query_range", {"expr": CHECKOUT, "window_seconds": 600})
    values = [float(value) for _, value in ranged.data["result"][0]["values"]]
    assert min(values) < 0.01 < INCIDENT_RATIO - 0.01 < max(values), "the spike shows from its start on"

    check = {"expr": CHECKOUT, "comparator": "<", "threshold": 0.05, "window_seconds": 0}
    with pytest.raises(ToolError, match=r"was 0\.1"):
        await run_action(url, "prometheus.query_threshold", check)
    world.generations["checkout"] = 2
    passed = await run_action(url, "prometheus.query_threshold", check)
    assert "held" in passed.summary


@pytest.mark.parametrize(
    ("path", "params", "error"),
    [
        ("/api/v1/query", {}, "query is empty"),
        ("/api/v1/query", {"query": "rate(x[5m])"}, "understands"),
        ("/api/v1/query", {"query": ERROR_RATIO, "time": "yesterday"}, "cannot parse 'yesterday'"),
        ("/api/v1/query_range", {"query": ERROR_RATIO}, "a start, end and step are required"),
        (
            "/api/v1/query_range",
            {"query": ERROR_RATIO, "start": "10", "end": "5", "step": "1"},
            "before start",
        ),
        ("/api/v1/query_range", {"query": ERROR_RATIO, "start": "0", "end": "5", "step": "0"}, "step widths"),
        (
            "/api/v1/query_range",
            {"query": ERROR_RATIO, "start": "0", "end": "1e6", "step": "1"},
            "11000 points",
        ),
    ],
)
async def test_bad_queries_get_prometheus_bad_data_answers(
    served: tuple[World, DemoPrometheus, str], path: str, params: dict[str, str], error: str
) -> None:
    _, _, url = served
    async with aiohttp.ClientSession() as session, session.get(url + path, params=params) as response:
        body = await response.json()
    assert response.status == 400
    assert (body["status"], body["errorType"]) == ("error", "bad_data")
    assert error in body["error"]


async def test_post_queries_are_answered_like_get(served: tuple[World, DemoPrometheus, str]) -> None:
    _, _, url = served
    form = {"query": CHECKOUT, "time": str(NOW)}
    async with aiohttp.ClientSession() as session, session.post(f"{url}/api/v1/query", data=form) as response:
        body = await response.json()
    assert body["data"]["resultType"] == "vector"
    assert body["data"]["result"][0]["value"][0] == NOW
