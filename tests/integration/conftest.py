from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import RunningBot, running_bot


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(database_url=database_url, tmp_path=tmp_path) as running:
        yield running
