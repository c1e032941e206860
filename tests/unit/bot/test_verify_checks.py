"""VERIFY_CHECKS: service checks appended to a plan's verify stage, filled from its target."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from bot import planner
from bot.domain import PlanDraft, StepStage
from bot.verify_checks import CHECK_ACTION, VerifyCheck, with_checks
from tests.builders import scale_draft

ERRORS = VerifyCheck(
    label="5xx ratio",
    expr='sum(rate(http_requests_total{{namespace="{namespace}",service="{name}",code=~"5.."}}[1m]))',
    comparator="<",
    threshold=0.01,
    environments=["prod"],
)


async def test_a_check_is_filled_from_the_target_and_appended_after_the_rollout_check() -> None:
    draft = with_checks(await scale_draft("scale checkout to 5 in shop"), [ERRORS])

    [rollout, check] = [step for step in draft.steps if step.stage == StepStage.VERIFY]
    assert rollout.action == "kubernetes.rollout_status"
    assert check.action == CHECK_ACTION
    assert (
        check.args["expr"]
        == 'sum(rate(http_requests_total{namespace="shop",service="checkout",code=~"5.."}[1m]))'
    )
    assert (check.args["comparator"], check.args["threshold"], check.args["label"]) == (
        "<",
        0.01,
        "5xx ratio",
    )
    assert check.description == "Check 5xx ratio < 0.01 for 60s"


def test_a_check_for_other_environments_is_left_out() -> None:
    draft = planner.read("restart checkout in shop", environment="staging", workflows=())
    assert isinstance(draft, PlanDraft)

    assert with_checks(draft, [ERRORS]) == draft


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('up{{job="{service}"}}', "unknown placeholder {service}"),
        ('up{job="x"}', "write PromQL's own braces as {{ and }}"),
        ("up{{job=x}", "write PromQL's own braces as {{ and }}"),
    ],
)
def test_an_expression_with_a_bad_placeholder_is_refused(expr: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        VerifyCheck(label="x", expr=expr, comparator="<", threshold=1)
