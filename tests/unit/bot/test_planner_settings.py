"""PLANNER and its settings: a wrong or missing one stops start-up with one line naming it, and a
model planner is configured without importing its SDK."""

import subprocess
import sys

import pytest

from bot.cli import main

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
OPENAI = {**BASE, "PLANNER": "openai", "PLANNER_MODEL": "gpt-4.1", "OPENAI_API_KEY": "sk-test"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("DATABASE_URL", "KUBECONFIG", "CARAPULSE_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("environment", "line"),
    [
        ({**BASE, "PLANNER": "gpt"}, "PLANNER is invalid: Input should be 'rules', 'openai' or 'anthropic'"),
        ({**BASE, "PLANNER": "openai"}, "PLANNER_MODEL is invalid: Value error, PLANNER=openai needs"),
        ({**BASE, "PLANNER": "anthropic", "PLANNER_MODEL": " "}, "PLANNER_MODEL is invalid"),
        ({**OPENAI, "PLANNER_API": "assistants"}, "PLANNER_API is invalid"),
        ({**OPENAI, "PLANNER_BASE_URL": "localhost:11434"}, "PLANNER_BASE_URL is invalid: Value error"),
        ({**OPENAI, "PLANNER_TIMEOUT_SECONDS": "0"}, "PLANNER_TIMEOUT_SECONDS is invalid"),
        ({**OPENAI, "PLANNER_MAX_RETRIES": "-1"}, "PLANNER_MAX_RETRIES is invalid"),
        (
            {**OPENAI, "PLANNER_PRICES": '{"gpt-4.1": {"input": 2}}'},
            "PLANNER_PRICES is invalid: gpt-4.1.output is missing",
        ),
        (
            {**OPENAI, "PLANNER_PRICES": '{"gpt-4.1": {"input": -2, "output": 8}}'},
            "PLANNER_PRICES is invalid: gpt-4.1.input: Input should be greater than or equal to 0",
        ),
        ({**OPENAI, "INVESTIGATE_MAX_CALLS": "0"}, "INVESTIGATE_MAX_CALLS is invalid"),
        (
            {**BASE, "PLANNER": "openai", "PLANNER_MODEL": "gpt-4.1"},
            "OPENAI_API_KEY is missing: PLANNER=openai needs it (any value for a local server that ignores",
        ),
        (
            {**BASE, "PLANNER": "anthropic", "PLANNER_MODEL": "claude-sonnet-4-5", "OPENAI_API_KEY": "sk-1"},
            "ANTHROPIC_API_KEY is missing: PLANNER=anthropic needs it",
        ),
    ],
)
def test_bad_planner_settings_stop_start_up_with_one_line_naming_them(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    line: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert main(["serve"]) == 2

    error = capsys.readouterr().err.strip()
    assert line in error
    assert len(error.splitlines()) == 1


@pytest.mark.parametrize(
    ("planner", "key"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")]
)
def test_a_configured_model_planner_imports_no_sdk_until_it_is_asked(planner: str, key: str) -> None:
    script = f"""
import sys
from bot.llm import configured
from bot.settings import load_settings
settings = load_settings(slack_bot_token="xoxb-1", planner="{planner}", planner_model="m")
configured.check(settings, {{"{key}": "k"}})
model = configured.model(settings, {{"{key}": "k"}}, sessions=None, redactor=None)
assert type(configured.planner(model)).__name__ == "ModelPlanner"
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("openai", "anthropic"))
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", script], check=True)
