"""What a workflow is: a named, versioned template that turns typed inputs into a plan.

A workflow declares every step it may plan (an id, a stage, the actions it may use) so that
`workflow show` can list them and an environment's override file can address them by id before
any input is known. `plan()` then picks and fills those steps for one set of inputs, reading
whatever the plan must pin (a commit, a revision, an object version) through read actions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from bot.domain import Actor, BlastRadius, Risk, RiskLevel, StepStage, Target
from bot.errors import UserError
from bot.steps import run_action
from bot.workflows.sentences import Sentence
from tools.common.base import Effect
from tools.common.registry import Registry, UnknownActionError


class WorkflowInputs(BaseModel):
    """Base for every workflow's inputs: unknown names are refused, so a typo is not ignored.

    Field titles and descriptions become the form's labels and hints; `environment` is every
    workflow's and defaults to this deployment's own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    environment: str


@dataclass(frozen=True)
class StepDeclaration:
    """A step a workflow may plan. `actions` lists every action it may use (e.g. a pull request on
    GitHub or a merge request on GitLab); `description` reads well before inputs are known."""

    id: str
    stage: StepStage
    actions: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class PlannedStep:
    """One declared step filled in for a set of inputs."""

    id: str
    action: str
    args: Mapping[str, Any]
    description: str
    timeout_seconds: float | None = None
    # Set by the workflow's code only: an override file can change a step's arguments, never these.
    risk: RiskLevel | None = None
    rerun_on_rollback: bool = False


@dataclass(frozen=True)
class WorkflowPlan:
    """What a workflow's `plan()` returns; the catalog turns it into a PlanDraft after applying the
    environment's override."""

    summary: str
    target: Target
    steps: Sequence[PlannedStep]
    rollback: str
    targets: Sequence[str]
    level: RiskLevel = RiskLevel.MEDIUM

    def risk(self) -> Risk:
        """The workflow's first guess; policy judges the level the card shows."""
        return Risk(level=self.level, blast_radius=BlastRadius.NAMESPACE, targets=list(self.targets))


@dataclass(frozen=True)
class PlanningContext:
    """What a workflow may know and do while it plans: who asks, for which cluster, which actions
    this deployment has, and reads (never writes) through them."""

    requester: Actor
    cluster: str
    registry: Registry

    def has(self, action: str) -> bool:
        return action in self.registry

    async def read(self, action: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Run a read action now and return its data; a failure becomes a UserError naming it, since
        a plan that cannot read what it pins cannot be made."""
        try:
            effect = self.registry.get(action).effect
        except UnknownActionError:
            raise UserError(f"I cannot plan this: {action} is not configured on this Carapulse.") from None
        if effect is not Effect.READ:
            raise ValueError(f"{action} is not a read; planning never changes anything")
        outcome = await run_action(self.registry, action, dict(args))
        if not outcome.ok:
            raise UserError(f"I could not read what the plan needs ({action}): {outcome.error}")
        return outcome.data


InputsT = TypeVar("InputsT", bound=WorkflowInputs)


class Workflow(ABC, Generic[InputsT]):
    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    # Sentences the rules planner reads as this workflow, as `workflow list` shows them.
    examples: ClassVar[tuple[str, ...]]
    inputs: ClassVar[type[WorkflowInputs]]
    steps: ClassVar[tuple[StepDeclaration, ...]]
    # What the rules planner reads as a request for this workflow.
    sentences: ClassVar[tuple[Sentence, ...]] = ()

    @abstractmethod
    async def plan(self, inputs: InputsT, context: PlanningContext) -> WorkflowPlan: ...

    def declaration(self, step_id: str) -> StepDeclaration:
        for declared in self.steps:
            if declared.id == step_id:
                return declared
        raise KeyError(step_id)
