from datetime import UTC, datetime, timedelta

import pytest

from blocks import ids
from blocks.incident import diagnostics_reply, incident_message, incident_text, timeline_reply
from blocks.text import literal
from bot.domain import (
    DiagnosticSection,
    DiagnosticState,
    IncidentLink,
    IncidentStatus,
    IncidentView,
    TimelineEntry,
)
from bot.playground.slack.blockkit import check_blocks

STARTED = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)


def _view(**changes: object) -> IncidentView:
    view = IncidentView(
        id=7,
        team_id="T0123ABCDEF",
        service="checkout",
        alertname="HighErrors",
        severity="critical",
        title="checkout errors above 2%",
        status=IncidentStatus.FIRING,
        labels={"alertname": "HighErrors", "service": "checkout", "pod": "<!channel>"},
        annotations={"description": "x" * 5000},
        started_at=STARTED,
        alerts_firing=1000,
        alerts_total=1200,
        deliveries=4321,
        links=[IncidentLink(label="Runbook", url="https://runbooks.example/high-errors")],
    )
    return view.model_copy(update=changes)


def _action_ids(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_firing_incident_offers_every_action_and_its_links_within_limits() -> None:
    blocks = incident_message(_view())
    assert check_blocks(blocks) == []
    assert _action_ids(blocks) == [
        ids.INCIDENT_ACKNOWLEDGE,
        ids.INCIDENT_SILENCE,
        ids.INCIDENT_INVESTIGATE,
        ids.INCIDENT_RESOLVE,
        f"{ids.INCIDENT_LINK_PREFIX}0",
    ]
    assert "1,000 firing of 1,200 · 4,321 received" in str(blocks)


def test_a_resolved_incident_shows_how_long_it_lasted_and_who_resolved_it() -> None:
    view = _view(
        status=IncidentStatus.RESOLVED, resolved_at=STARTED + timedelta(minutes=12), resolved_by="U0123BOBBY2"
    )
    blocks = incident_message(view)
    assert "Resolved by <@U0123BOBBY2> after 12m00s" in str(blocks)
    assert _action_ids(blocks)[0] == ids.INCIDENT_INVESTIGATE
    assert "resolved" in incident_text(view)


def test_labels_go_out_as_plain_text_and_the_notification_text_is_escaped() -> None:
    view = _view(title="<!channel> *down*")
    blocks = incident_message(view)
    [labels] = [b for b in blocks if b["type"] == "context"]
    assert labels["elements"][0]["type"] == "plain_text"
    assert "<!channel>" not in incident_text(view)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U0123ALICE1>", "&lt;@U0123ALICE1&gt;"),
        ("a & b", "a &amp; b"),
        ("*bold*", "\u200b*\u200bbold\u200b*\u200b"),
    ],
)
def test_literal_neutralises_mentions_links_and_formatting(raw: str, shown: str) -> None:
    assert literal(raw) == shown


def test_diagnostics_say_which_source_failed_or_is_not_configured() -> None:
    sections = [
        DiagnosticSection(
            title="Pods", source="kubernetes.list_pods", state=DiagnosticState.OK, lines=["a: 3 restarts"]
        ),
        DiagnosticSection(
            title="Traces", source="tempo.query_traces", state=DiagnosticState.FAILED, note="503 <x>"
        ),
        DiagnosticSection(
            title="Argo", source="argocd.list_history", state=DiagnosticState.UNAVAILABLE, note="off"
        ),
    ]
    _, blocks = diagnostics_reply(_view(), sections, read_at=STARTED, by="U0123BOBBY2")
    text = str(blocks)
    assert "a: 3 restarts" in text and "could not be read: 503 &lt;x&gt;" in text and "off" in text
    assert "asked by <@U0123BOBBY2>" in text and check_blocks(blocks) == []


def test_a_long_timeline_is_cut_with_a_pointer_to_the_export() -> None:
    entries = [
        TimelineEntry(at=STARTED + timedelta(seconds=n), kind="alert", text=f"alert {n} " + "y" * 200)
        for n in range(100)
    ]
    _, blocks = timeline_reply(_view(), entries, total=100)
    assert check_blocks(blocks) == []
    assert "… and 60 more in the export" in str(blocks)
    assert _action_ids(blocks) == [ids.INCIDENT_EXPORT]
