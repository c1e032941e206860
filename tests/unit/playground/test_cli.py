"""`carapulse playground` and what it leaves alone: `carapulse serve` neither imports the playground
nor starts it, and without a bot token it names the setting and points at the playground."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from bot.playground import stage
from bot.playground.slack import web_api
from tests import harness

CARAPULSE = [sys.executable, "-m", "bot"]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    """`carapulse` with no Slack or Carapulse settings in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CARAPULSE_"))}
    return subprocess.run(
        [*CARAPULSE, *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_playground_and_the_suite_run_the_same_fake_slack() -> None:
    assert stage.FakeSlack is harness.FakeSlack is web_api.FakeSlack
    assert web_api.__name__ == "bot.playground.slack.web_api"


def test_serve_imports_no_playground_code() -> None:
    probe = "import sys, bot.cli; print(sorted(m for m in sys.modules if m.startswith('bot.playground')))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert loaded.stdout.strip() == "['bot.playground', 'bot.playground.cli']"


def test_serve_without_a_bot_token_names_it_and_suggests_the_playground() -> None:
    finished = run("serve")
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        "carapulse: SLACK_BOT_TOKEN is missing "
        "(no Slack app yet? `carapulse playground` runs Carapulse in a browser, simulated here)"
    ]


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_a_port_out_of_range_is_refused(port: str) -> None:
    finished = run("playground", "--port", port)
    assert finished.returncode == 2
    assert f"--port must be between 0 and 65535, not {port}" in finished.stderr


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = run("playground", "--port", str(port))
    assert finished.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in finished.stderr
