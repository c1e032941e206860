"""An in-memory "dial" system with real tool actions, for worker tests that need precise control
over success, failure and timing without any network."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from tools.base import Action, ActionArgs, ActionResult, Effect, RollbackStep, ToolError


class SetArgs(ActionArgs):
    name: str
    value: int


class CheckArgs(ActionArgs):
    name: str
    expect: int


class Dials:
    """The system under change: named integer dials, plus switches to make calls fail or stall."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.calls: list[tuple[str, str, int]] = []
        self.fail_set_to: set[int] = set()
        self.entered = asyncio.Event()
        self.stall = asyncio.Event()
        self.stall.set()

    def actions(self) -> list[Action[ActionArgs]]:
        return [SetDial(self), CheckDial(self)]


class SetDial(Action[SetArgs]):
    name: ClassVar[str] = "dial.set"
    description: ClassVar[str] = "Set a dial, remembering the old value for rollback"
    args_model = SetArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 5.0

    def __init__(self, dials: Dials) -> None:
        self.dials = dials

    async def run(self, args: SetArgs) -> ActionResult:
        self.dials.entered.set()
        await self.dials.stall.wait()
        self.dials.calls.append(("set", args.name, args.value))
        if args.value in self.dials.fail_set_to:
            raise ToolError(f"dial {args.name} refused {args.value}", call="SET", status=500)
        previous = self.dials.values.get(args.name, 0)
        self.dials.values[args.name] = args.value
        return ActionResult(
            summary=f"{args.name} {previous} → {args.value}",
            data={"previous": previous, "value": args.value},
        )

    def rollback(self, args: SetArgs, result: ActionResult) -> RollbackStep | None:
        return RollbackStep(
            action=self.name,
            args={"name": args.name, "value": result.data["previous"]},
            description=f"set {args.name} back to {result.data['previous']}",
        )


class CheckDial(Action[CheckArgs]):
    name: ClassVar[str] = "dial.check"
    description: ClassVar[str] = "Check a dial shows the expected value"
    args_model = CheckArgs
    effect = Effect.READ
    idempotent = True

    def __init__(self, dials: Dials) -> None:
        self.dials = dials

    async def run(self, args: CheckArgs) -> ActionResult:
        self.dials.calls.append(("check", args.name, args.expect))
        actual = self.dials.values.get(args.name, 0)
        if actual != args.expect:
            raise ToolError(f"dial {args.name} shows {actual}, expected {args.expect}")
        return ActionResult(summary=f"{args.name} is {actual}")
