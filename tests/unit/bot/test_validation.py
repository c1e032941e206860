import pytest
from pydantic import BaseModel, ValidationError

from bot.validation import first_error


class Node(BaseModel):
    name: str
    child: "Node | None" = None


def test_first_error_names_the_field_and_counts_the_rest() -> None:
    with pytest.raises(ValidationError) as raised:
        Node.model_validate({"name": 5, "child": {"name": 6}})

    assert first_error(raised.value) == "name: Input should be a valid string (and 1 more)"


def test_a_deep_location_keeps_its_ends_so_the_line_stays_short() -> None:
    nested: dict[str, object] = {"name": 5}
    for _ in range(30):
        nested = {"name": "n", "child": nested}

    with pytest.raises(ValidationError) as raised:
        Node.model_validate(nested)

    where, problem = first_error(raised.value).split(": ")
    assert where == "child.child.child.child.….child.child.child.name"
    assert problem == "Input should be a valid string"
