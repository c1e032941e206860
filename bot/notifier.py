"""Slack output for plans: posts the card, edits it in place, and posts thread replies.

Edits are coalesced per card (bot/coalescing.py): a change marks the card dirty, and one pump task per
card renders the latest stored state at most once per interval. Because every render reads the
database, the newest state always wins and an edit that failed is simply redone with fresher data.
Several replicas may edit one card (each for the changes it made); each checks after its edit that
the card it posted is still the stored state, and edits again if not, so cards converge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from blocks.attachments import step_output_files
from blocks.plan_card import plan_card, plan_card_text
from blocks.replies import break_glass_notice, dry_run_reply, outcome_reply
from bot import plan_views
from bot.clock import utcnow
from bot.coalescing import Coalescer, describe, digest
from bot.db.engine import SessionFactory
from bot.db.models import SlackMessage
from bot.domain import PlanView, StepView
from bot.errors import UserError
from bot.observers import PlanObserver
from bot.slack_clients import SlackClients
from bot.tasks import TaskSupervisor

log = logging.getLogger(__name__)


@dataclass
class _Card:
    """What the next edit of a card owes besides the card itself."""

    post_outcome: bool = False


class CardNotPosted(UserError):
    def __init__(self, plan_id: int, error: str) -> None:
        hint = " Invite me with `/invite @Carapulse` and try again." if error in _NOT_IN_CHANNEL else ""
        super().__init__(f"Plan #{plan_id} is stored, but Slack refused its card ({error}).{hint}")
        self.error = error


_NOT_IN_CHANNEL = frozenset({"channel_not_found", "not_in_channel"})


class Notifier:
    def __init__(
        self,
        *,
        clients: SlackClients,
        sessions: SessionFactory,
        supervisor: TaskSupervisor,
        min_interval: float = 1.0,
    ) -> None:
        # Each workspace's calls go out with its own token.
        self._clients = clients
        self._sessions = sessions
        self._cards: Coalescer[tuple[str, int], _Card] = Coalescer(
            deliver=self._deliver,
            new_state=_Card,
            describe=lambda key: f"the card of plan {key[1]}",
            supervisor=supervisor,
            min_interval=min_interval,
        )
        # What each card shows now (a digest of its text and blocks), so a render that changed
        # nothing costs no chat.update.
        self._shown: dict[tuple[str, int], str] = {}
        # Told of every change: the notifications beyond Slack, the waiters on a plan (the API's
        # event streams) and the App Home tabs that show it.
        self._observers: list[PlanObserver] = []

    def add_observer(self, observer: PlanObserver) -> None:
        self._observers.append(observer)

    async def post_card(
        self, *, team_id: str, plan_id: int, channel_id: str, thread_ts: str | None
    ) -> SlackMessage:
        """Post the card and remember where it is; later changes edit this one message.

        Raises CardNotPosted when Slack refuses the post, so the requester learns why.
        """
        async with self._sessions() as session:
            view = await plan_views.load(session, team_id=team_id, plan_id=plan_id)
        text, blocks = plan_card_text(view), plan_card(view)
        try:
            client = await self._clients.for_team(team_id)
            response = await client.chat_postMessage(
                channel=channel_id, thread_ts=thread_ts, text=text, blocks=blocks
            )
        except SlackApiError as exc:
            raise CardNotPosted(plan_id, exc.response.get("error", "unknown_error")) from exc
        self._shown[(team_id, plan_id)] = digest([text, blocks])
        async with self._sessions.begin() as session:
            message = SlackMessage(
                team_id=team_id,
                plan_id=plan_id,
                channel_id=response["channel"],
                ts=response["ts"],
                thread_ts=thread_ts,
                created_at=utcnow(),
            )
            session.add(message)
        # The plan may have moved on while the post was in flight; render once more to catch up.
        self.plan_changed(team_id, plan_id)
        return message

    def plan_changed(self, team_id: str, plan_id: int) -> None:
        for observer in self._observers:
            observer.plan_changed(team_id, plan_id)
        self._cards.mark((team_id, plan_id))

    def plan_finished(self, team_id: str, plan_id: int) -> None:
        self._cards.state((team_id, plan_id)).post_outcome = True
        self.plan_changed(team_id, plan_id)

    async def settled(self, team_id: str, plan_id: int) -> None:
        """Wait until the card shows the latest state handed to the notifier."""
        await self._cards.settled((team_id, plan_id))

    async def permalink(self, *, team_id: str, plan_id: int) -> str | None:
        """A link to the plan's card; None when it has none, or Slack will not give one (logged)."""
        async with self._sessions() as session:
            location = await plan_views.card_location(session, team_id=team_id, plan_id=plan_id)
        if location is None:
            return None
        try:
            client = await self._clients.for_team(team_id)
            response = await client.chat_getPermalink(channel=location.channel_id, message_ts=location.ts)
        except SlackApiError as exc:
            log.warning("no permalink for the card of plan %s: %s", plan_id, describe(exc))
            return None
        return str(response["permalink"])

    async def post_in_thread(
        self, *, team_id: str, plan_id: int, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        """A reply under the plan's card; raises UserError when it has no card yet."""
        async with self._sessions() as session:
            location = await plan_views.card_location(session, team_id=team_id, plan_id=plan_id)
        if location is None:
            raise UserError(f"Plan #{plan_id} has no card to answer under.")
        await self._reply_in_thread(location, text, blocks)

    async def post_dry_run(
        self, *, team_id: str, plan_id: int, user_id: str, results: list[tuple[StepView, bool, str]]
    ) -> None:
        text, blocks = dry_run_reply(plan_id, user_id, results)
        await self.post_in_thread(team_id=team_id, plan_id=plan_id, text=text, blocks=blocks)

    async def post_break_glass_notice(
        self,
        *,
        team_id: str,
        plan_id: int,
        admin_id: str,
        reason: str,
        bypassed: list[str],
        security_channel: str,
    ) -> None:
        """Tell the plan's thread and the security channel; raises UserError naming what Slack
        refused, so the admin learns the notice did not reach security."""
        async with self._sessions() as session:
            location = await plan_views.card_location(session, team_id=team_id, plan_id=plan_id)
            view = await plan_views.load(session, team_id=team_id, plan_id=plan_id)
        card_channel_id = location.channel_id if location else ""
        text, blocks = break_glass_notice(
            view, admin_id=admin_id, reason=reason, bypassed=bypassed, card_channel_id=card_channel_id
        )
        if location is not None:
            await self._reply_in_thread(location, text, blocks)
        if not security_channel:
            return
        try:
            client = await self._clients.for_team(team_id)
            await client.chat_postMessage(channel=security_channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            log.error("break-glass notice of plan %s refused by %s: %s", plan_id, security_channel, error)
            raise UserError(
                f"Break-glass is recorded and plan #{plan_id} is running, but the security channel "
                f"refused the notice ({error}). Invite me there: `/invite @Carapulse`."
            ) from exc

    async def _deliver(self, key: tuple[str, int], card: _Card) -> None:
        post_outcome = card.post_outcome
        delivered = await self._edit(*key, post_outcome)
        if delivered and post_outcome:
            card.post_outcome = False

    async def _edit(self, team_id: str, plan_id: int, post_outcome: bool) -> bool:
        async with self._sessions() as session:
            location = await plan_views.card_location(session, team_id=team_id, plan_id=plan_id)
            view = await plan_views.load(session, team_id=team_id, plan_id=plan_id)
        if location is None:
            # post_card has not stored the card yet; it renders again once it has.
            return False
        text, blocks = plan_card_text(view), plan_card(view)
        shown = digest([text, blocks])
        if self._shown.get((team_id, plan_id)) != shown:
            client = await self._clients.for_team(team_id)
            await client.chat_update(channel=location.channel_id, ts=location.ts, text=text, blocks=blocks)
            self._shown[(team_id, plan_id)] = shown
            if await self._rendered_now(team_id, plan_id) != shown:
                self._cards.mark((team_id, plan_id))
        if post_outcome and view.status.is_final:
            reply_text, reply_blocks = outcome_reply(view)
            await self._reply_in_thread(location, reply_text, reply_blocks)
            await self._attach_long_output(location, view)
            # A finished card rarely changes again; if it does (a rollback on request), it is redrawn.
            self._shown.pop((team_id, plan_id), None)
        return True

    async def _rendered_now(self, team_id: str, plan_id: int) -> str:
        """The card as the database has it now. Checked after every edit because replicas edit one
        card each for the changes it made: an edit rendered before another replica's change may
        reach Slack after that replica's own edit. Whoever posts a card that is no longer current
        renders it again, so the last edit of a card always shows its newest state."""
        async with self._sessions() as session:
            view = await plan_views.load(session, team_id=team_id, plan_id=plan_id)
        return digest([plan_card_text(view), plan_card(view)])

    async def _attach_long_output(self, location: SlackMessage, view: PlanView) -> None:
        """Upload each step's output that the card had to trim. A refused upload is logged, not
        retried: the card and the outcome reply already carry the essentials."""
        client = await self._clients.for_team(location.team_id)
        for output in step_output_files(view):
            try:
                await client.files_upload_v2(
                    channel=location.channel_id,
                    thread_ts=location.thread_ts or location.ts,
                    content=output.content,
                    filename=output.filename,
                    title=output.title,
                )
            except SlackApiError as exc:
                log.warning("could not attach %s: %s", output.filename, exc.response.get("error"))

    async def _reply_in_thread(self, location: SlackMessage, text: str, blocks: list[dict[str, Any]]) -> None:
        """Replies go under the card: in the thread the card is in, or a thread started on it."""
        client = await self._clients.for_team(location.team_id)
        await client.chat_postMessage(
            channel=location.channel_id,
            thread_ts=location.thread_ts or location.ts,
            text=text,
            blocks=blocks,
        )
