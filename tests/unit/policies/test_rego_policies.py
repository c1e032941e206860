"""Runs every Rego `test_` rule under policies/ as its own pytest case, and checks fail-closed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.policy_engine import (
    GuardedPolicy,
    PolicyEngine,
    PolicyInput,
    PolicyTestResult,
    PolicyUnavailable,
    run_policy_tests,
)

POLICIES = Path(__file__).resolve().parents[3] / "policies"
RESULTS = run_policy_tests(POLICIES)


def test_policy_tests_are_discovered() -> None:
    assert len(RESULTS) >= 40


@pytest.mark.parametrize("result", RESULTS, ids=[result.name for result in RESULTS])
def test_rego_rule(result: PolicyTestResult) -> None:
    assert result.passed, f"{result.name} failed: {result.error}"


def test_failing_rego_test_is_reported_by_name(tmp_path: Path) -> None:
    (tmp_path / "x_test.rego").write_text(
        "package x_test\nimport rego.v1\ntest_fails if 1 == 2\ntest_passes if 1 == 1\n"
    )
    results = {result.name: result for result in run_policy_tests(tmp_path)}
    assert results["x_test.test_passes"].passed
    assert not results["x_test.test_fails"].passed
    assert "undefined" in results["x_test.test_fails"].error or results["x_test.test_fails"].error


@pytest.fixture
def broken_policies(tmp_path: Path) -> Path:
    (tmp_path / "decision.rego").write_text("package carapulse.decision\nimport rego.v1\ndecision := {\n")
    return tmp_path


def request(effect: str) -> PolicyInput:
    user = {"user_id": "U1", "roles": ["admin"]}
    return PolicyInput.model_validate(
        {
            "action": "plan.create",
            "actor": user,
            "requester": user,
            "plan": {
                "environment": "dev",
                "steps": [{"stage": "act", "tool": "kubernetes", "action": "get", "effect": effect}],
            },
            "environments": {"dev": {}},
            "now": datetime(2024, 6, 1, 12, tzinfo=UTC),
        }
    )


def test_broken_policy_is_unavailable_on_load(broken_policies: Path) -> None:
    with pytest.raises(PolicyUnavailable, match=r"decision\.rego"):
        PolicyEngine(broken_policies)


def test_broken_policy_fails_closed_for_writes_and_open_for_reads(
    broken_policies: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = GuardedPolicy(broken_policies)
    errors_before = REGISTRY.get_sample_value("carapulse_policy_errors_total", {"stage": "load"}) or 0

    write = policy.decide(request("write"))
    read = policy.decide(request("read"))

    assert not write.allow
    assert write.reasons[0].startswith("Policy is unavailable, so writes are refused: cannot compile")
    assert read.allow
    assert REGISTRY.get_sample_value("carapulse_policy_errors_total", {"stage": "load"}) == errors_before + 2
    assert "answered fail-closed" in caplog.text


def test_data_files_are_placed_under_their_folder_path(tmp_path: Path) -> None:
    """As in an OPA bundle, `limits/data.yaml` is `data.limits` and `data.json` at the top is `data`."""
    (tmp_path / "limits").mkdir()
    (tmp_path / "limits" / "data.yaml").write_text("# comments are fine\nceiling: 3\n")
    (tmp_path / "data.json").write_text('{"floor": 1}')
    (tmp_path / "x_test.rego").write_text(
        "package x_test\nimport rego.v1\ntest_reads_both if data.limits.ceiling - data.floor == 2\n"
    )
    assert [result.passed for result in run_policy_tests(tmp_path)] == [True]


@pytest.mark.parametrize(
    ("text", "message"),
    [("ceiling: [1, 2\n", r"cannot read limits/data\.yaml"), ("- 1\n- 2\n", r"limits/data\.yaml must hold")],
)
def test_unreadable_data_file_is_unavailable_and_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "limits").mkdir()
    (tmp_path / "limits" / "data.yaml").write_text(text)
    (tmp_path / "decision.rego").write_text("package carapulse.decision\nimport rego.v1\ndecision := {}\n")
    with pytest.raises(PolicyUnavailable, match=message):
        PolicyEngine(tmp_path)
