"""An in-memory "dial" system with real tool actions, for worker tests that need precise control
over success, failure and timing without any network."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from tools.common.base import Action, ActionArgs, ActionResult, Effect, RollbackStep, ToolError


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
        # One-shot hangs, to freeze a worker at an exact moment: (call, dial) → "before" or "after"
        # the write takes effect. `hung` is set when a call hangs.
        self.hangs: dict[tuple[str, str], str] = {}
        self.hung = asyncio.Event()

    def actions(self) -> list[Action[ActionArgs]]:
        return [SetDial(self), BumpDial(self), CheckDial(self)]

    async def write(self, call: str, name: str, value: int) -> int:
        """Change a dial as one write call; returns the value it had before."""
        self.entered.set()
        await self.stall.wait()
        await self._hang_if_asked(call, name, "before")
        self.calls.append((call, name, value))
        if value in self.fail_set_to:
            raise ToolError(f"dial {name} refused {value}", call=call.upper(), status=500)
        previous = self.values.get(name, 0)
        self.values[name] = value
        await self._hang_if_asked(call, name, "after")
        return previous

    async def _hang_if_asked(self, call: str, name: str, moment: str) -> None:
        if self.hangs.get((call, name)) == moment:
            del self.hangs[(call, name)]
            self.hung.set()
            await asyncio.Event().wait()


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
        previous = await self.dials.write("set", args.name, args.value)
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


class BumpArgs(ActionArgs):
    name: str


class BumpDial(Action[BumpArgs]):
    """Adds one: repeating it after a crash would add two, so it is not idempotent."""

    name: ClassVar[str] = "dial.bump"
    description: ClassVar[str] = "Turn a dial up by one"
    args_model = BumpArgs
    effect = Effect.WRITE
    timeout_seconds = 5.0

    def __init__(self, dials: Dials) -> None:
        self.dials = dials

    async def run(self, args: BumpArgs) -> ActionResult:
        value = self.dials.values.get(args.name, 0) + 1
        previous = await self.dials.write("bump", args.name, value)
        return ActionResult(summary=f"{args.name} {previous} → {value}", data={"previous": previous})

    def rollback(self, args: BumpArgs, result: ActionResult) -> RollbackStep | None:
        return RollbackStep(
            action=SetDial.name,
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
