import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.playground.slack.state import OPS_CHANNEL
from tests.harness import RunningBot, running_bot
from tests.hooks import HOOK_SETTINGS

PAYMENTS_CHANNEL = "C0123PAYMNT"
INCIDENT_SETTINGS = {
    **HOOK_SETTINGS,
    "INCIDENT_DEFAULT_CHANNEL": OPS_CHANNEL,
    "INCIDENT_SERVICES": json.dumps({"payments": {"channel": PAYMENTS_CHANNEL, "namespace": "shop"}}),
    "INCIDENT_CHANNEL_SEVERITIES": json.dumps(["page"]),
}


@pytest.fixture
async def incident_bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(
        database_url=database_url,
        tmp_path=tmp_path,
        overrides=INCIDENT_SETTINGS,
        prepare_slack=lambda slack: slack.add_channel(PAYMENTS_CHANNEL, "payments"),
    ) as running:
        yield running
