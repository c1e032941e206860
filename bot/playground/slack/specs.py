"""The Slack specs (methods.json, limits.json, payloads/) and the argument rules they imply.

The specs are copied into the repository at `bot/playground/specs/slack` (its README says where
from); `CARAPULSE_SLACK_SPECS` points elsewhere. Everything the fakes enforce is read from there, so a
spec fix changes the fakes. Methods the copied methods.json lacks come from `methods_extra.json`
beside it.
"""

import copy
import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPECS_ENV_VAR = "CARAPULSE_SLACK_SPECS"

# Every method accepts these besides its own arguments: Bolt adds team_id, and clients may send
# the token as a form field instead of the Authorization header.
ALWAYS_ACCEPTED = frozenset({"token", "team_id"})

SPECS_DIR = Path(__file__).resolve().parents[1] / "specs" / "slack"

# methods.json is kept as it was copied, and it lacks methods Carapulse calls (files.upload v2 for
# long step output, usergroups.users.list for roles). This supplement describes them in the same
# shape, transcribed from Slack's docs; methods.json wins once it has a method.
EXTRA_METHODS = SPECS_DIR / "methods_extra.json"


def specs_dir() -> Path:
    override = os.environ.get(SPECS_ENV_VAR)
    return Path(override) if override else SPECS_DIR


def load_spec(name: str) -> Any:
    """Return a fresh copy of a JSON spec file, `name` relative to the specs directory."""
    return copy.deepcopy(_read_json(specs_dir() / name))


@dataclass(frozen=True)
class OneOf:
    args: frozenset[str]
    exclusive: bool


@dataclass(frozen=True)
class MethodSpec:
    """Today's rules for one Web API method (`docs_current` in methods.json)."""

    name: str
    json_body_accepted: bool
    required: tuple[str, ...]
    all_args: frozenset[str]
    one_of: tuple[OneOf, ...]
    errors: frozenset[str]

    def error_or(self, preferred: str, fallback: str = "invalid_arguments") -> str:
        """Slack's specific error code when this method documents it, else the generic one."""
        return preferred if preferred in self.errors else fallback


@dataclass(frozen=True)
class ArgumentProblem:
    error: str
    message: str


def method_specs() -> dict[str, MethodSpec]:
    return _method_specs(specs_dir())


def argument_problems(spec: MethodSpec, args: Mapping[str, Any]) -> list[ArgumentProblem]:
    """Missing required arguments and broken one_of groups; the first one is Slack's answer."""
    present = {name for name, value in args.items() if value not in (None, "")}
    problems = [
        ArgumentProblem("invalid_arguments", f"missing required field: {name}")
        for name in spec.required
        if name not in present
    ]
    for group in spec.one_of:
        problems.extend(_one_of_problems(spec, group, present))
    return problems


def unknown_arguments(spec: MethodSpec, args: Mapping[str, Any]) -> list[str]:
    return sorted(set(args) - spec.all_args - ALWAYS_ACCEPTED)


def _one_of_problems(spec: MethodSpec, group: OneOf, present: set[str]) -> list[ArgumentProblem]:
    given = sorted(group.args & present)
    names = ", ".join(sorted(group.args))
    if group.exclusive and len(given) > 1:
        conflict = next((f"{a}_conflict" for a in given if f"{a}_conflict" in spec.errors), None)
        error = conflict or "invalid_arguments"
        return [ArgumentProblem(error, f"only one of {names} may be given, got {given}")]
    if not given and _is_mandatory(spec, group):
        error = spec.error_or("no_text") if "text" in group.args else "invalid_arguments"
        return [ArgumentProblem(error, f"one of {names} is required")]
    return []


def _is_mandatory(spec: MethodSpec, group: OneOf) -> bool:
    # An exclusive group inside a wider group ("text or markdown_text, not both" within "text,
    # blocks, attachments or markdown_text") only forbids both; on its own it asks for one.
    if not group.exclusive:
        return True
    return not any(other is not group and group.args < other.args for other in spec.one_of)


@functools.cache
def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def _method_specs(directory: Path) -> dict[str, MethodSpec]:
    shared = _read_json(directory / "methods.json")["methods"]
    extra = _read_json(EXTRA_METHODS)["methods"]
    methods = shared | {name: facts for name, facts in extra.items() if name not in shared}
    return {name: _method_spec(name, facts["docs_current"]) for name, facts in methods.items()}


def _method_spec(name: str, docs: dict[str, Any]) -> MethodSpec:
    return MethodSpec(
        name=name,
        json_body_accepted=docs["json_body_accepted"],
        required=tuple(docs["required"]),
        all_args=frozenset(docs["all_args"]),
        one_of=tuple(OneOf(frozenset(g["args"]), g["exclusive"]) for g in docs["one_of"]),
        errors=frozenset(docs["errors"]),
    )
