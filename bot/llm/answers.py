"""The only answers a model planner can give, as tools it must call, and how each is checked.

An answer that does not fit its tool (no call, broken JSON, a missing field) is garbled: the
provider failed, and the rules planner stands in. An answer that fits but asks for something
Carapulse will not do (an action it does not have, arguments the action's own model refuses, a
workflow that does not exist) is refused with a message naming it; nothing is dropped or repaired.
What the model says about risk is not even asked: policy decides it from the steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain import BlastRadius, PlanDraft, Risk, RiskLevel, StepSpec, StepStage, Target
from bot.errors import NotFound, UserError
from bot.llm.conversation import ModelUnavailable, Reply, ToolCall, ToolSpec
from bot.planners import Investigate, PlanAsk, Understood
from bot.validation import first_error
from bot.workflows.catalog import WorkflowRequest
from tools.common.base import Effect
from tools.common.redaction import Redactor

START_WORKFLOW = "start_workflow"
PROPOSE_PLAN = "propose_plan"
INVESTIGATE = "investigate"
CANNOT_PLAN = "cannot_plan"
MAX_STEPS = 20
SUMMARY_MAX = 200
DESCRIPTION_MAX = 300


class Garbled(ModelUnavailable):
    """The model answered, but not with one of its tools as their schemas say."""


def tools(*, workflows: Sequence[str], actions: Sequence[str], may_investigate: bool) -> list[ToolSpec]:
    """The answer tools, with the names the model may use listed in their schemas."""
    offered = [
        ToolSpec(
            START_WORKFLOW,
            "Start one of the workflows with its inputs (preferred whenever one does what is asked).",
            _object(
                workflow={"type": "string", "enum": list(workflows)},
                inputs={
                    "type": "object",
                    "description": "The workflow's inputs, by name, as its schema says",
                },
            ),
        ),
        ToolSpec(
            PROPOSE_PLAN,
            "Propose a plan of steps using only the listed actions; a person approves it before it runs.",
            _object(
                summary={"type": "string", "maxLength": SUMMARY_MAX},
                target=_object(
                    namespace={"type": "string"},
                    kind={"type": "string", "description": "Deployment, Service, Node, …"},
                    name={"type": "string"},
                    required=("name",),
                ),
                steps={
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_STEPS,
                    "items": _object(
                        stage={"type": "string", "enum": ["act", "verify", "follow_up"]},
                        action={"type": "string", "enum": list(actions)},
                        args={"type": "object", "description": "Arguments matching the action's schema"},
                        description={"type": "string", "maxLength": DESCRIPTION_MAX},
                    ),
                },
                rollback={"type": "string", "description": "How the change is undone, in one sentence"},
            ),
        ),
        ToolSpec(
            CANNOT_PLAN,
            "Say that nothing here can do what is asked, and why, in one sentence.",
            _object(reason={"type": "string"}),
        ),
    ]
    if may_investigate:
        offered.insert(
            2,
            ToolSpec(
                INVESTIGATE,
                "Investigate with read-only actions instead of changing anything (why is X failing?).",
                _object(question={"type": "string", "description": "What to find out, in one sentence"}),
            ),
        )
    return offered


def understood(reply: Reply, ask: PlanAsk, *, redactor: Redactor, planner: str) -> Understood:
    """What the model's answer asks for, checked. Raises Garbled, or UserError naming what is refused
    (the words come from `planner`, e.g. `openai (gpt-4.1)`)."""
    call = _answer_call(reply, offered=_ANSWERS if ask.may_investigate else _PLANS)
    if call.name == START_WORKFLOW:
        return _workflow(_fit(_WorkflowAnswer, call), ask, planner)
    if call.name == PROPOSE_PLAN:
        return _plan(_fit(_PlanAnswer, call), ask, redactor, planner)
    if call.name == INVESTIGATE:
        return Investigate(question=_fit(_InvestigateAnswer, call).question)
    reason = redactor.redact(_fit(_CannotAnswer, call).reason)
    raise UserError(f"{planner} cannot plan this: {reason}")


class _Answer(BaseModel):
    # A field the tool does not have (a "risk" the model made up) is ignored, never used.
    model_config = ConfigDict(extra="ignore", defer_build=True)


class _WorkflowAnswer(_Answer):
    workflow: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class _Target(_Answer):
    namespace: str = ""
    kind: str = "Deployment"
    name: str = Field(min_length=1)


class _Step(_Answer):
    stage: Literal["act", "verify", "follow_up"]
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    description: str = Field(min_length=1)


class _PlanAnswer(_Answer):
    summary: str = Field(min_length=1)
    target: _Target
    steps: list[_Step] = Field(min_length=1, max_length=MAX_STEPS)
    rollback: str = ""


class _InvestigateAnswer(_Answer):
    question: str = Field(min_length=1)


class _CannotAnswer(_Answer):
    reason: str = Field(min_length=1)


_PLANS = (START_WORKFLOW, PROPOSE_PLAN, CANNOT_PLAN)
_ANSWERS = (*_PLANS, INVESTIGATE)


def _answer_call(reply: Reply, *, offered: Sequence[str]) -> ToolCall:
    for call in reply.calls:
        if call.name in offered:
            return call
    called = ", ".join(call.name for call in reply.calls)
    raise Garbled(f"answered without one of its tools (called: {called})" if called else "answered in prose")


AnswerT = TypeVar("AnswerT", bound=_Answer)


def _fit(model: type[AnswerT], call: ToolCall) -> AnswerT:
    if call.arguments is None:
        raise Garbled(f"called {call.name} with arguments that are not a JSON object")
    try:
        return model.model_validate(call.arguments)
    except ValidationError as exc:
        raise Garbled(f"called {call.name} with {first_error(exc)}") from None


def _workflow(answer: _WorkflowAnswer, ask: PlanAsk, planner: str) -> WorkflowRequest:
    try:
        ask.workflows.get(answer.workflow)
    except NotFound as exc:
        raise UserError(f"{planner} proposed workflow `{answer.workflow}`: {exc.message}") from None
    typed: dict[str, str] = {}
    for name, value in answer.inputs.items():
        if isinstance(value, dict | list):
            raise UserError(f"{planner} proposed `{answer.workflow}` with input {name} that is not one value")
        if value is not None:
            typed[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return WorkflowRequest(name=answer.workflow, typed=typed)


def _plan(answer: _PlanAnswer, ask: PlanAsk, redactor: Redactor, planner: str) -> PlanDraft:
    unknown = sorted({step.action for step in answer.steps if step.action not in ask.registry})
    if unknown:
        raise UserError(
            f"{planner} proposed {', '.join(f'`{a}`' for a in unknown)}, which this Carapulse does not have; "
            "nothing was planned."
        )
    for number, step in enumerate(answer.steps, 1):
        try:
            ask.registry.get(step.action).parse_args(step.args)
        except ValidationError as exc:
            raise UserError(
                f"{planner} proposed step {number}, {step.action}, with {first_error(exc)}"
            ) from None
    target = Target(
        environment=ask.environment,
        namespace=answer.target.namespace,
        kind=answer.target.kind or "Deployment",
        name=answer.target.name,
    )
    reads_only = all(ask.registry.get(step.action).effect is Effect.READ for step in answer.steps)
    where = "/".join(part for part in (target.kind.lower(), target.namespace, target.name) if part)
    return PlanDraft(
        intent=ask.text,
        summary=_said(redactor, answer.summary, SUMMARY_MAX),
        target=target,
        steps=[
            StepSpec(
                stage=StepStage(step.stage),
                action=step.action,
                args=step.args,
                description=_said(redactor, step.description, DESCRIPTION_MAX),
            )
            for step in answer.steps
        ],
        rollback=_said(redactor, answer.rollback, DESCRIPTION_MAX) or "None proposed",
        # A first guess only: policy judges the level from the steps and the card shows its verdict.
        risk=Risk(
            level=RiskLevel.READ if reads_only else RiskLevel.MEDIUM,
            blast_radius=BlastRadius.NAMESPACE,
            targets=[where],
        ),
    )


def _said(redactor: Redactor, text: str, limit: int) -> str:
    """The model's words as the card shows them: redacted, on one line, within `limit`."""
    flat = " ".join(redactor.redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _object(required: Sequence[str] | None = None, **properties: Any) -> dict[str, Any]:
    """A JSON Schema object; every property is required unless `required` names fewer."""
    return {"type": "object", "properties": properties, "required": list(required or properties)}
