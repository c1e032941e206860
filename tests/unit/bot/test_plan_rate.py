from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import ConfigError
from bot.plan_rate import PlanRate, RateLimited
from bot.settings import load_settings


@pytest.mark.parametrize(
    ("value", "count", "window"),
    [
        ("10/minute", 10, timedelta(minutes=1)),
        ("1/second", 1, timedelta(seconds=1)),
        (" 30 / hours ", 30, timedelta(hours=1)),
        ("100/2hours", 100, timedelta(hours=2)),
        ("5/Day", 5, timedelta(days=1)),
    ],
)
def test_a_rate_is_a_count_per_window(value: str, count: int, window: timedelta) -> None:
    assert PlanRate.parse(value) == PlanRate(count=count, window=window)


@pytest.mark.parametrize("value", ["off", "OFF", "", "  "])
def test_off_means_no_limit(value: str) -> None:
    assert PlanRate.parse(value) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ten/minute", "<count>/<unit>"),
        ("10/fortnight", "<count>/<unit>"),
        ("10", "<count>/<unit>"),
        ("-1/minute", "<count>/<unit>"),
        ("0/minute", "at least 1"),
        ("10/0minutes", "at least 1"),
    ],
)
def test_a_bad_rate_names_the_setting_and_the_shape(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("PLAN_RATE_LIMIT", value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert raised.value.message.startswith("PLAN_RATE_LIMIT is invalid")
    assert problem in raised.value.message


@pytest.mark.parametrize(
    ("rate", "described"),
    [
        (PlanRate(10, timedelta(minutes=1)), "10 per minute"),
        (PlanRate(100, timedelta(hours=2)), "100 per 2 hours"),
        (PlanRate(3, timedelta(seconds=90)), "3 per 90 seconds"),
    ],
)
def test_a_rate_describes_itself(rate: PlanRate, described: str) -> None:
    assert rate.describe() == described


def test_the_refusal_says_when_to_ask_again() -> None:
    now = datetime(2026, 12, 7, 10, 31, 18, tzinfo=UTC)
    refusal = RateLimited(PlanRate(10, timedelta(minutes=1)), now + timedelta(seconds=41.2), now)
    assert refusal.message == (
        "You have asked for 10 plans recently, the most allowed here (10 per minute, PLAN_RATE_LIMIT). "
        "Ask again at 10:32:00 UTC, in 42 s."
    )


@pytest.mark.parametrize("value", ["100", "999999999999"])
def test_the_body_cap_has_bounds(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("MAX_REQUEST_BYTES", value)
    with pytest.raises(ConfigError, match="MAX_REQUEST_BYTES is invalid"):
        load_settings()
