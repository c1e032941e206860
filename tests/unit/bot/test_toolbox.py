"""Building the registry from tool entry points, and the CLI that describes them."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from bot import toolbox
from bot.cli import main
from bot.errors import ConfigError
from tests.fakes.dial import Dials
from tools.common.base import ToolError
from tools.common.toolset import NotConfigured, Toolset


def _enabled(environ: Mapping[str, str]) -> Toolset:
    return Toolset(name="dial", actions=Dials().actions(), status=f"enabled, {environ['DIAL_URL']}")


def _absent(environ: Mapping[str, str]) -> Toolset:
    raise NotConfigured("set ABSENT_URL to enable")


def _broken(environ: Mapping[str, str]) -> Toolset:
    raise ToolError("broken: BROKEN_URL: not a URL", call="configuration")


def test_each_tool_reports_a_status_and_only_configured_ones_add_actions() -> None:
    built = toolbox.build({"DIAL_URL": "http://dial"}, {"dial": _enabled, "absent": _absent})

    assert built.status == {"absent": "disabled, set ABSENT_URL to enable", "dial": "enabled, http://dial"}
    assert {action.name for action in built.registry} == {action.name for action in Dials().actions()}


def test_a_misconfigured_tool_stops_start_up_with_its_message() -> None:
    with pytest.raises(ConfigError, match=r"^broken: BROKEN_URL: not a URL$"):
        toolbox.build({}, {"broken": _broken})


def test_secret_looking_variables_and_configured_patterns_are_redacted() -> None:
    redactor = toolbox.redactor_for(
        {"VAULT_TOKEN": "root-token-value", "PORT": "3000", "REDACT_PATTERNS": '["acct-[0-9]+"]'}
    )

    assert redactor.redact("root-token-value acct-42 3000") == "[redacted] [redacted] 3000"


@pytest.mark.parametrize("patterns", ['{"a": 1}', '["("]', "not json"])
def test_bad_redact_patterns_are_a_start_up_error(patterns: str) -> None:
    with pytest.raises(ConfigError, match=r"^REDACT_PATTERNS: "):
        toolbox.redactor_for({"REDACT_PATTERNS": patterns})


def test_tools_list_shows_each_action_and_whether_the_tool_is_configured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nope/kubeconfig")

    assert main(["tools", "list"]) == 0

    out = capsys.readouterr().out
    assert "kubernetes: misconfigured: KUBECONFIG: file /nope/kubeconfig does not exist" in out
    assert "kubernetes.scale" in out
    assert "kubernetes.rollout_status" in out


def test_tools_schema_prints_each_actions_argument_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "schema", "kubernetes"]) == 0

    schemas = json.loads(capsys.readouterr().out)
    scale = schemas["kubernetes.scale"]
    assert scale["effect"] == "write"
    assert {"namespace", "name", "replicas"} <= set(scale["args"]["required"])


def test_tools_schema_names_the_installed_tools_for_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tools", "schema", "nope"]) == 2

    assert "no tool named 'nope' (installed: " in capsys.readouterr().err
