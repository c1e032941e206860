"""`carapulse api plan …` against a running bot: a pipeline step plans, waits while a person decides
in the fake Slack, and exits with the plan's ending; usage mistakes are one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from blocks import ids
from bot.cli import main
from bot.playground.slack.state import BOB
from tests.integration.api.conftest import ApiBot
from tests.integration.api.test_plan_routes import SCALE

REASON = {ids.REASON_BLOCK: {ids.REASON_INPUT: {"type": "plain_text_input", "value": "not during the sale"}}}


@pytest.fixture
def cli_environment(monkeypatch: pytest.MonkeyPatch, api: ApiBot) -> ApiBot:
    monkeypatch.setenv("CARAPULSE_API_URL", api.bot.url)
    monkeypatch.setenv("CARAPULSE_API_TOKEN", api.token)
    return api


async def cli(*argv: str) -> int:
    """The command as a pipeline runs it, in a thread of its own (it runs its own event loop)."""
    return await asyncio.to_thread(main, list(argv))


async def reject(api: ApiBot, plan_id: int) -> None:
    await api.bot.driver.block_action(ids.PLAN_REJECT, str(plan_id), user=BOB)
    await api.bot.slack.wait_for(lambda c: c.method == "views.open" and c.ok)
    await api.bot.driver.view_submission(ids.REJECT_MODAL, REASON, user=BOB)


async def test_a_pipeline_step_plans_waits_for_slack_approval_and_exits_0(cli_environment: ApiBot) -> None:
    api = cli_environment
    step = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "api",
        "plan",
        "create",
        "--workflow",
        "scale_service",
        "--input",
        "name=checkout",
        "--input",
        "namespace=shop",
        "--input",
        "count=5",
        "--wait",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await api.bot.card_text(1, "Awaiting approval", timeout=30)

    await api.bot.driver.block_action(ids.PLAN_APPROVE, "1", user=BOB)

    out, err = await asyncio.wait_for(step.communicate(), 60)
    assert step.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("Plan #1 is awaiting approval: https://acme-sre.slack.com/archives/")
    assert lines[1] == "Plan #1 succeeded: " + (await api.call("GET", "/api/v1/plans/1")).body["summary"]
    assert lines[2] == f"  requested by token:deploy; approved by {BOB}"
    assert "plan #1: succeeded" in err.decode()
    assert api.bot.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5


async def test_wait_fails_with_its_own_status_when_the_plan_is_rejected(
    cli_environment: ApiBot, capsys: pytest.CaptureFixture[str]
) -> None:
    api = cli_environment
    plan_id = (await api.call("POST", "/api/v1/plans", json=SCALE)).body["id"]
    waiting = asyncio.create_task(cli("api", "plan", "wait", str(plan_id)))
    await api.bot.card_text(plan_id, "Awaiting approval")

    await reject(api, plan_id)

    assert await asyncio.wait_for(waiting, 30) == 12
    out = capsys.readouterr().out
    assert f"Plan #{plan_id} rejected:" in out
    assert f"  rejected by {BOB}: not during the sale" in out


async def test_wait_on_a_cancelled_plan_exits_13_and_get_list_show_it(
    cli_environment: ApiBot, capsys: pytest.CaptureFixture[str]
) -> None:
    created = await cli("api", "plan", "create", "--intent", "scale checkout to 4 in shop", "--json")
    plan_id = json.loads(capsys.readouterr().out)["id"]

    cancelled = await cli("api", "plan", "cancel", str(plan_id))
    cancel_out = capsys.readouterr().out
    waited = await cli("api", "plan", "wait", str(plan_id))
    capsys.readouterr()
    listed = await cli("api", "plan", "list", "--status", "cancelled")
    list_out = capsys.readouterr().out
    got = await cli("api", "plan", "get", str(plan_id), "--json")

    assert (created, cancelled, waited, listed, got) == (0, 0, 13, 0, 0)
    assert "  cancelled by token:deploy" in cancel_out
    assert list_out.startswith(f"#{plan_id} ") and "cancelled" in list_out
    assert json.loads(capsys.readouterr().out)["status"] == "cancelled"


async def test_wait_gives_up_after_its_timeout_with_exit_5(
    cli_environment: ApiBot, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_id = (await cli_environment.call("POST", "/api/v1/plans", json=SCALE)).body["id"]

    assert await cli("api", "plan", "wait", str(plan_id), "--timeout", "0.5") == 5
    assert capsys.readouterr().err.endswith(
        f"carapulse: plan #{plan_id} is still awaiting approval after 0.5 s\n"
    )


@pytest.mark.parametrize(
    ("argv", "status", "line"),
    [
        (["get", "999"], 3, "the API refused (404): There is no plan #999 in this workspace."),
        (["wait", "999"], 3, "the API refused (404): There is no plan #999 in this workspace."),
        (
            ["create", "--workflow", "scale_service", "--input", "count=-1", "--input", "name=x"],
            3,
            "the API refused (422): `scale_service` cannot start with these inputs: count:",
        ),
    ],
)
async def test_refusals_exit_3_with_the_apis_reason(
    cli_environment: ApiBot, capsys: pytest.CaptureFixture[str], argv: list[str], status: int, line: str
) -> None:
    assert await cli("api", "plan", *argv) == status
    err = capsys.readouterr().err
    assert err.startswith(f"carapulse: {line}") and err.count("\n") == 1


async def test_a_bad_token_exits_3_with_the_reason(
    cli_environment: ApiBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CARAPULSE_API_TOKEN", "cpt_" + "n" * 43)

    assert await cli("api", "plan", "list") == 3
    assert (
        capsys.readouterr().err == "carapulse: the API refused (401): the API token is unknown or revoked\n"
    )


@pytest.mark.parametrize(
    ("environment", "argv", "line"),
    [
        ({}, ["get", "1"], "carapulse: CARAPULSE_API_URL must be the API server's address"),
        ({"CARAPULSE_API_URL": "http://x"}, ["get", "1"], "carapulse: CARAPULSE_API_TOKEN is not set"),
        ({}, ["get", "one"], "carapulse api plan get: argument plan_id: 'one' is not a plan id"),
        ({}, ["get", "1", "--verbose"], "carapulse api plan get: unrecognized arguments: --verbose"),
        ({}, ["create"], "carapulse api plan create: one of the arguments --workflow --intent is required"),
        ({}, ["create", "--workflow", "w", "--intent", "i"], "argument --intent: not allowed with argument"),
        ({}, ["wait", "1", "--timeout", "0"], "argument --timeout: must be more than 0 seconds"),
        (
            {"CARAPULSE_API_URL": "http://x", "CARAPULSE_API_TOKEN": "t"},
            ["create", "--intent", "x", "--input", "a=1"],
            "carapulse: --input goes with --workflow",
        ),
        (
            {"CARAPULSE_API_URL": "http://x", "CARAPULSE_API_TOKEN": "t"},
            ["create", "--workflow", "w", "--input", "novalue"],
            "carapulse: --input 'novalue' is not NAME=VALUE",
        ),
        (
            {"CARAPULSE_API_URL": "http://x", "CARAPULSE_API_TOKEN": "t"},
            ["create", "--workflow", "w", "--timeout", "3"],
            "carapulse: --timeout goes with --wait",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    argv: list[str],
    line: str,
) -> None:
    for name in ("CARAPULSE_API_URL", "CARAPULSE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert exit_status(["api", "plan", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("carapulse") and line in err and err.count("\n") == 1


def exit_status(argv: list[str]) -> int:
    """What the shell sees: argparse ends bad usage with SystemExit, the commands return."""
    try:
        return main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
