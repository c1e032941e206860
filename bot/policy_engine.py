"""Evaluate the Rego policies in `policies/` in-process with regopy.

The modules, and the data files beside them (tables the rules look up), are compiled once into a
bundle; each decision then only sets the input and runs the bundle's entrypoint (p50 ~0.9 ms here
with pydantic, against ~13 ms for a query that recompiles; bench/policy_eval.py).

A regopy interpreter keeps the input between `set_input` and the query, so it is not safe to share
across threads; the engine serialises evaluations with a lock (the bot calls it from the event loop).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.metrics import POLICY_DECISIONS, POLICY_ERRORS

# regopy's time builtins abort the process ("free(): invalid pointer") when greenlet, which
# sqlalchemy's asyncio extension imports, has loaded libstdc++ privately first. Loading libstdc++
# globally before regopy's library is opened avoids that, whatever was imported earlier.
ctypes.CDLL(ctypes.util.find_library("stdc++") or "libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)

from regopy import Interpreter, NodeKind, Output, RegoError  # noqa: E402
from regopy.rego_shared import (  # noqa: E402
    rego_node_get,
    rego_node_size,
    rego_node_type,
    rego_node_value,
)

log = logging.getLogger(__name__)

DECISION_ENTRYPOINT = "carapulse/decision/decision"

PolicyAction = Literal[
    "plan.create",
    "plan.approve",
    "plan.execute",
    "plan.cancel",
    "plan.resolve",
    "break_glass",
    "audit.read",
    "audit.export",
    "audit.verify",
]
# Actions on no plan: only who asks is decided on.
AccessAction = Literal["audit.read", "audit.export", "audit.verify"]


class PolicyUnavailable(Exception):
    """The policies could not be loaded or evaluated; callers fall back to `fail_closed`."""


class PolicyUser(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    user_id: str
    roles: list[str] = Field(default_factory=list)
    # A pipeline calling the API, with its CI provider's claims (repository, ref, environment, ...).
    pipeline: bool = False
    claims: dict[str, str] = Field(default_factory=dict)


class PolicyStep(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    stage: str
    tool: str
    action: str
    effect: Literal["read", "write"]
    # The tool's own risk hint; the policy takes the higher of it and its verb table.
    risk: Literal["read", "low", "medium", "high"] | None = None


class PolicyPlan(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    environment: str
    steps: list[PolicyStep]
    targets: list[str] = Field(default_factory=list)
    # Services that depend on the plan's target in the context graph.
    dependents: int = 0


class MaintenanceWindow(BaseModel):
    """Recurring daily window, `HH:MM` in `timezone`; it may wrap midnight (22:00-02:00)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "UTC"


class EnvironmentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    production: bool = False
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)


class Freeze(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    environment: str
    until: datetime
    reason: str


class PolicyInput(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    action: PolicyAction
    actor: PolicyUser
    requester: PolicyUser
    plan: PolicyPlan
    approvals: list[PolicyUser] = Field(default_factory=list)
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    freezes: list[Freeze] = Field(default_factory=list)
    now: datetime
    max_targets: int = 50

    def document(self) -> dict[str, Any]:
        """The JSON document the Rego policy reads as `input`."""
        document = self.model_dump(mode="json")
        document["now"] = _rfc3339(self.now)
        for freeze, model in zip(document["freezes"], self.freezes, strict=True):
            freeze["until"] = _rfc3339(model.until)
        return _sanitize(document)


class PolicyConstraints(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    max_targets: int
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)


class PolicyRisk(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    level: Literal["read", "low", "medium", "high"]
    blast_radius: Literal["namespace", "cluster", "account"]
    targets: int


class PolicyResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    allow: bool
    required_approvals: int
    approver_roles: list[str]
    reasons: list[str]
    constraints: PolicyConstraints
    break_glass_required: bool
    break_glass_offered: bool = False
    risk: PolicyRisk
    counted_approvals: list[str]


class PolicyTestResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    passed: bool
    error: str = ""


class PolicyEngine:
    def __init__(self, directory: Path) -> None:
        """Compile every non-test `.rego` under `directory`; raise `PolicyUnavailable` if that fails."""
        self._lock = threading.Lock()
        self._interpreter = _interpreter(_modules(directory, tests=False), _documents(directory))
        self._bundle = _build(self._interpreter, [DECISION_ENTRYPOINT])

    def decide(self, request: PolicyInput) -> PolicyResult:
        return PolicyResult.model_validate(self.evaluate(request.document()))

    def evaluate(self, document: Mapping[str, Any]) -> Any:
        """Run the decision entrypoint on a raw input document and return its value."""
        with self._lock:
            try:
                self._interpreter.set_input(dict(document))
                output = self._interpreter.query_bundle_entrypoint(self._bundle, DECISION_ENTRYPOINT)
            except (RegoError, ValueError) as error:  # ValueError: regopy's output was not JSON
                raise PolicyUnavailable(f"evaluation failed: {error}") from error
            return _value(output)


class GuardedPolicy:
    """Never raises: a policy that failed to load or evaluate answers with `fail_closed`."""

    def __init__(self, directory: Path) -> None:
        self._engine: PolicyEngine | None = None
        self.load_error = ""
        try:
            self._engine = PolicyEngine(directory)
        except PolicyUnavailable as error:
            self.load_error = str(error)

    def decide(self, request: PolicyInput) -> PolicyResult:
        """Every answer is counted by question and outcome (carapulse_policy_decisions_total), and
        every fail-closed one logged and counted (carapulse_policy_errors_total), so a broken policy
        shows on a dashboard and not only as refused writes."""
        if self._engine is None:
            POLICY_ERRORS.labels(stage="load").inc()
            log.error("policy not loaded (%s); %s answered fail-closed", self.load_error, request.action)
            return _counted(request, fail_closed(request, self.load_error), "fail_closed")
        try:
            result = self._engine.decide(request)
        except PolicyUnavailable as error:
            POLICY_ERRORS.labels(stage="evaluate").inc()
            log.error("policy evaluation failed (%s); %s answered fail-closed", error, request.action)
            return _counted(request, fail_closed(request, str(error)), "fail_closed")
        return _counted(request, result, "allow" if result.allow else "deny")


def _counted(request: PolicyInput, result: PolicyResult, outcome: str) -> PolicyResult:
    POLICY_DECISIONS.labels(action=request.action, outcome=outcome).inc()
    return result


def fail_closed(request: PolicyInput, error: str) -> PolicyResult:
    """Reads go on and the requester may still cancel; everything that writes is refused, and so is
    access to the audit log, which only the policy can grant."""
    writes = any(step.effect != "read" for step in request.plan.steps)
    own_cancel = request.action == "plan.cancel" and request.actor.user_id == request.requester.user_id
    refused = (writes or request.action.startswith("audit.")) and not own_cancel
    return PolicyResult(
        allow=not refused,
        required_approvals=0,
        approver_roles=["admin", "approver"],
        reasons=[f"Policy is unavailable, so {_refused_words(request)} refused: {error}"] if refused else [],
        constraints=PolicyConstraints(max_targets=request.max_targets),
        break_glass_required=False,
        risk=PolicyRisk(
            level="high" if writes else "read", blast_radius="account", targets=len(request.plan.targets)
        ),
        counted_approvals=[],
    )


def _refused_words(request: PolicyInput) -> str:
    return "audit access is" if request.action.startswith("audit.") else "writes are"


def run_policy_tests(directory: Path) -> list[PolicyTestResult]:
    """Evaluate every `test_` rule of the `_test.rego` files under `directory`, in file order.

    A test passes only when its rule is true; undefined and errors fail. If the modules do not
    compile, every discovered test fails with the compiler's message.
    """
    try:
        modules = _modules(directory, tests=True)
    except PolicyUnavailable:
        return []
    entrypoints = [
        f"{package.replace('.', '/')}/{rule}"
        for path, source in modules
        if path.name.endswith("_test.rego")
        for package, rule in _test_rules(source)
    ]
    try:
        interpreter = _interpreter(modules, _documents(directory))
        bundle = _build(interpreter, entrypoints)
        interpreter.set_input({})
    except PolicyUnavailable as error:
        return [PolicyTestResult(name=_test_name(e), passed=False, error=str(error)) for e in entrypoints]
    results = []
    for entrypoint in entrypoints:
        try:
            value = _value(interpreter.query_bundle_entrypoint(bundle, entrypoint))
            error = "" if value is True else f"expected true, got {json.dumps(value)}"
        except (PolicyUnavailable, RegoError, ValueError) as failure:
            error = str(failure)
        results.append(PolicyTestResult(name=_test_name(entrypoint), passed=not error, error=error))
    return results


_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)", re.MULTILINE)


def _modules(directory: Path, *, tests: bool) -> list[tuple[Path, str]]:
    paths = sorted(directory.rglob("*.rego"))
    if not paths:
        raise PolicyUnavailable(f"no .rego files under {directory}")
    return [(p, p.read_text()) for p in paths if tests or not p.name.endswith("_test.rego")]


def _documents(directory: Path) -> list[dict[str, Any]]:
    """Each `data.json` or `data.yaml` under `directory`, nested under its folder's path as in an
    OPA bundle: `carapulse/tables/data.yaml` becomes `data.carapulse.tables`."""
    documents = []
    for path in sorted([*directory.rglob("data.json"), *directory.rglob("data.yaml")]):
        try:
            document = yaml.safe_load(path.read_text())  # JSON is YAML too
        except (OSError, yaml.YAMLError) as error:
            raise PolicyUnavailable(f"cannot read {path.relative_to(directory)}: {error}") from error
        if not isinstance(document, dict):
            raise PolicyUnavailable(f"{path.relative_to(directory)} must hold a mapping")
        for folder in reversed(path.parent.relative_to(directory).parts):
            document = {folder: document}
        documents.append(document)
    return documents


def _test_rules(source: str) -> list[tuple[str, str]]:
    package = _PACKAGE.search(source)
    if package is None:
        return []
    return [(package[1], rule) for rule in dict.fromkeys(_TEST_RULE.findall(source))]


def _test_name(entrypoint: str) -> str:
    return entrypoint.replace("/", ".")


def _interpreter(modules: list[tuple[Path, str]], documents: list[dict[str, Any]]) -> Interpreter:
    interpreter = Interpreter()
    # Without this a failing builtin (a bad timestamp) quietly makes a rule undefined.
    interpreter.strict_built_in_errors = True
    for document in documents:
        try:
            interpreter.add_data(_sanitize(document))
        except RegoError as error:
            raise PolicyUnavailable(f"cannot load policy data: {error}") from error
    try:
        for path, source in modules:
            interpreter.add_module(str(path), source)
    except RegoError as error:
        raise PolicyUnavailable(f"cannot compile {path.name}: {error}") from error
    return interpreter


def _build(interpreter: Interpreter, entrypoints: list[str]) -> Any:
    try:
        bundle = interpreter.build(None, entrypoints)
    except RegoError as error:
        raise PolicyUnavailable(f"cannot build the policy bundle: {error}") from error
    if not bundle.ok():
        raise PolicyUnavailable("cannot build the policy bundle")
    return bundle


def _value(output: Output) -> Any:
    # ok() first: a failed output prints only "<error>", its messages sit in the node tree.
    if not output.ok():
        raise PolicyUnavailable("; ".join(_error_messages(output.node()._impl)) or "evaluation failed")
    if not output.results or not output.results[0].expressions:
        raise PolicyUnavailable("the policy produced no value (undefined)")
    return output.results[0].expressions[0]


def _error_messages(node: Any) -> list[str]:
    if rego_node_type(node) == NodeKind.ErrorMessage:
        return [rego_node_value(node)]
    return [m for i in range(rego_node_size(node)) for m in _error_messages(rego_node_get(node, i))]


def _rfc3339(moment: datetime) -> str:
    # Rego's time.parse_rfc3339_ns rejects a trailing "Z", so always write an offset.
    if moment.tzinfo is None:
        raise PolicyUnavailable(f"timestamp {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).isoformat()


def _sanitize(value: Any) -> Any:
    """regopy writes strings into its JSON output unescaped, so quotes, backslashes and control
    characters from input (a freeze reason, say) would make the decision unreadable."""
    if isinstance(value, str):
        return _UNSAFE.sub(lambda m: _REPLACEMENTS.get(m[0], " "), value)
    if isinstance(value, dict):
        return {_sanitize(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sanitize(item) for item in value]
    return value


_UNSAFE = re.compile(r'["\\\x00-\x1f]')
_REPLACEMENTS = {'"': "'", "\\": "/"}
