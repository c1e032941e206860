"""The contract every installed tool keeps, checked across all of them at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.common.base import Action, ActionArgs, Effect
from tools.common.catalog import installed_tools
from tools.common.registry import installed_toolsets
from tools.common.toolset import NotConfigured

EXPECTED_TOOLS = {
    "alertmanager",
    "argocd",
    "aws",
    "boundary",
    "git",
    "github",
    "gitlab",
    "grafana",
    "helm",
    "kubernetes",
    "linear",
    "pagerduty",
    "prometheus",
    "tempo",
    "terraform",
    "vault",
}
TOOLS = installed_tools()
ACTIONS = [action for tool in TOOLS for action in tool.actions]


def test_every_built_in_tool_is_installed_with_actions() -> None:
    assert {tool.name for tool in TOOLS} == EXPECTED_TOOLS
    assert all(tool.actions for tool in TOOLS), [tool.name for tool in TOOLS if not tool.actions]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_each_action_declares_what_policy_and_the_card_need(action: type[Action[ActionArgs]]) -> None:
    tool, _, verb = action.name.partition(".")
    assert tool in EXPECTED_TOOLS and verb == verb.lower() and " " not in verb
    assert action.description.strip()
    assert action.effect in (Effect.READ, Effect.WRITE)
    assert 0 < action.timeout_seconds <= 4 * 3600
    assert issubclass(action.args_model, ActionArgs)
    assert action.args_model.model_config.get("extra") == "forbid"
    assert action.args_model.model_json_schema()["type"] == "object"


def test_action_names_are_unique_across_tools() -> None:
    names = [action.name for action in ACTIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(EXPECTED_TOOLS))
def test_a_tool_without_its_settings_is_left_out_not_broken(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config, ~/.aws, … from the machine

    with pytest.raises(NotConfigured):
        installed_toolsets()[name]({})
