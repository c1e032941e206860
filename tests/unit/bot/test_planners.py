"""The rules planner behind the planner interface reads exactly what bot/planner.py reads."""

import pytest

from bot import planner, workflows
from bot.domain import PlanDraft
from bot.errors import UserError
from bot.planners import RULES, PlanAsk, RulesPlanner
from bot.planning_context import ContextItem
from bot.workflows.catalog import WorkflowRequest
from tests.builders import ALICE
from tools.common.registry import Registry

CATALOG = workflows.build_catalog(None, environments=["prod"])


def ask(text: str) -> PlanAsk:
    context = [ContextItem("runbook", "ignored by the rules")]
    return PlanAsk(text, ALICE, "prod", CATALOG, Registry(), context=context)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("scale checkout to 5 in shop", WorkflowRequest), ("restart checkout in shop", PlanDraft)],
)
async def test_rules_planner_proposes_what_the_rules_read(text: str, kind: type) -> None:
    proposal = await RulesPlanner().propose(ask(text))

    assert isinstance(proposal.read, kind)
    assert proposal.read == planner.read(text, environment="prod", workflows=CATALOG)
    assert proposal.made_by == RULES
    assert RulesPlanner().answers_in_ack


async def test_rules_planner_refuses_what_it_cannot_read_with_examples() -> None:
    with pytest.raises(UserError, match="I could not read a plan from 'why is checkout slow'"):
        await RulesPlanner().propose(ask("why is checkout slow"))
