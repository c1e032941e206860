"""Pieces shared by the CLI tools: JSON-safe redaction, name lists from settings, JSON parsing errors."""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter

from tools.common.base import ToolError
from tools.common.cli_tool import JsonRedactor, NameList, parse_json, passed_environment
from tools.common.redaction import MASK
from tools.common.runner import CommandResult


def test_a_secret_inside_a_json_string_is_masked_without_breaking_the_document() -> None:
    document = json.dumps({"manifest": "kind: Secret\ndata:\n  password: c2VjcmV0\n", "version": 5})

    kept = JsonRedactor().redact(document)

    assert json.loads(kept) == {"manifest": f"kind: Secret\ndata:\n  password: {MASK}\n", "version": 5}


def test_values_under_secret_keys_and_known_token_shapes_are_masked_in_json() -> None:
    redactor = JsonRedactor.with_secrets(["service-literal-secret"])
    document = json.dumps({"db": {"password": "hunter2"}, "note": "token service-literal-secret", "n": 1})

    assert json.loads(redactor.redact(document)) == {
        "db": {"password": MASK},
        "note": f"token {MASK}",
        "n": 1,
    }


def test_text_that_is_not_a_json_document_is_redacted_as_text() -> None:
    assert JsonRedactor().redact("{ not json password=hunter2") == f"{{ not json password={MASK}"
    assert JsonRedactor().redact("Error: password=hunter2") == f"Error: password={MASK}"


def test_name_lists_are_read_from_comma_separated_settings() -> None:
    assert TypeAdapter(NameList).validate_python(" AWS_PROFILE, AWS_REGION,,") == (
        "AWS_PROFILE",
        "AWS_REGION",
    )
    assert passed_environment({"A": "1", "B": ""}, ["A", "B", "C"]) == {"A": "1"}


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (
            CommandResult(("helm", "list"), 0, "Happy Helming!", ""),
            "helm: `helm list` printed output that is not JSON",
        ),
        (CommandResult(("helm", "list"), 0, '[{"name"', "", truncated=True), "printed more output than"),
    ],
)
def test_output_that_cannot_be_read_as_json_is_a_tool_error(result: CommandResult, message: str) -> None:
    with pytest.raises(ToolError) as raised:
        parse_json(result, "helm")

    assert message in raised.value.message
    assert raised.value.call == "helm list"
