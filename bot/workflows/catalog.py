"""The workflow catalog: every workflow this deployment offers, each in the version active for an
environment (its code-defined steps, or those of the environment's override file), and the one
place a workflow's plan becomes a PlanDraft."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.domain import PlanDraft, StepSpec, WorkflowInfo, WorkflowRef, WorkflowStepInfo
from bot.errors import ConfigError, NotFound, UserError
from bot.validation import first_error
from bot.verify_checks import check_step, target_fields
from bot.workflows import forms
from bot.workflows.base import PlannedStep, PlanningContext, Workflow, WorkflowInputs
from bot.workflows.overrides import LoadedOverride, StepOverride, render


@dataclass(frozen=True)
class WorkflowRequest:
    """A workflow asked for by name with inputs as typed (a sentence, `key=value` words or a form)."""

    name: str
    typed: Mapping[str, str]


class Catalog:
    def __init__(
        self, workflows: Sequence[Workflow[Any]], overrides: Mapping[tuple[str, str], LoadedOverride]
    ) -> None:
        self._workflows: dict[str, Workflow[Any]] = {}
        for workflow in workflows:
            if workflow.name in self._workflows:
                raise ConfigError(f"workflow {workflow.name} is defined twice")
            self._workflows[workflow.name] = workflow
        self._overrides = dict(overrides)

    def __iter__(self) -> Iterator[Workflow[Any]]:
        return iter(self._workflows.values())

    def get(self, name: str) -> Workflow[Any]:
        try:
            return self._workflows[name]
        except KeyError:
            known = ", ".join(self._workflows)
            raise NotFound(f"There is no workflow `{name}`; the catalog has {known}.") from None

    def ref(self, name: str, environment: str) -> WorkflowRef:
        workflow, loaded = self.get(name), self._overrides.get((environment, name))
        if loaded is None:
            return WorkflowRef(name=name, version=workflow.version)
        return WorkflowRef(name=name, version=loaded.override.version, override=loaded.source)

    def defaults(self, name: str, environment: str) -> dict[str, Any]:
        """Input defaults for `environment`: its override's, and the environment itself."""
        loaded = self._overrides.get((environment, name))
        return {**(loaded.override.defaults if loaded else {}), "environment": environment}

    def info(self, name: str, environment: str) -> WorkflowInfo:
        workflow = self.get(name)
        step_overrides = self._step_overrides(name, environment)
        return WorkflowInfo(
            ref=self.ref(name, environment),
            description=workflow.description,
            examples=list(workflow.examples),
            fields=forms.form_fields(workflow.inputs, self.defaults(name, environment)),
            steps=[
                WorkflowStepInfo(
                    id=step.id,
                    stage=step.stage,
                    actions=list(step.actions),
                    description=changed.description if changed and changed.description else step.description,
                    changed_by_override=changed is not None,
                    enabled=changed.enabled if changed else True,
                )
                for step in workflow.steps
                for changed in [step_overrides.get(step.id)]
            ],
        )

    def inputs(self, request: WorkflowRequest, *, environment: str) -> WorkflowInputs:
        """Inputs checked against the workflow's model, with the defaults of the environment they
        name (or `environment`); raises InvalidInputs naming each wrong field."""
        workflow = self.get(request.name)
        chosen = (request.typed.get("environment") or "").strip() or environment
        defaults = self.defaults(request.name, chosen)
        checked = forms.validate(request.name, workflow.inputs, request.typed, defaults)
        return checked  # type: ignore[return-value]

    async def draft(
        self, name: str, inputs: WorkflowInputs, context: PlanningContext, *, intent: str
    ) -> PlanDraft:
        """Plan the workflow (reading what its steps pin), apply the environment's override, and
        check every step's arguments as its action will read them, so an override that broke one is
        refused now rather than when the step runs."""
        workflow = self.get(name)
        environment = inputs.environment
        planned = await workflow.plan(inputs, context)
        fields = {**target_fields(planned.target), **inputs.model_dump(mode="json")}
        overrides = self._step_overrides(name, environment)
        steps = [
            spec
            for step in planned.steps
            if (spec := _step_spec(workflow, step, overrides.get(step.id), fields)) is not None
        ]
        loaded = self._overrides.get((environment, name))
        steps += [check_step(check, fields) for check in (loaded.override.checks if loaded else [])]
        ref = self.ref(name, environment)
        _check_args(steps, context, ref)
        return PlanDraft(
            intent=intent,
            summary=planned.summary,
            target=planned.target,
            steps=steps,
            rollback=planned.rollback,
            risk=planned.risk(),
            workflow=ref,
            workflow_inputs=inputs.model_dump(mode="json"),
        )

    def _step_overrides(self, name: str, environment: str) -> Mapping[str, StepOverride]:
        loaded = self._overrides.get((environment, name))
        return loaded.override.steps if loaded else {}


def _step_spec(
    workflow: Workflow[Any], step: PlannedStep, override: StepOverride | None, fields: Mapping[str, Any]
) -> StepSpec | None:
    declared = workflow.declaration(step.id)
    if step.action not in declared.actions:
        raise ValueError(f"{workflow.name}: step {step.id} may not use {step.action}")
    if override is not None and not override.enabled:
        return None
    changed = override or StepOverride()
    return StepSpec(
        stage=declared.stage,
        action=step.action,
        args={**step.args, **render(changed.args, fields)},
        description=render(changed.description, fields) if changed.description else step.description,
        timeout_seconds=changed.timeout_seconds or step.timeout_seconds,
        risk=step.risk,
        rerun_on_rollback=step.rerun_on_rollback,
    )


def _check_args(steps: Sequence[StepSpec], context: PlanningContext, ref: WorkflowRef) -> None:
    for number, step in enumerate(steps, 1):
        if not context.has(step.action):
            continue  # the caller names every tool that is not configured
        try:
            context.registry.get(step.action).parse_args(step.args)
        except ValidationError as exc:
            changed = f" (as changed by {ref.override})" if ref.override else ""
            raise UserError(
                f"Step {number} of {ref.name}, {step.action}{changed}: {first_error(exc)}"
            ) from None
