"""The alertmanager tool against a real Alertmanager (Debian's binary) that a real Prometheus feeds with
the always-firing ProbeAlwaysFiring alert from tests/fakes/prometheus_stack/rules.yml."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError

from tests.fakes.http_server import FakeHttpServer
from tests.fakes.prometheus_stack import RunningStack, eventually, running_stack
from tests.processes import free_port
from tools.alertmanager import actions, toolset
from tools.alertmanager.actions import CreateSilenceArgs
from tools.alertmanager.client import AlertmanagerClient, Matcher, alertmanager_error
from tools.common.base import ActionResult, ToolError
from tools.common.http import JsonHttpClient
from tools.common.registry import Registry
from tools.common.retries import RetryPolicy
from tools.common.toolset import NotConfigured

PROBE = 'alertname="ProbeAlwaysFiring"'
SLACK_USER = "U024BE7LH"
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory.mktemp("alertmanager-stack"), scraped=False) as running:
        yield running


@pytest.fixture
async def registry(stack: RunningStack) -> AsyncIterator[Registry]:
    tools = toolset({"ALERTMANAGER_URL": stack.alertmanager_url})
    yield Registry(tools.actions)
    await tools.aclose()


async def run(registry: Registry, name: str, raw: dict[str, Any]) -> ActionResult:
    action = registry.get(name)
    return await action.run(action.parse_args(raw))


async def probe_alert(registry: Registry, *, state: str = "active") -> dict[str, Any]:
    """The ProbeAlwaysFiring alert once Alertmanager shows it in `state`."""
    result = await eventually(
        lambda: run(registry, "alertmanager.list_alerts", {"matchers": [PROBE]}),
        lambda r: r.data["alert_count"] == 1 and r.summary.endswith(f"({state})"),
    )
    assert result.summary == f"1 alert: ProbeAlwaysFiring ({state})"
    return dict(result.data["alerts"][0])


async def silence(registry: Registry, matchers: list[Any], **extra: Any) -> ActionResult:
    raw = {"matchers": matchers, "comment": "deploy of checkout 1.5", "created_by": SLACK_USER, **extra}
    return await run(registry, "alertmanager.create_silence", {"duration_seconds": 600} | raw)


async def test_the_firing_alert_arrives_from_prometheus(registry: Registry) -> None:
    alert = await probe_alert(registry)

    assert alert["labels"] == {
        "alertname": "ProbeAlwaysFiring",
        "namespace": "prod",
        "service": "checkout",
        "severity": "critical",
    }
    assert alert["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
    assert [receiver["name"] for receiver in alert["receivers"]] == ["blackhole"]


async def test_alert_groups_show_the_receiver(registry: Registry) -> None:
    await probe_alert(registry)

    result = await run(registry, "alertmanager.list_alert_groups", {"matchers": [PROBE]})

    assert result.summary == '1 group: {alertname="ProbeAlwaysFiring"} → blackhole (1 alert)'
    [group] = result.data["groups"]
    assert group["labels"] == {"alertname": "ProbeAlwaysFiring"}
    assert group["alerts"][0]["state"] == "active"


async def test_silence_hides_the_alert_and_its_rollback_expires_it(registry: Registry) -> None:
    await probe_alert(registry)
    action = registry.get("alertmanager.create_silence")
    args = action.parse_args(
        {
            "matchers": [PROBE, {"name": "service", "value": "check.*", "isRegex": True}],
            "duration_seconds": 600,
            "comment": "deploy of checkout 1.5",
            "created_by": SLACK_USER,
        }
    )

    created = await action.run(args)

    silence_id = created.data["silence_id"]
    assert re.fullmatch(
        rf'silenced alertname="ProbeAlwaysFiring", service=~"check\.\*" for 10m until {WHEN} '
        rf"\(silence {silence_id}\)",
        created.summary,
    )
    alert = await probe_alert(registry, state="silenced")
    assert alert["status"]["silencedBy"] == [silence_id]
    hidden = await run(registry, "alertmanager.list_alerts", {"matchers": [PROBE], "silenced": False})
    assert hidden.data["alert_count"] == 0
    listed = await run(registry, "alertmanager.list_silences", {"matchers": [PROBE]})
    [record] = listed.data["silences"]
    assert record | {"starts_at": None, "ends_at": None} == {
        "id": silence_id,
        "state": "active",
        "matchers": ['alertname="ProbeAlwaysFiring"', 'service=~"check.*"'],
        "matchers_text": 'alertname="ProbeAlwaysFiring", service=~"check.*"',
        "starts_at": None,
        "ends_at": None,
        "created_by": SLACK_USER,
        "comment": "deploy of checkout 1.5",
    }

    step = action.rollback(args, created)

    assert step is not None
    assert (step.action, step.args) == ("alertmanager.expire_silence", {"silence_id": silence_id})
    expired = await run(registry, step.action, step.args)
    assert expired.summary.startswith(f"expired silence {silence_id} on ")
    await probe_alert(registry, state="active")
    remaining = await run(registry, "alertmanager.list_silences", {"matchers": [PROBE]})
    assert remaining.data["silence_count"] == 0


async def test_silence_dry_run_lists_what_it_would_hide_and_creates_nothing(registry: Registry) -> None:
    await probe_alert(registry)
    action = registry.get("alertmanager.create_silence")
    args = action.parse_args(
        {"matchers": [PROBE], "duration_seconds": 3600, "comment": "c", "created_by": SLACK_USER}
    )
    before = await run(registry, "alertmanager.list_silences", {"include_expired": True})

    result = await action.dry_run(args)

    assert re.fullmatch(
        rf'dry run: would silence alertname="ProbeAlwaysFiring" for 1h until {WHEN}; '
        r"matches 1 alert \(ProbeAlwaysFiring\) now",
        result.summary,
    )
    assert result.data["matching_alerts"][0]["labels"]["severity"] == "critical"
    after = await run(registry, "alertmanager.list_silences", {"include_expired": True})
    assert after.data == before.data


async def test_expire_reads_the_silence_first_so_its_rollback_restores_it(registry: Registry) -> None:
    matchers = ['alertname="NeverFires"', 'severity!="info"']
    created = await silence(registry, matchers)
    action = registry.get("alertmanager.expire_silence")
    args = action.parse_args({"silence_id": created.data["silence_id"]})

    rehearsal = await action.dry_run(args)
    expired = await action.run(args)

    assert re.fullmatch(
        rf'dry run: would expire silence {args.silence_id} on alertname="NeverFires", severity!="info" '
        rf"\(active, by {SLACK_USER}, until {WHEN}\)",
        rehearsal.summary,
    )
    assert expired.data["previous"]["state"] == "active"
    step = action.rollback(args, expired)
    assert step is not None
    assert step.action == "alertmanager.create_silence"
    assert step.args == {
        "matchers": matchers,
        "ends_at": created.data["ends_at"],
        "comment": f"deploy of checkout 1.5 (restored after silence {args.silence_id} was expired)",
        "created_by": SLACK_USER,
    }
    restored = await run(registry, step.action, step.args)
    listed = await run(registry, "alertmanager.list_silences", {"matchers": ['alertname="NeverFires"']})
    [record] = listed.data["silences"]
    assert record["id"] == restored.data["silence_id"] != str(args.silence_id)
    assert record["matchers"] == matchers
    assert _instant(record["ends_at"]) == _instant(created.data["ends_at"])
    await run(registry, "alertmanager.expire_silence", {"silence_id": record["id"]})


async def test_expiring_an_expired_silence_changes_nothing_and_has_no_rollback(registry: Registry) -> None:
    created = await silence(registry, ['alertname="NeverFires"'])
    action = registry.get("alertmanager.expire_silence")
    args = action.parse_args({"silence_id": created.data["silence_id"]})
    await action.run(args)

    again = await action.run(args)

    assert again.summary == f'silence {args.silence_id} on alertname="NeverFires" had already expired'
    assert action.rollback(args, again) is None


async def test_expiring_an_unknown_silence_is_a_readable_404(registry: Registry) -> None:
    unknown = uuid.uuid4()

    with pytest.raises(ToolError) as failure:
        await run(registry, "alertmanager.expire_silence", {"silence_id": str(unknown)})

    assert failure.value.status == 404
    assert failure.value.call == f"GET /api/v2/silence/{unknown}"
    assert failure.value.message.startswith(f"alertmanager: silence {unknown} not found")


@pytest.mark.parametrize(
    ("matchers", "extra", "error"),
    [
        (
            [{"name": "service", "value": "(", "isRegex": True}],
            {},
            'silence invalid: invalid label matcher 0: invalid regular expression "(": error parsing regexp: '
            "missing closing ): `(`",
        ),
        (
            [{"name": "service", "value": ".*", "isRegex": True}],
            {},
            "silence invalid: at least one matcher must not match the empty string",
        ),
        (
            [PROBE],
            {"duration_seconds": None, "ends_at": "2020-01-01T00:00:00Z"},
            "Failed to create silence: start time must be before end time",
        ),
    ],
)
async def test_a_silence_alertmanager_rejects_is_its_own_400(
    registry: Registry, matchers: list[Any], extra: dict[str, Any], error: str
) -> None:
    with pytest.raises(ToolError) as failure:
        await silence(registry, matchers, **extra)

    assert failure.value.status == 400
    assert failure.value.message == f"alertmanager: POST /api/v2/silences failed: bad request: {error}"


async def test_plain_text_error_bodies_are_quoted() -> None:
    """Newer Alertmanagers answer a bad silence with text/plain rather than a JSON string."""

    class _Refusing(FakeHttpServer):
        def routes(self) -> list[web.RouteDef]:
            return []

    async with _Refusing() as server:
        server.fail_next(400, "silence invalid: invalid label matcher 0: bad name\n")
        tools = toolset({"ALERTMANAGER_URL": server.url})
        with pytest.raises(ToolError) as failure:
            await silence(Registry(tools.actions), [PROBE])
        await tools.aclose()

    assert failure.value.message == (
        "alertmanager: POST /api/v2/silences failed: bad request: "
        "silence invalid: invalid label matcher 0: bad name"
    )
    assert len(server.calls("POST", "/api/v2/silences")) == 1, "a create is never retried"


async def test_unreachable_alertmanager_is_a_readable_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    http = JsonHttpClient(
        "alertmanager",
        url,
        error_message=alertmanager_error,
        retry=RetryPolicy(2, initial_wait=0.01, max_wait=0.02),
    )
    registry = Registry(actions(AlertmanagerClient(http)))

    with pytest.raises(ToolError) as failure:
        await run(registry, "alertmanager.list_alerts", {})
    await http.close()

    assert failure.value.message.startswith(f"alertmanager: cannot reach {url}: ")


# --- arguments and the entry point -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        (
            'alertname="ProbeAlwaysFiring"',
            {"name": "alertname", "value": "ProbeAlwaysFiring", "isRegex": False, "isEqual": True},
        ),
        ("severity!=info", {"name": "severity", "value": "info", "isRegex": False, "isEqual": False}),
        ('service=~"check.*"', {"name": "service", "value": "check.*", "isRegex": True, "isEqual": True}),
        (
            ' job !~ "node|blackbox" ',
            {"name": "job", "value": "node|blackbox", "isRegex": True, "isEqual": False},
        ),
        (
            'summary="say \\"hi\\""',
            {"name": "summary", "value": 'say "hi"', "isRegex": False, "isEqual": True},
        ),
    ],
)
def test_matchers_read_alertmanager_text_form(text: str, wire: dict[str, Any]) -> None:
    matcher = Matcher.model_validate(text)

    assert matcher.wire() == wire
    assert Matcher.model_validate(str(matcher)) == matcher


@pytest.mark.parametrize("text", ["alertname", "1abc=x", "=x", "service~x"])
def test_matchers_refuse_other_text(text: str) -> None:
    with pytest.raises(ValidationError):
        Matcher.model_validate(text)


@pytest.mark.parametrize(
    "raw",
    [
        {"matchers": [PROBE], "comment": "c", "created_by": SLACK_USER},
        {
            "matchers": [PROBE],
            "comment": "c",
            "created_by": SLACK_USER,
            "duration_seconds": 60,
            "ends_at": "2030-01-01T00:00:00Z",
        },
        {"matchers": [], "comment": "c", "created_by": SLACK_USER, "duration_seconds": 60},
        {"matchers": [PROBE], "comment": " ", "created_by": SLACK_USER, "duration_seconds": 60},
        {"matchers": [PROBE], "comment": "c", "created_by": "", "duration_seconds": 60},
        {"matchers": [PROBE], "comment": "c", "created_by": SLACK_USER, "duration_seconds": 91 * 86400},
    ],
)
def test_silence_arguments_refuse_incomplete_or_unbounded_silences(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CreateSilenceArgs.model_validate(raw)


def test_silence_id_must_be_a_uuid() -> None:
    action = Registry(actions(AlertmanagerClient(JsonHttpClient("alertmanager", "http://am")))).get(
        "alertmanager.expire_silence"
    )

    with pytest.raises(ValidationError):
        action.parse_args({"silence_id": "../silences"})


def test_silence_window_starts_now_or_at_starts_at() -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    later = now + timedelta(hours=2)
    args = CreateSilenceArgs.model_validate(
        {"matchers": [PROBE], "comment": "c", "created_by": SLACK_USER, "duration_seconds": 1800}
    )
    scheduled = args.model_copy(update={"starts_at": later})

    assert args.window(now) == (now, now + timedelta(minutes=30))
    assert scheduled.window(now) == (later, later + timedelta(minutes=30))


def test_toolset_is_not_configured_without_alertmanager_url() -> None:
    with pytest.raises(NotConfigured, match="ALERTMANAGER_URL"):
        toolset({"PROMETHEUS_URL": "http://prometheus:9090"})


def test_toolset_names_a_bad_url() -> None:
    with pytest.raises(ToolError) as failure:
        toolset({"ALERTMANAGER_URL": "alertmanager:9093"})

    assert failure.value.message.startswith("alertmanager: ALERTMANAGER_URL: ")


async def test_toolset_lists_its_actions_with_their_effects() -> None:
    tools = toolset({"ALERTMANAGER_URL": "http://alertmanager.monitoring:9093/"})
    await tools.aclose()

    assert [(a.name, a.effect.value) for a in tools.actions] == [
        ("alertmanager.list_alerts", "read"),
        ("alertmanager.list_alert_groups", "read"),
        ("alertmanager.list_silences", "read"),
        ("alertmanager.create_silence", "write"),
        ("alertmanager.expire_silence", "write"),
    ]
    assert tools.status == "enabled, http://alertmanager.monitoring:9093"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
