"""A model that plans: it reads the request with its context and answers with one of the answer
tools (bot/llm/answers.py). When the provider fails (down, slow, garbled), the rules planner reads
the request instead and the card says why."""

from __future__ import annotations

from bot.domain import PlannerRef
from bot.errors import UserError
from bot.llm import answers, prompts
from bot.llm.conversation import ModelUnavailable
from bot.llm.model import Model
from bot.planners import RULES, PlanAsk, Planner, Proposal


class ModelPlanner:
    answers_in_ack = False

    def __init__(self, model: Model, *, fallback: Planner) -> None:
        self._model = model
        self._fallback = fallback
        # The system prompt's catalog, per environment: the tools and workflows are fixed at start-up.
        self._catalogs: dict[str, str] = {}

    @property
    def ref(self) -> PlannerRef:
        return self._model.ref

    async def propose(self, ask: PlanAsk) -> Proposal:
        exchange = prompts.planning(ask, self._catalog(ask))
        label = self.ref.label
        try:
            reply = await self._model.send(exchange, actor=ask.requester, purpose="plan")
            read = answers.understood(reply, ask, redactor=self._model.redactor, planner=label)
        except ModelUnavailable as exc:
            return await self._instead(ask, f"{label} could not plan this ({exc.reason}).")
        return Proposal(read, self.ref)

    async def _instead(self, ask: PlanAsk, why: str) -> Proposal:
        why = self._model.redactor.redact(why)
        try:
            proposal = await self._fallback.propose(ask)
        except UserError as exc:
            raise UserError(f"{why}\n{exc.message}") from None
        return Proposal(proposal.read, PlannerRef(name=RULES.name, note=f"{why} The rules planner read it."))

    def _catalog(self, ask: PlanAsk) -> str:
        if ask.environment not in self._catalogs:
            self._catalogs[ask.environment] = prompts.catalog(ask.registry, ask.workflows, ask.environment)
        return self._catalogs[ask.environment]
