import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot import alert_gate
from bot.alert_bodies import AlertmanagerWebhook
from bot.alert_gate import GateRules, Intake
from bot.clock import utcnow
from bot.db.engine import SessionFactory
from bot.db.models import Incident, IncidentAlert
from tests.alerts import alert, webhook
from tests.builders import TEAM

RULES = GateRules(
    group_labels=("alertname", "service"), service_label="service", renotify=timedelta(minutes=30), owner="a"
)


async def _ingest(sessions: SessionFactory, *alerts: dict, rules: GateRules = RULES, now=None) -> Intake:
    body = AlertmanagerWebhook.model_validate(webhook(*alerts))
    async with sessions.begin() as session:
        [intake] = await alert_gate.ingest_many(
            session, team_id=TEAM, deliveries=[body.alerts], rules=rules, now=now or utcnow()
        )
        return intake


async def _incidents(sessions: SessionFactory) -> list[Incident]:
    async with sessions() as session:
        return list((await session.scalars(select(Incident).order_by(Incident.id))).all())


async def test_repeated_deliveries_of_one_alert_keep_one_incident_and_one_alert(
    sessions: SessionFactory,
) -> None:
    first = await _ingest(sessions, alert(fingerprint="aa01"))
    again = await _ingest(sessions, alert(fingerprint="aa01"))
    assert first.changed == again.changed and len(first.changed) == 1
    [incident] = await _incidents(sessions)
    assert (incident.status, incident.deliveries, incident.service) == ("firing", 2, "checkout")
    async with sessions() as session:
        [row] = (await session.scalars(select(IncidentAlert))).all()
    assert (row.fingerprint, row.receipts) == ("aa01", 2)


async def test_alerts_group_by_alertname_and_service(sessions: SessionFactory) -> None:
    await _ingest(
        sessions,
        alert(fingerprint="aa01"),
        alert(fingerprint="aa02", pod="checkout-2"),
        alert(fingerprint="bb01", service="payments"),
        alert(fingerprint="cc01", alertname="Other"),
    )
    incidents = await _incidents(sessions)
    assert sorted((i.alertname, i.service) for i in incidents) == [
        ("Other", "checkout"),
        ("ProbeAlwaysFiring", "checkout"),
        ("ProbeAlwaysFiring", "payments"),
    ]


async def test_configured_labels_group_more_finely(sessions: SessionFactory) -> None:
    rules = GateRules(("alertname", "service", "pod"), "service", timedelta(minutes=30), "a")
    await _ingest(
        sessions, alert(fingerprint="aa01", pod="p1"), alert(fingerprint="aa02", pod="p2"), rules=rules
    )
    assert len(await _incidents(sessions)) == 2


async def test_the_last_alert_resolving_closes_the_incident(sessions: SessionFactory) -> None:
    await _ingest(sessions, alert(fingerprint="aa01"), alert(fingerprint="aa02"))
    partly = await _ingest(sessions, alert(fingerprint="aa01", status="resolved"))
    assert partly.resolved == set()
    done = await _ingest(sessions, alert(fingerprint="aa02", status="resolved"))
    [incident] = await _incidents(sessions)
    assert done.resolved == {incident.id}
    assert (incident.status, incident.open_key, incident.resolved_by) == ("resolved", None, "alertmanager")


async def test_a_group_firing_again_soon_reopens_its_incident(sessions: SessionFactory) -> None:
    await _ingest(sessions, alert(fingerprint="aa01"))
    await _ingest(sessions, alert(fingerprint="aa01", status="resolved"))
    again = await _ingest(sessions, alert(fingerprint="aa01"))
    [incident] = await _incidents(sessions)
    assert again.reopened == {incident.id}
    assert incident.status == "firing" and incident.resolved_at is None


async def test_a_group_firing_again_after_the_throttle_opens_a_new_incident(sessions: SessionFactory) -> None:
    await _ingest(sessions, alert(fingerprint="aa01"))
    await _ingest(sessions, alert(fingerprint="aa01", status="resolved"))
    later = utcnow() + timedelta(hours=1)
    again = await _ingest(sessions, alert(fingerprint="aa01"), now=later)
    assert again.reopened == set()
    assert [i.status for i in await _incidents(sessions)] == ["resolved", "firing"]


async def test_a_resolution_for_nothing_open_changes_nothing(sessions: SessionFactory) -> None:
    assert await _ingest(sessions, alert(fingerprint="aa01", status="resolved")) == Intake()
    assert await _incidents(sessions) == []


async def test_concurrent_deliveries_of_one_group_open_one_incident(sessions: SessionFactory) -> None:
    await asyncio.gather(*(_ingest(sessions, alert(fingerprint=f"f{n:03d}")) for n in range(40)))
    [incident] = await _incidents(sessions)
    assert incident.deliveries == 40
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IncidentAlert)) == 40


async def test_deliveries_stored_together_apply_in_the_order_they_came(sessions: SessionFactory) -> None:
    firing, resolved, other = (
        AlertmanagerWebhook.model_validate(webhook(body)).alerts
        for body in (
            alert(fingerprint="aa01"),
            alert(fingerprint="aa01", status="resolved"),
            alert(fingerprint="bb01", alertname="DiskFull"),
        )
    )
    async with sessions.begin() as session:
        intakes = await alert_gate.ingest_many(
            session, team_id=TEAM, deliveries=[firing, other, resolved], rules=RULES, now=utcnow()
        )
    incidents = {incident.alertname: incident for incident in await _incidents(sessions)}
    assert incidents["DiskFull"].status == "firing"
    assert intakes[2].resolved == {incidents[firing[0].labels["alertname"]].id}
    assert intakes[1].changed == {incidents["DiskFull"].id}
