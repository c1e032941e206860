"""`@carapulse` in a thread: read what was asked with the thread as context, then either investigate
(read-only, findings with evidence) or propose a plan whose card goes into the thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import investigation, operations, proposals
from bot.domain import Actor, Findings
from bot.errors import UserError
from bot.operations import Runtime
from bot.planners import Investigate
from bot.planning_context import ContextItem


@dataclass(frozen=True)
class Mention:
    """Who mentioned the bot, where, and what they wrote (without the mention itself). `thread_ts`
    is None for a mention outside any thread, whose answer starts a thread on it."""

    requester: Actor
    channel_id: str
    ts: str
    thread_ts: str | None
    text: str

    @property
    def reply_ts(self) -> str:
        return self.thread_ts or self.ts


async def answer(runtime: Runtime, *, mention: Mention, thread: Sequence[ContextItem]) -> int | Findings:
    """The plan's id once its card is posted in the thread, or what an investigation found; raises
    UserError when nothing can be read from the mention."""
    if not mention.text.strip():
        raise UserError("Ask me something after the mention, e.g. `@carapulse why is checkout failing?`")
    try:
        proposal = await proposals.propose(
            runtime,
            requester=mention.requester,
            text=mention.text,
            channel_id=mention.channel_id,
            data=thread,
            may_investigate=True,
        )
    except UserError as exc:
        if runtime.model is None:
            raise UserError(f"{exc.message}\n{investigation.NO_MODEL}") from None
        raise
    if isinstance(proposal.read, Investigate):
        asked = ContextItem(f"the mention by <@{mention.requester.user_id}>", mention.text)
        return await investigation.investigate(
            runtime, requester=mention.requester, question=proposal.read.question, data=[asked, *thread]
        )
    return await operations.plan_proposal(
        runtime,
        requester=mention.requester,
        channel_id=mention.channel_id,
        thread_ts=mention.reply_ts,
        proposal=proposal,
        intent=mention.text,
        source_key=f"mention:{mention.channel_id}:{mention.ts}",
    )
