import pytest

from tools.common.base import ToolError
from tools.common.pins import require_unmoved


def test_an_unmoved_or_unpinned_value_passes() -> None:
    require_unmoved("release shop/payments", pinned=7, live=7, call="helm status")
    require_unmoved("release shop/payments", pinned=None, live=8, call="helm status")


def test_a_moved_value_is_refused_naming_both() -> None:
    with pytest.raises(ToolError) as refused:
        require_unmoved("release shop/payments", pinned=7, live=8, call="helm status")

    assert refused.value.message == (
        "release shop/payments changed since the plan was made (pinned 7, now 8); make a new plan"
    )
    assert refused.value.call == "helm status"
