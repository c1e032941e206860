"""The gate under load and across processes: a storm keeps one thread, a restart keeps the gate's
state, and two replicas on one database open one thread."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.db.models import Incident, IncidentAlert
from bot.playground.slack.state import OPS_CHANNEL
from bot.playground.slack.web_api import FakeSlack
from tests.alerts import alert, webhook
from tests.harness import running_bot
from tests.hooks import post
from tests.integration.incidents.conftest import INCIDENT_SETTINGS

STORM = 1500
EDIT_INTERVAL = 0.5
CONNECTIONS = 50


def _incident_messages(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.messages[OPS_CHANNEL].values() if m.get("text", "").startswith("Incident #")]


def _shows(slack: FakeSlack, text: str) -> bool:
    return any(text in str(m["blocks"]) for m in _incident_messages(slack))


async def _storm(urls: list[str], count: int) -> list[int]:
    """`count` deliveries of distinct alerts of one group, spread over `urls`, many at once."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        answers = await asyncio.gather(
            *(
                post(
                    urls[n % len(urls)],
                    "alertmanager",
                    webhook(alert(fingerprint=f"f{n:05d}", pod=f"p{n}")),
                    session=session,
                )
                for n in range(count)
            )
        )
    return [answer.status for answer in answers]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as shared:
        yield shared


def _bot(database_url: str, directory: Path, slack: FakeSlack) -> Any:
    directory.mkdir(exist_ok=True)
    return running_bot(
        database_url=database_url, tmp_path=directory, overrides=INCIDENT_SETTINGS, slack=slack
    )


async def test_a_storm_of_alerts_keeps_one_thread_with_a_current_counter(
    database_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    overrides = {**INCIDENT_SETTINGS, "CARD_UPDATE_INTERVAL_SECONDS": str(EDIT_INTERVAL)}
    async with running_bot(
        database_url=database_url, tmp_path=tmp_path, overrides=overrides, slack=slack
    ) as bot:
        started = time.monotonic()
        statuses = await _storm([bot.url], STORM)
        assert statuses == [200] * STORM
        counter = f"{STORM:,} firing of {STORM:,}"
        await slack.wait_until(lambda: _shows(slack, counter), timeout=60)
        elapsed = time.monotonic() - started
        assert len(_incident_messages(slack)) == 1
        assert await bot.count(Incident) == 1
        assert await bot.count(IncidentAlert) == STORM
        edits = len(slack.calls_to("chat.update"))
        # Coalesced: at most one edit per interval however many alerts arrive, never one per alert.
        assert 1 <= edits <= elapsed / EDIT_INTERVAL + 2, (edits, elapsed)


async def test_a_restart_keeps_the_gate_and_the_thread(
    database_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    async with _bot(database_url, tmp_path / "first", slack) as first:
        await post(first.url, "alertmanager", webhook(alert(fingerprint="aa01")))
        await slack.wait_until(lambda: _incident_messages(slack) or None)
        await first.carapulse.incidents.settled(1)
    async with _bot(database_url, tmp_path / "second", slack) as second:
        again = await post(
            second.url, "alertmanager", webhook(alert(fingerprint="aa01"), alert(fingerprint="aa02"))
        )
        assert again.json()["incidents"] == [1]
        await slack.wait_until(lambda: _shows(slack, "2 firing of 2 · 3 received"))
        await second.carapulse.incidents.settled(1)
    assert len(_incident_messages(slack)) == 1


async def test_two_replicas_on_one_database_open_one_thread(
    database_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    async with (
        _bot(database_url, tmp_path / "a", slack) as one,
        _bot(database_url, tmp_path / "b", slack) as two,
    ):
        statuses = await _storm([one.url, two.url], 300)
        assert statuses == [200] * 300
        await slack.wait_until(lambda: _shows(slack, "300 firing of 300"), timeout=30)
        await asyncio.gather(one.carapulse.incidents.settled(1), two.carapulse.incidents.settled(1))
        assert len(_incident_messages(slack)) == 1
        assert await one.count(Incident) == 1
        # Only the replica that posted the message opens its thread with diagnostics.
        await slack.wait_until(lambda: _replies(slack, "Diagnostics"))
        await asyncio.gather(
            one.carapulse.runtime.supervisor.drain(), two.carapulse.runtime.supervisor.drain()
        )
        assert len(_replies(slack, "Diagnostics")) == 1


def _replies(slack: FakeSlack, prefix: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages[OPS_CHANNEL].values() if m.get("text", "").startswith(prefix)]


async def test_a_replica_whose_edit_landed_late_edits_the_message_again(
    database_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    """Replica A's edit of the incident message is held up by a 429 its client waits out; meanwhile
    replica B takes a newer alert and shows it. A's stale edit lands last, so A edits once more."""
    async with (
        _bot(database_url, tmp_path / "a", slack) as one,
        _bot(database_url, tmp_path / "b", slack) as two,
    ):
        await post(one.url, "alertmanager", webhook(alert(fingerprint="aa01")))
        await slack.wait_until(lambda: _incident_messages(slack) or None)
        await one.carapulse.incidents.settled(1)

        slack.rate_limit_next("chat.update", retry_after=1)
        await post(one.url, "alertmanager", webhook(alert(fingerprint="aa02")))
        await slack.wait_for(lambda c: c.method == "chat.update" and c.status == 429)
        await post(two.url, "alertmanager", webhook(alert(fingerprint="aa03")))
        await two.carapulse.incidents.settled(1)
        await one.carapulse.incidents.settled(1)

        edits = [str(c.args["blocks"]) for c in slack.calls_to("chat.update") if c.ok]
        assert ["3 firing of 3" in edit for edit in edits][-1]
        assert any("2 firing of 2" in edit for edit in edits[-2:-1]), "A's stale edit landed last"
        assert _shows(slack, "3 firing of 3")
