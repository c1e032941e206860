"""Playbooks: named sequences of tool steps with `{input}` placeholders. Starting one fills the
placeholders and makes a plan that goes through policy, approval and the worker like any other; its
card names the playbook and version (as `playbook:<name>` where a workflow would be)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, library, names, paging
from bot.audit import AuditKind
from bot.clock import utcnow
from bot.db.home_models import Playbook
from bot.domain import (
    Actor,
    BlastRadius,
    PlanDraft,
    PlaybookView,
    Risk,
    RiskLevel,
    StepSpec,
    StepStage,
    Target,
    WorkflowRef,
)
from bot.errors import Conflict, NotFound, UserError
from bot.paging import Page
from bot.validation import first_error
from bot.workflows.forms import InvalidInputs
from bot.workflows.overrides import placeholder_problem, render
from tools.common.registry import Registry

PAGE_SIZE = 10
MAX_STEPS = 20
PLAN_NAME_PREFIX = "playbook:"
_INPUT_NAME = r"^[a-z][a-z0-9_]{0,31}$"
_ACTION = r"^[a-z0-9_]+\.[a-z0-9_]+$"


class PlaybookStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Annotated[str, Field(pattern=_ACTION)]
    args: dict[str, Any] = Field(default_factory=dict)
    description: Annotated[str, Field(min_length=1, max_length=400)]
    stage: Literal["act", "verify", "follow_up"] = "act"
    timeout_seconds: Annotated[float, Field(gt=0, le=86400)] | None = None


class PlaybookTarget(BaseModel):
    """What the plan is about, as its card shows it; placeholders allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: Annotated[str, Field(min_length=1, max_length=200)]
    namespace: Annotated[str, Field(min_length=1, max_length=200)] = "default"


class PlaybookSpec(BaseModel):
    """A playbook's definition as a modal's YAML or a file gives it (its name comes beside it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Annotated[str, Field(max_length=500)] = ""
    # Each input and its default; None (or nothing) when it must be given.
    inputs: dict[Annotated[str, Field(pattern=_INPUT_NAME)], str | None] = Field(default_factory=dict)
    target: PlaybookTarget
    steps: Annotated[list[PlaybookStep], Field(min_length=1, max_length=MAX_STEPS)]
    rollback: Annotated[str, Field(max_length=1000)] = (
        "Nothing is undone by itself; each step says what it changed."
    )

    @field_validator("inputs", mode="before")
    @classmethod
    def _list_means_required(cls, value: Any) -> Any:
        """`inputs: [service, namespace]` is short for each with no default."""
        return dict.fromkeys(value) if isinstance(value, list) else value

    @field_validator("inputs")
    @classmethod
    def _defaults_as_text(cls, value: dict[str, Any]) -> dict[str, str | None]:
        return {name: None if default is None else str(default) for name, default in value.items()}

    def placeholders_problem(self) -> str:
        """Each `{name}` must be an input or `environment`; the field path and what is wrong."""
        allowed = frozenset({*self.inputs, "environment"})
        for path, value in (
            ("target.service", self.target.service),
            ("target.namespace", self.target.namespace),
        ):
            if problem := placeholder_problem(value, allowed):
                return f"{path}: {problem}"
        for number, step in enumerate(self.steps):
            for field in ("args", "description"):
                if problem := placeholder_problem(getattr(step, field), allowed):
                    return f"steps.{number}.{field}: {problem}"
        return ""


def parse_definition(text: str) -> PlaybookSpec:
    """A definition written as YAML (in a modal); UserError naming the field that is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"This is not YAML: {' '.join(str(exc).split())}") from None
    return checked_spec(raw)


def checked_spec(raw: Any) -> PlaybookSpec:
    if not isinstance(raw, dict):
        raise UserError(
            "A playbook is a mapping with `target` and `steps` (and maybe `inputs`, `description`)."
        )
    try:
        spec = PlaybookSpec.model_validate(raw)
    except ValidationError as exc:
        raise UserError(first_error(exc)) from None
    if problem := spec.placeholders_problem():
        raise UserError(problem)
    return spec


async def save(
    session: AsyncSession, *, actor: Actor, name: str, spec: PlaybookSpec, playbook_id: int | None = None
) -> PlaybookView:
    """Create a playbook, or change one written in Slack (its name may change too)."""
    name = names.playbook(name)
    now = utcnow()
    if playbook_id is None:
        row = Playbook(team_id=actor.team_id, source="", version=library.next_version(None), created_at=now)
        session.add(row)
    else:
        row = await _find(session, team_id=actor.team_id, playbook_id=playbook_id, for_update=True)
        library.require_editable(f"Playbook {row.name}", row.source, row.version)
        row.version = library.next_version(row.version)
    row.name, row.spec, row.updated_by, row.updated_at = (
        name,
        spec.model_dump(mode="json"),
        actor.user_id,
        now,
    )
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"There is already a playbook named {name}.") from None
    await audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        kind=AuditKind.PLAYBOOK_SAVED,
        detail={"playbook_id": row.id, "name": name, "version": row.version},
    )
    return view(row)


async def get(session: AsyncSession, *, team_id: str, playbook_id: int) -> PlaybookView:
    return view(await _find(session, team_id=team_id, playbook_id=playbook_id))


async def by_name(session: AsyncSession, *, team_id: str, name: str) -> PlaybookView:
    """The workspace's own playbook of that name, else the deployment's file of that name."""
    own_first = (Playbook.team_id == library.FILES_TEAM).asc()
    row = await session.scalar(
        select(Playbook)
        .where(library.visible_to(Playbook.team_id, team_id), Playbook.name == names.playbook(name))
        .order_by(own_first)
        .limit(1)
    )
    if row is None:
        raise NotFound(f"There is no playbook `{name}`; `/carapulse playbook list` shows them.")
    return view(row)


async def listing(
    session: AsyncSession, *, team_id: str, page: int = 0, size: int = PAGE_SIZE
) -> Page[PlaybookView]:
    query: Select[tuple[Playbook]] = (
        select(Playbook)
        .where(library.visible_to(Playbook.team_id, team_id))
        .order_by(Playbook.name, Playbook.id)
    )
    return (await paging.fetch(session, query, page=page, size=size)).map(view)


def draft(
    playbook: PlaybookView, typed: Mapping[str, str | None], *, environment: str, registry: Registry
) -> PlanDraft:
    """The plan a start makes: inputs (typed, else their defaults) filled in, each step's arguments
    checked by its action where that tool is configured here. Raises InvalidInputs naming inputs
    that are missing or unknown, UserError naming a step whose arguments its action refuses."""
    spec = spec_of(playbook)
    values = _inputs(playbook.name, spec, typed)
    fields = {**values, "environment": environment}
    steps = [
        StepSpec(
            stage=StepStage(step.stage),
            action=step.action,
            args=render(step.args, fields),
            description=render(step.description, fields),
            timeout_seconds=step.timeout_seconds,
        )
        for step in spec.steps
    ]
    for number, step in enumerate(steps, 1):
        if step.action in registry:
            try:
                registry.get(step.action).parse_args(step.args)
            except ValidationError as exc:
                raise UserError(
                    f"Step {number} of playbook {playbook.name}, {step.action}: {first_error(exc)}"
                ) from None
    target = Target(
        environment=environment,
        namespace=render(spec.target.namespace, fields),
        name=render(spec.target.service, fields),
    )
    given = " ".join(f"{name}={value}" for name, value in values.items())
    return PlanDraft(
        intent=f"playbook start {playbook.name} {given}".strip(),
        summary=f"playbook {playbook.name}: {spec.description or target.name}"[:255],
        target=target,
        steps=steps,
        rollback=spec.rollback,
        # The policy judges the real risk from the steps; this is the planner's first guess.
        risk=Risk(
            level=RiskLevel.LOW,
            blast_radius=BlastRadius.NAMESPACE,
            targets=[f"{target.namespace}/{target.name}"],
        ),
        workflow=WorkflowRef(
            name=PLAN_NAME_PREFIX + playbook.name, version=playbook.version, override=playbook.source
        ),
    )


def spec_of(playbook: PlaybookView) -> PlaybookSpec:
    return PlaybookSpec.model_validate(playbook.spec)


def view(row: Playbook) -> PlaybookView:
    spec = PlaybookSpec.model_validate(row.spec)
    return PlaybookView(
        id=row.id,
        name=row.name,
        description=spec.description,
        inputs=spec.inputs,
        steps=[
            StepSpec(stage=StepStage(s.stage), action=s.action, args=s.args, description=s.description)
            for s in spec.steps
        ],
        spec=row.spec,
        source=row.source,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _inputs(name: str, spec: PlaybookSpec, typed: Mapping[str, str | None]) -> dict[str, str]:
    unknown = sorted(set(typed) - set(spec.inputs))
    problems = {input_name: f"not an input of {name}" for input_name in unknown}
    values: dict[str, str] = {}
    for input_name, default in spec.inputs.items():
        given = (typed.get(input_name) or "").strip() or default
        if given is None:
            problems[input_name] = "required"
        else:
            values[input_name] = given
    if problems:
        raise InvalidInputs(name, problems)
    return values


async def _find(
    session: AsyncSession, *, team_id: str, playbook_id: int, for_update: bool = False
) -> Playbook:
    query = select(Playbook).where(library.visible_to(Playbook.team_id, team_id), Playbook.id == playbook_id)
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(f"There is no playbook #{playbook_id} in this workspace.")
    return row
