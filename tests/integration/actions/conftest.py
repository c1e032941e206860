from pathlib import Path

import pytest

from tests.integration.actions.workflow_support import BotWith, bot_starter


@pytest.fixture
def bot_with(database_url: str, tmp_path: Path) -> BotWith:
    """A bot started with extra settings and override files ({"prod/x.yaml": text})."""
    return bot_starter(database_url, tmp_path)
