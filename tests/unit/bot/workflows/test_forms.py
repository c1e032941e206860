"""Workflow inputs as form fields, and typed text checked by the inputs model."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

from bot.domain import FieldKind, FormField
from bot.errors import UserError
from bot.workflows import forms
from bot.workflows.base import WorkflowInputs


class Inputs(WorkflowInputs):
    service: str = Field(title="Service", description="What to change")
    replicas: int = Field(ge=1, le=10)
    ratio: float = 0.5
    dry: bool = False
    mode: Literal["fast", "safe"] = "safe"
    note: str | None = None


def test_each_input_becomes_a_field_of_its_kind_with_its_default() -> None:
    fields = forms.form_fields(Inputs, {"environment": "prod", "replicas": 3})

    assert fields == [
        FormField(
            name="environment", label="Environment", kind=FieldKind.TEXT, required=False, default="prod"
        ),
        FormField(name="service", label="Service", kind=FieldKind.TEXT, required=True, hint="What to change"),
        FormField(name="replicas", label="Replicas", kind=FieldKind.INTEGER, required=False, default="3"),
        FormField(name="ratio", label="Ratio", kind=FieldKind.NUMBER, required=False, default="0.5"),
        FormField(
            name="dry",
            label="Dry",
            kind=FieldKind.BOOLEAN,
            required=False,
            default="false",
            choices=["true", "false"],
        ),
        FormField(
            name="mode",
            label="Mode",
            kind=FieldKind.CHOICE,
            required=False,
            default="safe",
            choices=["fast", "safe"],
        ),
        FormField(name="note", label="Note", kind=FieldKind.TEXT, required=False),
    ]


def test_typed_text_is_converted_by_the_model_and_blanks_take_the_default() -> None:
    typed = {"service": " checkout ", "replicas": "4", "dry": "true", "note": "   ", "mode": None}

    inputs = forms.validate("demo", Inputs, typed, {"environment": "prod"})

    assert inputs == Inputs(environment="prod", service="checkout", replicas=4, dry=True, note=None)


@pytest.mark.parametrize(
    ("typed", "problems"),
    [
        ({}, {"service": "required", "replicas": "required"}),
        ({"service": "a", "replicas": "0"}, {"replicas": "Input should be greater than or equal to 1"}),
        (
            {"service": "a", "replicas": "four"},
            {"replicas": "Input should be a valid integer, unable to parse string as an integer"},
        ),
        ({"service": "a", "replicas": "2", "mode": "reckless"}, {"mode": "Input should be 'fast' or 'safe'"}),
        ({"service": "a", "replicas": "2", "size": "9"}, {"size": "not an input of demo"}),
        ({"service": "x" * 3001, "replicas": "2"}, {"service": "longer than 3000 characters"}),
    ],
)
def test_wrong_inputs_are_named_one_message_each(typed: dict[str, str], problems: dict[str, str]) -> None:
    with pytest.raises(forms.InvalidInputs) as refused:
        forms.validate("demo", Inputs, typed, {"environment": "prod"})

    assert refused.value.problems == problems
    assert refused.value.message.startswith("`demo` cannot start with these inputs: ")


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("", {}),
        ("service=checkout replicas=5", {"service": "checkout", "replicas": "5"}),
        ('note="two words" empty=', {"note": "two words", "empty": ""}),
        ("expr=up==1", {"expr": "up==1"}),
    ],
)
def test_key_value_words_are_read(text: str, pairs: dict[str, str]) -> None:
    assert forms.parse_pairs(text) == pairs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("service", "`service` is not `name=value`"),
        ("=5", "`=5` is not `name=value`"),
        ("a=1 a=2", "`a` is given twice"),
        ('note="unclosed', "quote values with spaces"),
    ],
)
def test_unreadable_key_value_words_are_refused(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        forms.parse_pairs(text)
