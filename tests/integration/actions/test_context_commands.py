"""`/carapulse context`: refresh the graph, show a service with a picture of its neighbourhood in the
requester's DM, show what changed, and refuse bad input, as Slack drives it (fake Slack, fake
Kubernetes, a mapping file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from blocks import ids
from bot.errors import ConfigError
from bot.playground.slack.state import ALICE, BOB
from tests.harness import RunningBot, running_bot

MAPPING = """\
services:
  checkout:
    owner: "@payments-team"
    channel: C0123PAYMNT
    depends_on: [payments]
  frontend:
    depends_on: [checkout]
"""


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    mapping = tmp_path / "services.yaml"
    mapping.write_text(MAPPING)
    overrides = {"CONTEXT_MAPPING_FILE": str(mapping), "CONTEXT_REFRESH_SECONDS": "0"}
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as running:
        yield running


async def answer(bot: RunningBot, text: str, *, user: str = ALICE) -> dict[str, Any]:
    seen = len(bot.slack.responses)
    response = await bot.driver.slash_command(text, user=user)
    assert response.status == 200
    return (await bot.slack.wait_until(lambda: bot.slack.responses[seen:]))[0].body


async def test_refresh_then_show_a_service_with_its_picture_in_the_dm(bot: RunningBot) -> None:
    refreshed = await answer(bot, "context refresh")
    assert refreshed["response_type"] == "ephemeral"
    assert "a new snapshot" in refreshed["text"]
    assert (
        "kubernetes: " in refreshed["text"]
        and "helm: skipped, the tool is not configured" in refreshed["text"]
    )

    shown = await answer(bot, "context checkout")

    text = str(shown["blocks"])
    assert "*checkout* in prod" in text
    assert "@payments-team" in text and "<#C0123PAYMNT>" in text
    assert "workload shop/checkout" in text
    assert "`payments`" in text and "`frontend`" in text
    [picture] = await bot.slack.wait_until(lambda: bot.slack.uploaded_files)
    assert picture.name == "context-checkout.png" and picture.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert bot.slack.workspace.channels[picture.channel or ""].kind == "im"


async def test_a_plan_shows_as_a_recent_change_and_in_the_diff(bot: RunningBot) -> None:
    await answer(bot, "context refresh")
    await bot.driver.slash_command("scale checkout to 5 in shop")
    await bot.card_text(1, "Awaiting approval")
    await bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)
    await bot.card_text(1, "Succeeded")
    assert "a new snapshot" in (await answer(bot, "context refresh"))["text"]

    shown = str((await answer(bot, "context checkout"))["blocks"])
    changes = str((await answer(bot, "context diff checkout 1h"))["blocks"])

    assert "plan #1 " in shown and "(succeeded, " in shown
    assert "~ workload shop/checkout: replicas 2 → 5" in changes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("context", "Use `/carapulse context <service>`"),
        ("context checkout payments", "Name one service"),
        ("context diff", "Use `/carapulse context <service>`"),
        ("context diff checkout yesterday", "`yesterday` is not a time"),
    ],
)
async def test_bad_context_commands_are_answered_inside_the_ack(
    bot: RunningBot, text: str, expected: str
) -> None:
    response = await bot.driver.slash_command(text)

    assert expected in response.json()["text"]


async def test_an_unknown_service_or_a_missing_graph_is_named(bot: RunningBot) -> None:
    assert "no context graph yet" in (await answer(bot, "context checkout"))["text"]
    await answer(bot, "context refresh")

    said = (await answer(bot, "context nonesuch"))["text"]

    assert "There is no service `nonesuch` in the context graph" in said and "`checkout`" in said
    assert "no context snapshot from before" in (await answer(bot, "context diff checkout"))["text"]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("services: [checkout]", "services: Input should be a valid dictionary"),
        (
            "services:\n  checkout:\n    owner: x\n    onwer: y\n",
            "services.checkout.onwer: Extra inputs are not permitted",
        ),
        (
            "services:\n  checkout:\n    channel: '#payments'\n",
            "services.checkout.channel: String should match pattern",
        ),
        ("services:\n  checkout: {depends_on: [payments\n", "is not YAML"),
    ],
)
async def test_a_bad_mapping_file_stops_start_up_naming_the_file_and_field(
    database_url: str, tmp_path: Path, content: str, line: str
) -> None:
    mapping = tmp_path / "services.yaml"
    mapping.write_text(content)

    with pytest.raises(ConfigError) as stopped:
        async with running_bot(
            database_url=database_url, tmp_path=tmp_path, overrides={"CONTEXT_MAPPING_FILE": str(mapping)}
        ):
            pass

    assert stopped.value.message.startswith(f"CONTEXT_MAPPING_FILE: {mapping}")
    assert line in stopped.value.message and "\n" not in stopped.value.message


async def test_the_plan_card_shows_how_many_services_depend_on_the_target(bot: RunningBot) -> None:
    await answer(bot, "context refresh")

    await bot.driver.slash_command("scale checkout to 5 in shop")

    rendered = await bot.card_text(1, "Dependents")
    assert "*Dependents*\\n1 service: frontend" in rendered


async def test_a_target_the_graph_does_not_know_shows_no_dependents(bot: RunningBot) -> None:
    await bot.driver.slash_command("scale checkout to 5 in shop")

    rendered = await bot.card_text(1, "Awaiting approval")
    assert "Dependents" not in rendered


async def test_many_dependents_make_a_write_need_an_approval(database_url: str, tmp_path: Path) -> None:
    mapping = tmp_path / "services.yaml"
    callers = "\n".join(f"  caller-{n}:\n    depends_on: [checkout]" for n in range(6))
    mapping.write_text(f"services:\n{callers}\n")
    overrides = {
        "CONTEXT_MAPPING_FILE": str(mapping),
        "CONTEXT_REFRESH_SECONDS": "0",
        "ENVIRONMENTS": '{"prod": {"production": false}}',
        "CARAPULSE_ENVIRONMENT": "prod",
    }
    async with running_bot(database_url=database_url, tmp_path=tmp_path, overrides=overrides) as bot:
        await answer(bot, "context refresh")
        await bot.driver.slash_command("restart checkout in shop")

        rendered = await bot.card_text(1, "Dependents")

    assert "6 services: caller-0, caller-1, caller-2, caller-3, caller-4 …" in rendered
    assert "6 dependent services" in rendered
