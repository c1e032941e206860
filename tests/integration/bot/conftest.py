"""Fixtures for worker tests: the dial system, a recording observer, and a worker over both."""

from __future__ import annotations

import pytest

from bot.db.engine import SessionFactory
from bot.worker import Worker
from tests.fakes.dial import Dials
from tests.integration.bot.dial_plans import RecordingObserver
from tools.common.registry import Registry


@pytest.fixture
def dials() -> Dials:
    return Dials()


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
def worker(sessions: SessionFactory, dials: Dials, observer: RecordingObserver) -> Worker:
    return Worker(
        sessions=sessions,
        registry=Registry(dials.actions()),
        observer=observer,
        lease_seconds=30,
        poll_seconds=0.05,
        cancel_poll_seconds=0.05,
        owner="worker-test",
    )
