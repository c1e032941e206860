"""The incident side of one process: what the webhooks, the incident buttons and the thread work
share, and the one message per incident, posted once (whichever replica claims it) and then edited
in place, coalesced like plan cards so a storm of alerts costs one edit per interval, and checked
after each edit like them so the message converges when several replicas edit it."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update

from blocks.incident import incident_message, incident_text
from bot import alert_gate, incident_views, incident_work
from bot.alert_bodies import AlertmanagerAlert
from bot.alert_gate import POST_CLAIM, GateRules, Intake
from bot.clock import utcnow
from bot.coalescing import Coalescer, digest
from bot.context import views as context_views
from bot.db.models import Incident
from bot.domain import IncidentStatus, IncidentView
from bot.group_commit import GroupCommit
from bot.incident_settings import IncidentSettings
from bot.incident_slack import IncidentSlack, route
from bot.operations import Runtime
from bot.remediation import RemediationSource


@dataclass(frozen=True)
class Identity:
    """Who the bot is in its workspace (auth.test): webhooks carry no team, so incidents are this
    team's, and proposals are requested by this user."""

    team_id: str
    user_id: str


class IncidentDesk:
    def __init__(
        self,
        *,
        runtime: Runtime,
        slack: IncidentSlack,
        settings: IncidentSettings,
        identity: Identity,
        remediations: RemediationSource,
        owner: str,
        min_interval: float,
    ) -> None:
        self.runtime = runtime
        self.slack = slack
        self.settings = settings
        self.identity = identity
        self.remediations = remediations
        self.owner = owner
        self.rules = GateRules(
            group_labels=tuple(settings.incident_group_labels),
            service_label=settings.incident_service_label,
            renotify=timedelta(seconds=settings.incident_renotify_seconds),
            owner=owner,
        )
        self._messages: Coalescer[int, None] = Coalescer(
            deliver=self._deliver,
            new_state=lambda: None,
            describe=lambda incident_id: f"the message of incident {incident_id}",
            supervisor=runtime.supervisor,
            min_interval=min_interval,
        )
        self._shown: dict[int, str] = {}
        self._alert_batches: GroupCommit[Sequence[AlertmanagerAlert], Intake] = GroupCommit(
            self._store_alerts, supervisor=runtime.supervisor, name="alert-intake"
        )

    async def take(self, alerts: Sequence[AlertmanagerAlert]) -> Intake:
        """Store one delivery's alerts, committed with the others arriving meanwhile; what it changed."""
        return await self._alert_batches.submit(alerts)

    async def _store_alerts(self, deliveries: Sequence[Sequence[AlertmanagerAlert]]) -> list[Intake]:
        async with self.runtime.sessions.begin() as session:
            return await alert_gate.ingest_many(
                session, team_id=self.team_id, deliveries=deliveries, rules=self.rules, now=utcnow()
            )

    @property
    def team_id(self) -> str:
        return self.identity.team_id

    def changed(self, incident_id: int) -> None:
        self._messages.mark(incident_id)

    async def settled(self, incident_id: int) -> None:
        """Wait until the incident's message shows the latest state handed over so far."""
        await self._messages.settled(incident_id)

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        self.runtime.supervisor.spawn(work, name=name)

    async def view(self, incident_id: int) -> IncidentView:
        async with self.runtime.sessions() as session:
            return await incident_views.load(
                session,
                team_id=self.team_id,
                incident_id=incident_id,
                services=self.settings.incident_services,
            )

    async def _deliver(self, incident_id: int, _state: None) -> None:
        view = await self.view(incident_id)
        if view.ts is None:
            if await self._claim_post(incident_id):
                await self._post(view)
            return
        shown = _digest(view)
        if self._shown.get(incident_id) != shown:
            await self.slack.update(view)
            self._shown[incident_id] = shown
            # Replicas edit one message each for the deliveries they took: an edit rendered before
            # another replica's change may land after that replica's edit. Whoever posted a message
            # that is no longer current edits again, so the last edit shows the newest state.
            if _digest(await self.view(incident_id)) != shown:
                self.changed(incident_id)
        if view.status == IncidentStatus.RESOLVED and await self._claim_timeline(incident_id):
            self.spawn(
                incident_work.post_timeline(self, incident_id), name=f"incident-timeline-{incident_id}"
            )

    async def _post(self, view: IncidentView) -> None:
        async with self.runtime.sessions() as session:
            owners = await context_views.owner_channel(session, team_id=self.team_id, service=view.service)
        where = route(view, self.settings, owners=owners)
        invite = await incident_work.oncall(self, view) if where.own_channel else []
        posted = await self.slack.post(view, where=where, invite=invite)
        async with self.runtime.sessions.begin() as session:
            await session.execute(
                update(Incident)
                .where(Incident.id == view.id, Incident.team_id == self.team_id)
                .values(channel_id=posted.channel_id, ts=posted.ts)
                .execution_options(synchronize_session=False)
            )
        self._shown[view.id] = _digest(view)
        placed = view.model_copy(update={"channel_id": posted.channel_id, "ts": posted.ts})
        self.spawn(incident_work.open_thread(self, placed), name=f"incident-open-{view.id}")
        # What changed while the message was being posted is shown by the next edit.
        self.changed(view.id)

    async def _claim_post(self, incident_id: int) -> bool:
        """Whether this process posts the message: the one that opened the incident, or any once
        that one's claim has lapsed without a message (it died)."""
        now = utcnow()
        async with self.runtime.sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(
                    Incident.id == incident_id,
                    Incident.team_id == self.team_id,
                    Incident.ts.is_(None),
                    or_(
                        Incident.post_owner == self.owner,
                        Incident.post_owner.is_(None),
                        Incident.post_claim_until < now,
                    ),
                )
                .values(post_owner=self.owner, post_claim_until=now + POST_CLAIM)
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _claim_timeline(self, incident_id: int) -> bool:
        async with self.runtime.sessions.begin() as session:
            result = await session.execute(
                update(Incident)
                .where(
                    Incident.id == incident_id,
                    Incident.team_id == self.team_id,
                    Incident.status == IncidentStatus.RESOLVED,
                    Incident.timeline_posted_at.is_(None),
                )
                .values(timeline_posted_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _digest(view: IncidentView) -> str:
    return digest([incident_text(view), incident_message(view)])
