"""The Grafana tool against the fake Grafana API: annotations with their dry run and rollback,
dashboard search, panel links, and failures as sentences a person can act on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from tests.fakes.grafana import FakeGrafana
from tools.common.base import Action, ActionResult, ToolError
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured
from tools.grafana import GrafanaClient, actions, toolset

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)
DEPLOYED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DEPLOYED_MS = 1714564800000

CHECKOUT_LATENCY = {
    "uid": "checkout-latency",
    "title": "Checkout latency",
    "schemaVersion": 39,
    "panels": [
        {"id": 1, "type": "timeseries", "title": "p99 latency by route"},
        {
            "id": 2,
            "type": "row",
            "title": "Errors",
            "collapsed": True,
            "panels": [{"id": 3, "type": "stat", "title": "5xx rate"}],
        },
    ],
}
LEGACY_NODES = {
    "uid": "node-exporter",
    "title": "Node exporter (old)",
    "schemaVersion": 14,
    "rows": [{"title": "CPU", "panels": [{"id": 7, "type": "graph", "title": "CPU busy"}]}],
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeGrafana]:
    async with FakeGrafana() as server:
        server.add_dashboard(CHECKOUT_LATENCY, folder="Shop", tags=["checkout", "slo"])
        server.add_dashboard(LEGACY_NODES, folder="Infra", tags=["nodes"])
        yield server


@pytest.fixture
async def client(fake: FakeGrafana) -> AsyncIterator[GrafanaClient]:
    client = GrafanaClient.connect(fake.url, fake.token, timeout=2.0, retry=FAST_RETRY)
    yield client
    await client.close()


@pytest.fixture
def registry(client: GrafanaClient) -> Registry:
    return Registry(actions(client))


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.run(action.parse_args(raw))


async def rehearse(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action: Action[Any] = registry.get(name)
    return await action.dry_run(action.parse_args(raw))


PANEL_NOTE = {
    "text": "Deploying checkout 1.5",
    "tags": ["deploy", "checkout"],
    "dashboard_uid": "checkout-latency",
    "panel_id": 1,
    "time": "2024-05-01T12:00:00Z",
}


async def test_annotate_a_panel_and_roll_back_by_deleting_it(registry: Registry, fake: FakeGrafana) -> None:
    annotate = registry.get("grafana.annotate")
    args = annotate.parse_args(PANEL_NOTE)

    result = await annotate.run(args)

    assert result.summary == (
        "annotated 'Checkout latency' panel 'p99 latency by route' (annotation 1): Deploying checkout 1.5"
    )
    assert fake.calls("POST", "/api/annotations")[0].body == {
        "text": "Deploying checkout 1.5",
        "tags": ["deploy", "checkout"],
        "time": DEPLOYED_MS,
        "dashboardUID": "checkout-latency",
        "panelId": 1,
    }
    assert fake.annotations[1]["dashboardId"] == 100
    assert result.data["annotation_id"] == 1

    step = annotate.rollback(args, result)
    assert (step.action, step.args) == ("grafana.delete_annotation", {"annotation_id": 1})
    assert step.description == "delete annotation 1 from 'Checkout latency' panel 'p99 latency by route'"
    undone = await run(registry, step.action, step.args)
    assert undone.summary == "deleted annotation 1"
    assert fake.annotations == {}


async def test_deleting_an_annotation_twice_is_not_an_error(registry: Registry, fake: FakeGrafana) -> None:
    await run(registry, "grafana.annotate", {"text": "Incident 42 opened"})
    await run(registry, "grafana.delete_annotation", {"annotation_id": 1})

    again = await run(registry, "grafana.delete_annotation", {"annotation_id": 1})

    assert again.summary == "annotation 1 was already gone"
    assert again.data["deleted"] is False


async def test_an_organisation_annotation_defaults_to_now(registry: Registry, fake: FakeGrafana) -> None:
    before = int(datetime.now(UTC).timestamp() * 1000)

    result = await run(registry, "grafana.annotate", {"text": "Incident 42 opened", "tags": ["incident"]})

    assert result.summary == "annotated the organisation tagged incident (annotation 1): Incident 42 opened"
    sent = fake.calls("POST", "/api/annotations")[0].body
    assert set(sent) == {"text", "tags", "time"}
    assert before <= sent["time"] <= datetime.now(UTC).timestamp() * 1000


async def test_a_region_annotation_sends_its_end(registry: Registry, fake: FakeGrafana) -> None:
    await run(
        registry,
        "grafana.annotate",
        {"text": "Maintenance", "time": "2024-05-01T12:00:00Z", "time_end": "2024-05-01T12:30:00+00:00"},
    )

    assert fake.calls("POST", "/api/annotations")[0].body["timeEnd"] == DEPLOYED_MS + 30 * 60 * 1000


async def test_annotate_dry_run_checks_the_panel_and_creates_nothing(
    registry: Registry, fake: FakeGrafana
) -> None:
    result = await rehearse(registry, "grafana.annotate", PANEL_NOTE)

    assert result.summary == (
        "dry run: would annotate 'Checkout latency' panel 'p99 latency by route': Deploying checkout 1.5"
    )
    assert fake.calls("POST", "/api/annotations") == []
    assert fake.calls("GET", "/api/dashboards/uid/checkout-latency")


@pytest.mark.parametrize("rehearsal", [False, True])
async def test_an_unknown_dashboard_is_refused_before_grafana_turns_it_org_wide(
    registry: Registry, fake: FakeGrafana, rehearsal: bool
) -> None:
    raw = {**PANEL_NOTE, "dashboard_uid": "checkout-latncy"}
    action = registry.get("grafana.annotate")

    with pytest.raises(ToolError) as raised:
        await (action.dry_run if rehearsal else action.run)(action.parse_args(raw))

    assert raised.value.status == 404
    assert raised.value.message == (
        "grafana: GET /api/dashboards/uid/checkout-latncy failed: not found: Dashboard not found"
    )
    assert fake.annotations == {}


async def test_an_unknown_panel_lists_the_panels_there_are(registry: Registry, fake: FakeGrafana) -> None:
    with pytest.raises(ToolError) as raised:
        await run(registry, "grafana.annotate", {**PANEL_NOTE, "panel_id": 2})

    assert raised.value.message == (
        "dashboard 'Checkout latency' has no panel 2 (panels: 1 p99 latency by route, 3 5xx rate)"
    )
    assert fake.annotations == {}


async def test_delete_annotation_dry_run_reads_it_and_deletes_nothing(
    registry: Registry, fake: FakeGrafana
) -> None:
    await run(registry, "grafana.annotate", {"text": "Deploying checkout 1.5\nchangelog: …"})

    present = await rehearse(registry, "grafana.delete_annotation", {"annotation_id": 1})
    absent = await rehearse(registry, "grafana.delete_annotation", {"annotation_id": 9})

    assert present.summary == "dry run: would delete annotation 1: Deploying checkout 1.5 …"
    assert absent.summary == "dry run: annotation 9 is already gone"
    assert list(fake.annotations) == [1]


async def test_list_dashboards_matches_title_words_and_tags(registry: Registry, fake: FakeGrafana) -> None:
    result = await run(registry, "grafana.list_dashboards", {"query": "latency", "tags": ["slo"]})

    assert result.summary == "1 dashboards match 'latency' #slo: Checkout latency (Shop, checkout-latency)"
    assert result.data["dashboards"] == [
        {
            "uid": "checkout-latency",
            "title": "Checkout latency",
            "folder": "Shop",
            "tags": ["checkout", "slo"],
            "url": f"{fake.url}/d/checkout-latency/checkout-latency",
        }
    ]
    assert fake.calls("GET", "/api/search")[0].query == {
        "query": "latency",
        "tag": "slo",
        "type": "dash-db",
        "limit": "20",
    }


async def test_list_dashboards_says_when_nothing_matches(registry: Registry) -> None:
    result = await run(registry, "grafana.list_dashboards", {"query": "payments"})

    assert result.summary == "no dashboards match 'payments'"


async def test_panel_link_opens_the_panel_and_renders_it(registry: Registry, fake: FakeGrafana) -> None:
    raw = {"dashboard_uid": "checkout-latency", "panel_id": 3, "from_time": "2024-05-01T12:00:00Z"}

    result = await run(registry, "grafana.get_panel_link", raw)

    url, image = urlsplit(result.data["url"]), urlsplit(result.data["render_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.url}/d/checkout-latency/checkout-latency"
    assert parse_qs(url.query) == {"viewPanel": ["3"], "from": [str(DEPLOYED_MS)], "to": ["now"]}
    assert image.path == "/render/d-solo/checkout-latency/checkout-latency"
    assert parse_qs(image.query) == {
        "panelId": ["3"],
        "from": [str(DEPLOYED_MS)],
        "to": ["now"],
        "width": ["1000"],
        "height": ["500"],
    }
    assert result.summary == f"Checkout latency / 5xx rate: {result.data['url']}"
    assert result.data["panel"] == {"id": 3, "title": "5xx rate", "type": "stat"}


async def test_panel_link_finds_panels_in_legacy_rows(registry: Registry) -> None:
    result = await run(
        registry,
        "grafana.get_panel_link",
        {"dashboard_uid": "node-exporter", "panel_id": 7, "from_time": "now-6h"},
    )

    assert result.summary.startswith("Node exporter (old) / CPU busy: ")
    assert "/d/node-exporter/node-exporter-old?viewPanel=7&from=now-6h&to=now" in result.data["url"]


async def test_a_row_is_not_a_panel_to_link(registry: Registry) -> None:
    with pytest.raises(ToolError, match="has no panel 2"):
        await run(registry, "grafana.get_panel_link", {"dashboard_uid": "checkout-latency", "panel_id": 2})


async def test_a_missing_permission_is_named(registry: Registry, fake: FakeGrafana) -> None:
    fake.deny("annotations:create")

    with pytest.raises(ToolError) as raised:
        await run(registry, "grafana.annotate", {"text": "Incident 42 opened"})

    assert raised.value.status == 403
    assert raised.value.message == (
        "grafana: POST /api/annotations failed: permission denied: You'll need additional permissions to "
        "perform this action. Permissions needed: annotations:create"
    )


async def test_a_wrong_token_is_an_authentication_error(fake: FakeGrafana) -> None:
    client = GrafanaClient.connect(fake.url, "glsa_revoked", retry=FAST_RETRY)
    try:
        with pytest.raises(ToolError) as raised:
            await run(Registry(actions(client)), "grafana.list_dashboards", {})
    finally:
        await client.close()

    assert raised.value.status == 401
    assert raised.value.message == (
        "grafana: GET /api/search failed: not authenticated (check the token): Invalid API key"
    )


async def test_a_conflicting_write_is_reported_and_not_repeated(
    registry: Registry, fake: FakeGrafana
) -> None:
    fake.fail_next(
        409, {"message": "Annotation is being updated by another request"}, path_prefix="/api/annotations"
    )

    with pytest.raises(ToolError) as raised:
        await run(registry, "grafana.annotate", {"text": "Incident 42 opened"})

    assert raised.value.status == 409
    assert raised.value.message == (
        "grafana: POST /api/annotations failed: conflict: Annotation is being updated by another request"
    )
    assert len(fake.calls("POST", "/api/annotations")) == 1


async def test_throttled_reads_are_retried_and_creates_are_not(registry: Registry, fake: FakeGrafana) -> None:
    throttled = {"message": "Too Many Requests"}
    fake.fail_next(429, throttled, headers={"Retry-After": "2"}, times=2, path_prefix="/api/search")

    listed = await run(registry, "grafana.list_dashboards", {})
    assert len(listed.data["dashboards"]) == 2
    assert len(fake.calls("GET", "/api/search")) == 3

    fake.fail_next(429, throttled, headers={"Retry-After": "2"}, path_prefix="/api/annotations")
    with pytest.raises(ToolError) as raised:
        await run(registry, "grafana.annotate", {"text": "Incident 42 opened"})
    assert raised.value.message == "grafana: POST /api/annotations failed: rate limited: Too Many Requests"
    assert len(fake.calls("POST", "/api/annotations")) == 1


async def test_a_delete_that_failed_transiently_is_retried(registry: Registry, fake: FakeGrafana) -> None:
    await run(registry, "grafana.annotate", {"text": "Incident 42 opened"})
    fake.fail_next(502, "<html>Bad Gateway</html>", path_prefix="/api/annotations/1")

    result = await run(registry, "grafana.delete_annotation", {"annotation_id": 1})

    assert result.summary == "deleted annotation 1"
    assert len(fake.calls("DELETE", "/api/annotations/1")) == 2


async def test_a_grafana_that_does_not_answer_in_time_is_a_timeout(fake: FakeGrafana) -> None:
    client = GrafanaClient.connect(fake.url, fake.token, timeout=0.3, retry=FAST_RETRY)
    fake.stall_next(1.0)
    try:
        with pytest.raises(ToolError) as raised:
            await run(
                Registry(actions(client)),
                "grafana.get_panel_link",
                {"dashboard_uid": "checkout-latency", "panel_id": 1},
            )
    finally:
        await client.close()

    assert raised.value.message == "grafana: GET /api/dashboards/uid/checkout-latency timed out after 0.3s"


@pytest.mark.parametrize(
    ("path", "body", "action", "raw", "message"),
    [
        (
            "/api/search",
            "<!doctype html><title>Grafana</title>",
            "grafana.list_dashboards",
            {},
            "grafana: GET /api/search answered with something that is not JSON",
        ),
        (
            "/api/search",
            {"dashboards": []},
            "grafana.list_dashboards",
            {},
            "grafana: GET /api/search answered without a list of dashboards",
        ),
        (
            "/api/dashboards",
            {"meta": {}},
            "grafana.get_panel_link",
            {"dashboard_uid": "checkout-latency", "panel_id": 1},
            "grafana: GET /api/dashboards/uid/checkout-latency answered without a dashboard",
        ),
        (
            "/api/annotations",
            {"message": "Annotation added"},
            "grafana.annotate",
            {"text": "Incident 42 opened"},
            "grafana: POST /api/annotations answered without an id",
        ),
    ],
)
async def test_malformed_answers_are_readable_errors(
    registry: Registry,
    fake: FakeGrafana,
    path: str,
    body: Any,
    action: str,
    raw: dict[str, Any],
    message: str,
) -> None:
    fake.fail_next(200, body, path_prefix=path)

    with pytest.raises(ToolError) as raised:
        await run(registry, action, raw)

    assert raised.value.message == message


@pytest.mark.parametrize(
    ("action", "raw"),
    [
        ("grafana.annotate", {"text": "  "}),
        ("grafana.annotate", {"text": "x", "panel_id": 1}),
        ("grafana.annotate", {"text": "x", "dashboard_uid": "has spaces"}),
        ("grafana.annotate", {"text": "x", "time": "2024-05-01T12:00:00"}),
        (
            "grafana.annotate",
            {"text": "x", "time": "2024-05-01T12:00:00Z", "time_end": "2024-05-01T11:00:00Z"},
        ),
        ("grafana.annotate", {"text": "x", "tags": ["t"] * 21}),
        ("grafana.annotate", {"text": "x", "dashboardUID": "checkout-latency"}),
        ("grafana.delete_annotation", {"annotation_id": 0}),
        (
            "grafana.get_panel_link",
            {"dashboard_uid": "checkout-latency", "panel_id": 1, "from_time": "yesterday"},
        ),
        (
            "grafana.get_panel_link",
            {"dashboard_uid": "checkout-latency", "panel_id": 1, "to_time": "2024-05-01"},
        ),
        ("grafana.get_panel_link", {"dashboard_uid": "checkout-latency", "panel_id": 1, "width": 50}),
        ("grafana.list_dashboards", {"limit": 101}),
    ],
)
def test_bad_arguments_are_rejected(registry: Registry, action: str, raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        registry.get(action).parse_args(raw)


@pytest.mark.parametrize(
    "value", ["now", "now-15m", "now-7d/d", "now/w", "1714564800000", "2024-05-01T12:00:00+02:00"]
)
def test_grafana_times_are_accepted(registry: Registry, value: str) -> None:
    args = registry.get("grafana.get_panel_link").parse_args(
        {"dashboard_uid": "checkout-latency", "panel_id": 1, "from_time": value}
    )

    assert args.from_time == (value if not value.startswith("2024") else str(DEPLOYED_MS - 2 * 3600 * 1000))


async def test_toolset_builds_every_action_on_one_client(fake: FakeGrafana) -> None:
    built = toolset({"GRAFANA_URL": fake.url, "GRAFANA_TOKEN": fake.token})
    try:
        assert built.status == f"enabled, {fake.url}"
        assert [action.name for action in Registry(built.actions)] == [
            "grafana.annotate",
            "grafana.delete_annotation",
            "grafana.list_dashboards",
            "grafana.get_panel_link",
        ]
        assert len({id(action.client) for action in built.actions}) == 1  # type: ignore[attr-defined]
        result = await run(Registry(built.actions), "grafana.list_dashboards", {"query": "checkout"})
        assert result.data["dashboards"][0]["uid"] == "checkout-latency"
    finally:
        await built.aclose()


def test_a_grafana_under_a_sub_path_keeps_it_in_links() -> None:
    built = toolset({"GRAFANA_URL": "https://ops.example.com/grafana/", "GRAFANA_TOKEN": "glsa_x"})

    assert built.status == "enabled, https://ops.example.com/grafana"


def test_the_toolset_is_left_out_without_a_url() -> None:
    with pytest.raises(NotConfigured, match="set GRAFANA_URL to enable"):
        toolset({"GRAFANA_TOKEN": "glsa_x"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GRAFANA_URL": "https://grafana.example.com"}, "grafana: GRAFANA_TOKEN: Field required"),
        ({"GRAFANA_URL": "grafana.example.com", "GRAFANA_TOKEN": "glsa_x"}, "grafana: GRAFANA_URL: "),
        ({"GRAFANA_URL": "https://grafana.example.com", "GRAFANA_TOKEN": ""}, "grafana: GRAFANA_TOKEN: "),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ToolError) as raised:
        toolset(environ)

    assert raised.value.message.startswith(message)
