"""Workflow inputs as a form and back: the fields a modal shows, read from the inputs' pydantic
model, and typed text (from the modal or `key=value` words) validated by that same model."""

from __future__ import annotations

import enum
import shlex
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.domain import FieldKind, FormField
from bot.errors import UserError

MAX_VALUE_LENGTH = 3000


class InvalidInputs(UserError):
    """Inputs a workflow refused, one message per field (the form shows each beside its field)."""

    def __init__(self, workflow: str, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        listed = "; ".join(f"{name}: {message}" for name, message in self.problems.items())
        super().__init__(f"`{workflow}` cannot start with these inputs: {listed}")


def form_fields(model: type[BaseModel], defaults: Mapping[str, Any]) -> list[FormField]:
    """One field per input, in declaration order; `defaults` (an environment's override, this
    deployment's environment) win over the model's own."""
    return [_field(name, info, defaults) for name, info in model.model_fields.items()]


def parse_pairs(text: str) -> dict[str, str]:
    """`name=checkout replicas=5 note="two words"` → {"name": "checkout", ...}; a word without `=`
    or a name given twice is refused."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UserError(f"I could not read those inputs ({exc}); quote values with spaces.") from None
    pairs: dict[str, str] = {}
    for word in words:
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise UserError(f"`{word}` is not `name=value`; give each input as name=value.")
        if name in pairs:
            raise UserError(f"`{name}` is given twice.")
        pairs[name] = value
    return pairs


def validate(
    workflow: str, model: type[BaseModel], typed: Mapping[str, str | None], defaults: Mapping[str, Any]
) -> BaseModel:
    """Typed text (None or blank: not given, so the default applies) checked by the inputs model.

    Raises InvalidInputs naming every field that is wrong, unknown or missing."""
    unknown = sorted(set(typed) - set(model.model_fields))
    problems = {name: f"not an input of {workflow}" for name in unknown}
    too_long = {name for name, value in typed.items() if value and len(value) > MAX_VALUE_LENGTH}
    problems |= {name: f"longer than {MAX_VALUE_LENGTH} characters" for name in sorted(too_long)}
    if problems:
        raise InvalidInputs(workflow, problems)
    given = {name: value.strip() for name, value in typed.items() if value is not None and value.strip()}
    try:
        return model.model_validate({**defaults, **given})
    except ValidationError as exc:
        raise InvalidInputs(workflow, _problems(exc)) from None


def _problems(exc: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "inputs"
        message = "required" if error["type"] == "missing" else error["msg"]
        problems.setdefault(name, message)
    return problems


def _field(name: str, info: FieldInfo, defaults: Mapping[str, Any]) -> FormField:
    annotation = _unwrap_optional(info.annotation)
    kind, choices = _kind(annotation)
    default = defaults.get(name, None if info.default is PydanticUndefined else info.default)
    return FormField(
        name=name,
        label=info.title or name.replace("_", " ").capitalize(),
        kind=kind,
        required=info.is_required() and name not in defaults,
        default=None if default is None else as_text(default),
        choices=choices,
        hint=info.description or "",
    )


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _unwrap_optional(members[0])
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrap_optional(typing.get_args(annotation)[0])
    return annotation


def _kind(annotation: Any) -> tuple[FieldKind, list[str]]:
    if typing.get_origin(annotation) is typing.Literal:
        return FieldKind.CHOICE, [str(choice) for choice in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return FieldKind.CHOICE, [str(member.value) for member in annotation]
    if annotation is bool:
        return FieldKind.BOOLEAN, ["true", "false"]
    if annotation is int:
        return FieldKind.INTEGER, []
    if annotation is float:
        return FieldKind.NUMBER, []
    return FieldKind.TEXT, []


def as_text(value: Any) -> str:
    """An input's value as a form field shows it (and as the model reads it back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)
