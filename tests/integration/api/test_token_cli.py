"""`carapulse api token create|list|revoke` against a real database."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.builders import TEAM
from tests.cli_output import refusal


@pytest.fixture
def server_environment(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.delenv("CARAPULSE_CONFIG", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("API_TEAM_ID", TEAM)


@pytest.mark.usefixtures("server_environment")
def test_create_prints_the_token_once_list_shows_it_and_revoke_ends_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    created = main(["api", "token", "create", "deploy", "--roles", "operator,viewer"])
    out, err = capsys.readouterr()
    listed = main(["api", "token", "list"])
    listing = capsys.readouterr().out
    revoked = main(["api", "token", "revoke", "deploy"])
    after = capsys.readouterr().out
    main(["api", "token", "list"])

    assert created == listed == revoked == 0
    assert out.startswith("cpt_") and out.count("\n") == 1
    assert "API token deploy (operator, viewer); it is shown only now" in err
    assert "deploy" in listing and "operator,viewer" in listing and "active" in listing
    assert out.strip() not in listing
    assert after == "API token deploy is revoked.\n"
    assert "revoked 20" in capsys.readouterr().out


@pytest.mark.usefixtures("server_environment")
@pytest.mark.parametrize(
    ("argv", "status", "line"),
    [
        (["api", "token", "create", "Bad Name", "--roles", "operator"], 2, "is not a token name"),
        (["api", "token", "create", "deploy", "--roles", "approver"], 2, "approver is not one"),
        (["api", "token", "revoke", "nobody"], 1, "There is no API token named nobody."),
    ],
)
def test_refusals_are_one_line_with_the_status_saying_whose_mistake(
    capsys: pytest.CaptureFixture[str], argv: list[str], status: int, line: str
) -> None:
    assert main(argv) == status
    said = refusal(capsys.readouterr().err)
    assert said.startswith("carapulse: ") and line in said


def test_token_commands_need_the_workspace(
    monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CARAPULSE_CONFIG", raising=False)
    monkeypatch.delenv("API_TEAM_ID", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert main(["api", "token", "list"]) == 2
    assert capsys.readouterr().err == (
        "carapulse: API_TEAM_ID is missing: the API acts in one workspace; set its Slack team id (T…)\n"
    )
