"""The wording every rehearsal shares: an action says what it would do, `Rehearsed` says it is a dry run."""

from __future__ import annotations

import pytest

from tools.common.base import (
    DRY_RUN,
    Action,
    ActionArgs,
    ActionResult,
    Effect,
    Rehearsed,
    ToolError,
    Unchanged,
)


class DoorArgs(ActionArgs):
    door: str


class OpenDoor(Rehearsed, Action[DoorArgs]):
    """Opens a door unless it is open already, on one code path for the run and the rehearsal."""

    name = "test.open_door"
    description = "Open a door."
    args_model = DoorArgs
    effect = Effect.WRITE

    def __init__(self, open_doors: set[str]) -> None:
        self.open_doors = open_doors

    async def apply(self, args: DoorArgs, *, dry_run: bool) -> ActionResult:
        data = {"door": args.door}
        if args.door in self.open_doors:
            return Unchanged(summary=f"{args.door} is already open", data=data)
        if dry_run:
            return ActionResult(summary=f"would open {args.door}", data=data)
        self.open_doors.add(args.door)
        return ActionResult(summary=f"opened {args.door}", data=data)


class RingBell(Rehearsed, Action[DoorArgs]):
    """Rings by one call and rehearses by another."""

    name = "test.ring_bell"
    description = "Ring a door's bell."
    args_model = DoorArgs
    effect = Effect.WRITE

    async def run(self, args: DoorArgs) -> ActionResult:
        return ActionResult(summary=f"rang at {args.door}")

    async def rehearse(self, args: DoorArgs) -> ActionResult:
        return ActionResult(summary=f"the bell at {args.door} works", data={"checked": True})


class SlamDoor(Action[DoorArgs]):
    name = "test.slam_door"
    description = "Slam a door."
    args_model = DoorArgs
    effect = Effect.WRITE

    async def run(self, args: DoorArgs) -> ActionResult:
        return ActionResult(summary=f"slammed {args.door}")


async def test_a_dry_run_is_the_actions_own_words_after_dry_run() -> None:
    doors: set[str] = set()
    rehearsed = await OpenDoor(doors).dry_run(DoorArgs(door="front"))

    assert rehearsed == ActionResult(summary="dry run: would open front", data={"door": "front"})
    assert DRY_RUN == "dry run: "
    assert doors == set()


async def test_a_run_says_only_what_it_did() -> None:
    doors: set[str] = set()

    result = await OpenDoor(doors).run(DoorArgs(door="front"))

    assert result.summary == "opened front"
    assert doors == {"front"}


@pytest.mark.parametrize("rehearse", [True, False])
async def test_nothing_to_do_reads_the_same_in_a_run_and_a_dry_run(rehearse: bool) -> None:
    action = OpenDoor({"front"})
    args = DoorArgs(door="front")

    result = await (action.dry_run(args) if rehearse else action.run(args))

    assert result.summary == "front is already open"
    assert result.model_dump() == {"summary": "front is already open", "data": {"door": "front"}}


async def test_an_action_that_rehearses_by_another_call_gets_the_same_wording() -> None:
    action = RingBell()
    args = DoorArgs(door="back")

    assert (await action.dry_run(args)).summary == "dry run: the bell at back works"
    assert (await action.dry_run(args)).data == {"checked": True}
    assert (await action.run(args)).summary == "rang at back"


async def test_a_write_that_cannot_rehearse_refuses_its_dry_run() -> None:
    with pytest.raises(ToolError) as raised:
        await SlamDoor().dry_run(DoorArgs(door="front"))

    assert raised.value.message == "test.slam_door has no dry run"
