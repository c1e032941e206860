"""One planner interface, three implementations: the rules planner (bot/planner.py), and a model
from OpenAI or Anthropic (bot/llm/) that widens what people can ask for, never what the bot may do.

A planner only reads: text in, a proposal out. What it proposes is checked the same way whoever
made it (the workflow's input model, each action's args model), then policy decides the risk and
the approvals, and a person approves it before anything with write effect runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import planner
from bot.domain import Actor, PlanDraft, PlannerRef
from bot.planning_context import ContextItem
from bot.workflows.catalog import Catalog, WorkflowRequest
from tools.common.registry import Registry

RULES = PlannerRef(name="rules")


@dataclass(frozen=True)
class PlanAsk:
    """What a planner is asked: a person's words and what it may use to answer them.

    `context` is data a model reads beside the words (memory, runbooks, the thread); the rules
    planner reads the words alone. `may_investigate` lets a model answer with an investigation
    instead of a plan (a mention in a thread may; a slash command plans)."""

    text: str
    requester: Actor
    environment: str
    workflows: Catalog
    registry: Registry
    context: Sequence[ContextItem] = ()
    may_investigate: bool = False


@dataclass(frozen=True)
class Investigate:
    """The model would rather look than change anything: read-only calls, then findings."""

    question: str


Understood = PlanDraft | WorkflowRequest | Investigate


@dataclass(frozen=True)
class Proposal:
    read: Understood
    made_by: PlannerRef


class Planner(Protocol):
    """Reads a proposal from text; raises UserError (naming what is wrong) when it cannot."""

    @property
    def answers_in_ack(self) -> bool:
        """Whether it plans without I/O, so a slash command can be answered (or refused) within
        Slack's 3-second acknowledgement instead of after it."""
        ...

    @property
    def ref(self) -> PlannerRef: ...

    async def propose(self, ask: PlanAsk) -> Proposal: ...


class RulesPlanner:
    """The sentences bot/planner.py reads; the default, and the fallback of every model planner."""

    answers_in_ack = True
    ref = RULES

    async def propose(self, ask: PlanAsk) -> Proposal:
        return Proposal(planner.read(ask.text, environment=ask.environment, workflows=ask.workflows), RULES)
