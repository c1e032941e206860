"""The contract every tool action fulfils, so policy and the plan card can read it before anything runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Effect(StrEnum):
    READ = "read"
    WRITE = "write"


class RiskHint(StrEnum):
    """A tool's own view of how risky an action is. Policy takes the higher of this and its verb table,
    so a hint can raise a step's risk (helm.uninstall is high) but never lower it."""

    READ = "read"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ToolError(Exception):
    """A tool call failed; `message` is written for the person reading the plan card.

    `call` names the exact upstream call and `status` its upstream status (HTTP code, exit code),
    so the card can say what failed without a log dive.
    """

    def __init__(self, message: str, *, call: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.call = call
        self.status = status


class ActionArgs(BaseModel):
    """Base for every action's arguments: unknown keys are an error, not silently dropped."""

    # Validators are built on first use, so the hundred-odd args models of tools that are not configured
    # cost nothing at start-up.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ActionResult(BaseModel):
    """What an action returns: a one-line summary for the card and structured data for verify/rollback."""

    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class Unchanged(ActionResult):
    """What a write answers when it finds nothing to do ("… is already closed"): the same whether it ran
    or rehearsed, so a dry run shows it as it is, without "dry run: " in front."""


class RollbackStep(BaseModel):
    """The inverse of a completed write, built from state the action read before changing anything."""

    action: str
    args: dict[str, Any]
    description: str


ArgsT = TypeVar("ArgsT", bound=ActionArgs)


class Action(ABC, Generic[ArgsT]):
    """One typed operation on one system.

    `effect`, `risk` and `idempotent` are class-level facts: policy and the worker read them before running,
    never by inspecting a call at run time.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    args_model: ClassVar[type[ActionArgs]]
    effect: ClassVar[Effect]
    risk: ClassVar[RiskHint | None] = None
    idempotent: ClassVar[bool] = False
    timeout_seconds: ClassVar[float] = 60.0

    @abstractmethod
    async def run(self, args: ArgsT) -> ActionResult: ...

    async def dry_run(self, args: ArgsT) -> ActionResult:
        """What `run` would do, changing nothing. A read is its own dry run; a write that cannot
        rehearse refuses rather than pretending it checked anything."""
        if self.effect is Effect.READ:
            return await self.run(args)
        raise ToolError(f"{self.name} has no dry run", call=self.name)

    def rollback(self, args: ArgsT, result: ActionResult) -> RollbackStep | None:
        """The step that undoes this one, or None when the action has no inverse (or is a read)."""
        return None

    def parse_args(self, raw: dict[str, Any]) -> ArgsT:
        return self.args_model.model_validate(raw)  # type: ignore[return-value]


# How every rehearsal's summary starts, whichever tool made it.
DRY_RUN = "dry run: "


class Rehearsed:
    """Mixin for an Action (listed before it) that can rehearse: its dry run changes nothing and says what
    the run would do. The action words that in `rehearse` ("would open …", "no change: …"), and `dry_run`
    puts the one "dry run: " in front, so every rehearsal reads the same on a card.

    By default the run and the rehearsal are one code path, `apply`, that reads the same state and differs
    only in whether it changes anything: a dry run then checks exactly what the run would do. An action
    whose rehearsal is another call (a server-side dry run, a saved plan, a read of what would change)
    overrides `run` and `rehearse` instead."""

    async def run(self, args: Any) -> ActionResult:
        return await self.apply(args, dry_run=False)

    async def dry_run(self, args: Any) -> ActionResult:
        result = await self.rehearse(args)
        if isinstance(result, Unchanged):
            return result
        return result.model_copy(update={"summary": DRY_RUN + result.summary})

    async def rehearse(self, args: Any) -> ActionResult:
        return await self.apply(args, dry_run=True)

    async def apply(self, args: Any, *, dry_run: bool) -> ActionResult:
        raise NotImplementedError
