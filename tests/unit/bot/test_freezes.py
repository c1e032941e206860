from datetime import timedelta

import pytest

from bot import freezes
from bot.errors import UserError


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("prod 2h release freeze", ("prod", timedelta(hours=2), "release freeze")),
        ("staging 30m db migration", ("staging", timedelta(minutes=30), "db migration")),
        ("prod 1D holidays", ("prod", timedelta(days=1), "holidays")),
    ],
)
def test_freeze_arguments_are_read(argument: str, expected: tuple) -> None:  # type: ignore[type-arg]
    assert freezes.parse(argument) == expected


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("", "Use `/carapulse freeze"),
        ("prod 2h", "Use `/carapulse freeze"),
        ("prod soon release", "is not a duration"),
        ("prod 0h release", "more than 0"),
        ("prod 31d release", "at most 30 days"),
    ],
)
def test_bad_freeze_arguments_say_how_to_write_them(argument: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        freezes.parse(argument)
