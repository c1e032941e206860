import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import DEFAULT_POLICY_DIR

PASSING = """package cli_sample_test

import rego.v1

test_two_is_two if 2 == 2
"""
FAILING = PASSING + "\ntest_one_is_two if 1 == 2\n"


def write_policies(directory: Path, tests: str) -> Path:
    directory.mkdir()
    (directory / "sample_test.rego").write_text(tests)
    return directory


def test_policy_test_reports_each_failing_rule_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = write_policies(tmp_path / "policies", FAILING)

    assert main(["policy", "test", "--dir", str(policies)]) == 1

    out = capsys.readouterr().out
    assert "FAIL test_one_is_two" in out or "FAIL cli_sample_test.test_one_is_two" in out
    assert out.strip().endswith("1 passed, 1 failed")


def test_policy_test_passes_a_clean_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policies = write_policies(tmp_path / "policies", PASSING)

    assert main(["policy", "test", "--dir", str(policies)]) == 0
    assert capsys.readouterr().out.strip() == "1 passed, 0 failed"


def test_policy_eval_prints_the_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = {
        "action": "plan.create",
        "actor": {"user_id": "UV", "roles": ["viewer"]},
        "requester": {"user_id": "UV", "roles": ["viewer"]},
        "plan": {
            "environment": "prod",
            "steps": [{"stage": "act", "tool": "kubernetes", "action": "scale", "effect": "write"}],
            "targets": ["deployment/shop/checkout"],
        },
        "environments": {"prod": {"production": True}},
        "now": "2026-11-26T12:00:00+00:00",
    }
    source = tmp_path / "input.json"
    source.write_text(json.dumps(document))

    assert main(["policy", "eval", "--input", str(source), "--dir", str(DEFAULT_POLICY_DIR)]) == 0

    decision = json.loads(capsys.readouterr().out)
    assert decision["allow"] is False
    assert any("operator" in reason for reason in decision["reasons"])


@pytest.mark.parametrize("content", ["not json", json.dumps({"action": "plan.create"})])
def test_policy_eval_refuses_bad_input_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    source = tmp_path / "input.json"
    source.write_text(content)

    assert main(["policy", "eval", "--input", str(source)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
