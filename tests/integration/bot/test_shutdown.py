"""Shutting down when the database refuses the last write: the process still closes."""

import logging
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot import executions
from tests.harness import running_bot


async def test_a_refused_hand_back_of_leases_does_not_stop_the_shutdown(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def locked(*args: object, **kwargs: object) -> list[int]:
        raise OperationalError("UPDATE executions", {}, Exception("database is locked"))

    async with running_bot(database_url=database_url, tmp_path=tmp_path) as bot:
        monkeypatch.setattr(executions, "release_leases", locked)
        engine = bot.carapulse.engine
    # running_bot's exit ran aclose to the end: the engine was disposed after the refusal.
    assert engine.pool.checkedout() == 0
    assert any(
        record.levelno == logging.WARNING and "could not hand executions back" in record.getMessage()
        for record in caplog.records
    )
