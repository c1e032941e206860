from datetime import timedelta
from email.utils import format_datetime

import pytest

from bot.clock import utcnow
from bot.domain import PlanStatus
from bot.notification_sinks import _retry_after
from bot.notifications import events_of


@pytest.mark.parametrize(
    ("status", "queued", "started", "events"),
    [
        (PlanStatus.AWAITING_APPROVAL, False, False, ["created"]),
        (PlanStatus.REJECTED, False, False, ["created", "rejected"]),
        (PlanStatus.EXPIRED, False, False, ["created", "expired"]),
        (PlanStatus.APPROVED, True, False, ["created", "approved"]),
        (PlanStatus.RUNNING, True, True, ["created", "approved", "started"]),
        (PlanStatus.SUCCEEDED, True, True, ["created", "approved", "started", "succeeded"]),
        (PlanStatus.ROLLED_BACK, True, True, ["created", "approved", "started", "rolled_back"]),
        (PlanStatus.CANCELLED, True, False, ["created", "approved", "cancelled"]),
    ],
)
def test_a_plans_state_implies_every_event_it_went_through(
    status: PlanStatus, queued: bool, started: bool, events: list[str]
) -> None:
    assert events_of(status, queued=queued, started=started) == events


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert _retry_after("7") == 7.0
    in_a_minute = _retry_after(format_datetime(utcnow() + timedelta(seconds=60), usegmt=True))
    assert in_a_minute is not None and 55 <= in_a_minute <= 60
    assert _retry_after(format_datetime(utcnow() - timedelta(seconds=60), usegmt=True)) == 0.0
    assert _retry_after("soon") is None and _retry_after(None) is None
