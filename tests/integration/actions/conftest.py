from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.harness import RunningBot, running_bot
from tests.integration.actions.workflow_support import BotWith


@pytest.fixture
def bot_with(database_url: str, tmp_path: Path) -> BotWith:
    """A bot started with extra settings and override files ({"prod/x.yaml": text})."""

    @asynccontextmanager
    async def start(
        overrides: dict[str, str] | None = None, files: dict[str, str] | None = None
    ) -> AsyncIterator[RunningBot]:
        settings = dict(overrides or {})
        if files:
            directory = tmp_path / "workflows"
            for name, text in files.items():
                (directory / name).parent.mkdir(parents=True, exist_ok=True)
                (directory / name).write_text(text, encoding="utf-8")
            settings["WORKFLOWS_DIR"] = str(directory)
        async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=settings) as bot:
            yield bot

    return start
