"""The in-process wake-ups behind the API's event streams."""

from __future__ import annotations

from bot.plan_changes import PlanChanges


async def test_a_change_wakes_the_watchers_of_that_plan_only() -> None:
    changes = PlanChanges()

    with changes.watch("T1", 1) as first, changes.watch("T1", 1) as second, changes.watch("T1", 2) as other:
        changes.plan_changed("T1", 1)
        changes.plan_changed("T2", 2)

        assert first.is_set() and second.is_set()
        assert not other.is_set()


async def test_watchers_are_forgotten_when_they_stop_watching() -> None:
    changes = PlanChanges()
    with changes.watch("T1", 1) as changed:
        pass

    changes.plan_changed("T1", 1)

    assert not changed.is_set()
    assert changes._waiters == {}


async def test_closing_wakes_everyone_now_and_later() -> None:
    changes = PlanChanges()
    with changes.watch("T1", 1) as watching:
        changes.close()
        with changes.watch("T1", 9) as late:
            assert watching.is_set() and late.is_set() and changes.closed
