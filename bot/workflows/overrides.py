"""Per-environment override files: how one environment runs a code-defined workflow differently.

`<WORKFLOWS_DIR>/<environment>/<workflow>.yaml` may give the workflow a version of its own, input
defaults (the GitOps repository of prod, say), changes to declared steps by id (turn one off, a longer
timeout, extra or different arguments) and extra PromQL checks for the verify stage. Files are read
and checked once at start-up; a bad one stops start-up with one line naming the file and the field.

Strings in step arguments and check expressions may name inputs and the target as `{name}`; a
literal brace is doubled (`{{`), as in VERIFY_CHECKS.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.errors import ConfigError
from bot.validation import first_error
from bot.verify_checks import PLACEHOLDERS, VerifyCheck
from bot.workflows.base import Workflow

# `version: 2` in YAML is a number; it names a version all the same.
Version = Annotated[
    str,
    BeforeValidator(lambda value: str(value) if isinstance(value, int | float) else value),
    Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"),
]


class StepOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    timeout_seconds: Annotated[float, Field(gt=0, le=86400)] | None = None
    description: Annotated[str, Field(min_length=1, max_length=400)] | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    """Merged over the arguments the workflow computes; the tool's own model checks the result."""


class WorkflowOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Version
    defaults: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, StepOverride] = Field(default_factory=dict)
    checks: list[VerifyCheck] = Field(default_factory=list)


@dataclass(frozen=True)
class LoadedOverride:
    """An override file as read at start-up; `source` is its path relative to the directory."""

    source: str
    environment: str
    workflow: str
    override: WorkflowOverride


def load(
    directory: Path | None, *, workflows: Iterable[Workflow[Any]], environments: Iterable[str]
) -> dict[tuple[str, str], LoadedOverride]:
    """Every override under `directory`, by (environment, workflow name); none when it is None."""
    if directory is None:
        return {}
    if not directory.is_dir():
        raise ConfigError(f"WORKFLOWS_DIR: {directory} is not a directory")
    by_name = {workflow.name: workflow for workflow in workflows}
    known_environments = sorted(environments)
    loaded: dict[tuple[str, str], LoadedOverride] = {}
    for path in sorted(directory.glob("*/*")):
        source = str(path.relative_to(directory))
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            raise ConfigError(f"workflow override {source}: not a .yaml file")
        environment, name = path.parent.name, path.stem
        if environment not in known_environments:
            raise ConfigError(
                f"workflow override {source}: environment {environment} is not configured "
                f"(known: {', '.join(known_environments)})"
            )
        if name not in by_name:
            known = ", ".join(sorted(by_name))
            raise ConfigError(f"workflow override {source}: there is no workflow {name} (known: {known})")
        if (environment, name) in loaded:
            raise ConfigError(f"workflow override {source}: {environment} already overrides {name}")
        loaded[(environment, name)] = LoadedOverride(
            source=source, environment=environment, workflow=name, override=_read(path, source, by_name[name])
        )
    return loaded


def render(value: Any, fields: Mapping[str, Any]) -> Any:
    """`value` with `{name}` in its strings filled from `fields`, through lists and mappings."""
    if isinstance(value, str):
        return value.format_map(fields)
    if isinstance(value, list):
        return [render(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: render(item, fields) for key, item in value.items()}
    return value


def placeholders(workflow: Workflow[Any]) -> frozenset[str]:
    """What an override's strings may name: the workflow's inputs and the target's fields."""
    return PLACEHOLDERS | frozenset(workflow.inputs.model_fields)


def _read(path: Path, source: str, workflow: Workflow[Any]) -> WorkflowOverride:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"workflow override {source}: cannot be read: {_one_line(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"workflow override {source}: must be a mapping with at least `version`")
    allowed = placeholders(workflow)
    try:
        override = WorkflowOverride.model_validate(raw, context={"placeholders": allowed})
    except ValidationError as exc:
        raise ConfigError(f"workflow override {source}: {first_error(exc)}") from None
    problem = _first_problem(override, workflow, allowed)
    if problem:
        raise ConfigError(f"workflow override {source}: {problem}")
    return override


def _first_problem(override: WorkflowOverride, workflow: Workflow[Any], allowed: frozenset[str]) -> str:
    declared = [step.id for step in workflow.steps]
    for step_id, step in override.steps.items():
        if step_id not in declared:
            return f"steps.{step_id}: {workflow.name} has no step {step_id} (steps: {', '.join(declared)})"
        for field, value in (("args", step.args), ("description", step.description or "")):
            problem = placeholder_problem(value, allowed)
            if problem:
                return f"steps.{step_id}.{field}: {problem}"
    fields = workflow.inputs.model_fields
    for name in override.defaults:
        if name not in fields or name == "environment":
            return f"defaults.{name}: not an input of {workflow.name} (inputs: {', '.join(fields)})"
    return _defaults_problem(override.defaults, workflow)


def _defaults_problem(defaults: Mapping[str, Any], workflow: Workflow[Any]) -> str:
    """Defaults are checked by the inputs model; only the inputs a file does not give may be missing."""
    try:
        workflow.inputs.model_validate({"environment": "check", **defaults})
    except ValidationError as exc:
        for error in exc.errors():
            if error["type"] != "missing":
                return f"defaults.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return ""


def placeholder_problem(value: Any, allowed: frozenset[str]) -> str:
    """What is wrong with the `{name}` placeholders in `value`'s strings, or "" when nothing is."""
    if isinstance(value, str):
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            return f"{exc} in {value!r}; write literal braces as {{{{ and }}}}"
        unknown = sorted(names - allowed)
        return (
            f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(allowed))})" if unknown else ""
        )
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((found for item in items if (found := placeholder_problem(item, allowed))), "")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
