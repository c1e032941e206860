"""The event gate between Alertmanager and Slack: alerts are de-duplicated by fingerprint, grouped
into incidents (alertname + service by default), and a group that fires again soon after it resolved
reopens its incident instead of opening another thread.

All of it is in the database, so it survives restarts and replicas share it. One incident per group
is open at a time because of the unique `open_key`; a firing delivery finds and locks its incident
with a single UPDATE, a resolving one locks it before counting what still fires, and alerts are
handled in group-key order, so concurrent deliveries never deadlock and never lose an alert.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alert_bodies import AlertmanagerAlert
from bot.db.engine import upsert_insert
from bot.db.models import Incident, IncidentAlert
from bot.domain import IncidentStatus

RESOLVED_BY_ALERTMANAGER = "alertmanager"
# How long the process that opened an incident has to post its message before another may.
POST_CLAIM = timedelta(seconds=60)
_RACE_RETRIES = 5


@dataclass(frozen=True)
class GateRules:
    group_labels: Sequence[str]
    service_label: str
    renotify: timedelta
    # This process: it claims the posting of the incidents it opens.
    owner: str


@dataclass
class Intake:
    """What one delivery changed: incidents whose message must be redrawn, those it reopened (their
    thread hears of it) and those it resolved."""

    changed: set[int] = field(default_factory=set)
    reopened: set[int] = field(default_factory=set)
    resolved: set[int] = field(default_factory=set)


def group_key(labels: Mapping[str, str], group_labels: Sequence[str]) -> str:
    """A fixed-length key for the values of the grouping labels (a missing label counts as empty)."""
    values = json.dumps([[name, labels.get(name, "")] for name in group_labels])
    return hashlib.sha256(values.encode()).hexdigest()


async def ingest_many(
    session: AsyncSession,
    *,
    team_id: str,
    deliveries: Sequence[Sequence[AlertmanagerAlert]],
    rules: GateRules,
    now: datetime,
) -> list[Intake]:
    """Store several deliveries in one transaction (bot/group_commit.py): what each changed, in order.
    Alerts are handled in group-key order across all of them; the sort is stable, so two deliveries
    about one alert (firing, then resolved) still apply in the order they came."""
    intakes = [Intake() for _ in deliveries]
    keyed = sorted(
        (
            (group_key(alert.labels, rules.group_labels), intake, alert)
            for intake, alerts in zip(intakes, deliveries, strict=True)
            for alert in alerts
        ),
        key=lambda entry: entry[0],
    )
    for key, intake, alert in keyed:
        if alert.status == IncidentStatus.FIRING:
            await _firing(session, team_id, key, alert, rules, now, intake)
        else:
            await _resolved(session, team_id, key, alert, now, intake)
    return intakes


async def close(session: AsyncSession, *, team_id: str, incident_id: int, by: str, now: datetime) -> bool:
    """Resolve an open incident by hand; False when it was not open."""
    result = await session.execute(
        update(Incident)
        .where(Incident.team_id == team_id, Incident.id == incident_id, Incident.open_key.is_not(None))
        .values(
            open_key=None, status=IncidentStatus.RESOLVED, resolved_at=now, resolved_by=by, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _firing(
    session: AsyncSession,
    team_id: str,
    key: str,
    alert: AlertmanagerAlert,
    rules: GateRules,
    now: datetime,
    intake: Intake,
) -> None:
    for _ in range(_RACE_RETRIES):
        incident_id = await session.scalar(
            update(Incident)
            .where(Incident.team_id == team_id, Incident.open_key == key)
            .values(deliveries=Incident.deliveries + 1, updated_at=now)
            .returning(Incident.id)
            .execution_options(synchronize_session=False)
        )
        if incident_id is None:
            try:
                async with session.begin_nested():
                    incident_id = await _reopen(session, team_id, key, rules, now, intake)
                    if incident_id is None:
                        incident_id = await _open(session, team_id, key, alert, rules, now)
            except IntegrityError:
                continue  # another delivery opened the group's incident first: join it
        await _upsert_alert(session, team_id, incident_id, alert, now)
        intake.changed.add(incident_id)
        return
    raise RuntimeError(f"the incident of alert {alert.fingerprint} kept changing while it was stored")


async def _reopen(
    session: AsyncSession, team_id: str, key: str, rules: GateRules, now: datetime, intake: Intake
) -> int | None:
    if rules.renotify <= timedelta(0):
        return None
    recent = await session.scalar(
        select(Incident.id)
        .where(
            Incident.team_id == team_id,
            Incident.group_key == key,
            Incident.open_key.is_(None),
            Incident.resolved_at >= now - rules.renotify,
        )
        .order_by(Incident.resolved_at.desc())
        .limit(1)
    )
    if recent is None:
        return None
    result = await session.execute(
        update(Incident)
        .where(Incident.id == recent, Incident.open_key.is_(None))
        .values(
            open_key=key,
            status=IncidentStatus.FIRING,
            resolved_at=None,
            resolved_by="",
            timeline_posted_at=None,
            deliveries=Incident.deliveries + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise IntegrityError("reopen", {}, Exception("reopened by another delivery"))
    intake.reopened.add(recent)
    return recent


async def _open(
    session: AsyncSession, team_id: str, key: str, alert: AlertmanagerAlert, rules: GateRules, now: datetime
) -> int:
    labels = alert.labels
    incident = Incident(
        team_id=team_id,
        group_key=key,
        open_key=key,
        service=labels.get(rules.service_label, "")[:128],
        alertname=labels.get("alertname", "")[:255],
        severity=labels.get("severity", "")[:64],
        title=alert.annotations.get("summary") or labels.get("alertname", "") or "alert",
        labels=dict(labels),
        annotations=dict(alert.annotations),
        generator_url=alert.generator_url,
        status=IncidentStatus.FIRING,
        started_at=alert.starts_at,
        deliveries=1,
        post_owner=rules.owner,
        post_claim_until=now + POST_CLAIM,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    await session.flush()
    return incident.id


async def _upsert_alert(
    session: AsyncSession, team_id: str, incident_id: int, alert: AlertmanagerAlert, now: datetime
) -> None:
    insert = upsert_insert(session.bind.dialect.name, IncidentAlert).values(
        team_id=team_id,
        incident_id=incident_id,
        fingerprint=alert.fingerprint,
        status=IncidentStatus.FIRING,
        labels=dict(alert.labels),
        starts_at=alert.starts_at,
        ends_at=None,
        first_seen=now,
        last_seen=now,
        receipts=1,
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["incident_id", "fingerprint"],
            set_={
                "status": IncidentStatus.FIRING,
                "ends_at": None,
                "last_seen": now,
                "receipts": IncidentAlert.receipts + 1,
            },
        )
    )


async def _resolved(
    session: AsyncSession, team_id: str, key: str, alert: AlertmanagerAlert, now: datetime, intake: Intake
) -> None:
    incident_id = await session.scalar(
        select(Incident.id).where(Incident.team_id == team_id, Incident.open_key == key).with_for_update()
    )
    if incident_id is None:
        return  # resolved already (by hand, or an earlier delivery): nothing is open to close
    ended = alert.ends_at or now
    await session.execute(
        update(IncidentAlert)
        .where(IncidentAlert.incident_id == incident_id, IncidentAlert.fingerprint == alert.fingerprint)
        .values(
            status=IncidentStatus.RESOLVED, ends_at=ended, last_seen=now, receipts=IncidentAlert.receipts + 1
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .values(deliveries=Incident.deliveries + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    intake.changed.add(incident_id)
    firing = await session.scalar(
        select(func.count())
        .select_from(IncidentAlert)
        .where(IncidentAlert.incident_id == incident_id, IncidentAlert.status == IncidentStatus.FIRING)
    )
    if not firing and await close(
        session, team_id=team_id, incident_id=incident_id, by=RESOLVED_BY_ALERTMANAGER, now=now
    ):
        intake.resolved.add(incident_id)
