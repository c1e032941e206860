import pytest

from actions.payloads import PlanRef, plan_ref_from_action
from bot.errors import UserError


def clicked(value: str) -> dict:
    return {"actions": [{"value": value}]}


@pytest.mark.parametrize(
    ("value", "ref"),
    [("42:3", PlanRef(42, 3)), ("42", PlanRef(42, None)), (" #7 ", PlanRef(7, None))],
)
def test_a_button_value_names_the_plan_and_the_version_it_showed(value: str, ref: PlanRef) -> None:
    assert plan_ref_from_action(clicked(value)) == ref


@pytest.mark.parametrize("value", ["", "abc", "42:x", "0:1", "-1:2", "42:", "42:0"])
def test_a_value_no_card_makes_is_refused(value: str) -> None:
    with pytest.raises(UserError):
        plan_ref_from_action(clicked(value))


def test_an_approve_that_asks_for_typing_says_so() -> None:
    assert plan_ref_from_action(clicked("42:3:confirm")) == PlanRef(42, 3, confirm=True)


@pytest.mark.parametrize("value", ["42:3:", "42:3:yes", "42::confirm", "42:confirm"])
def test_a_flag_no_card_sets_is_refused(value: str) -> None:
    with pytest.raises(UserError):
        plan_ref_from_action(clicked(value))
