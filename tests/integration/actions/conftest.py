from pathlib import Path

import pytest

from tests.integration.actions.model_support import DIALECTS, Dialect
from tests.integration.actions.workflow_support import BotWith, bot_starter


@pytest.fixture
def bot_with(database_url: str, tmp_path: Path) -> BotWith:
    """A bot started with extra settings and override files ({"prod/x.yaml": text})."""
    return bot_starter(database_url, tmp_path)


@pytest.fixture(params=DIALECTS, ids=lambda dialect: dialect.name)
def dialect(request: pytest.FixtureRequest) -> Dialect:
    """Each model wire format in turn: OpenAI chat completions, OpenAI Responses, Anthropic Messages."""
    return request.param
