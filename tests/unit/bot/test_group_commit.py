import asyncio
from collections.abc import Sequence

import pytest

from bot.group_commit import GroupCommit
from bot.tasks import TaskSupervisor


class Recorder:
    """A store that records its batches, takes a turn of the loop per batch (as a commit does) and
    refuses any item named "bad"."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def store(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        await asyncio.sleep(0)
        if "bad" in items:
            raise ValueError("bad item")
        return [item.upper() for item in items]


@pytest.fixture
async def supervisor():
    supervisor = TaskSupervisor()
    yield supervisor
    await supervisor.aclose()


async def test_items_arriving_while_a_batch_commits_go_together_into_the_next(supervisor) -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.store, supervisor=supervisor, name="test")
    results = await asyncio.gather(*(group.submit(f"item{n}") for n in range(10)))
    assert results == [f"ITEM{n}" for n in range(10)]
    assert sum(len(batch) for batch in recorder.batches) == 10
    assert len(recorder.batches) < 10


async def test_batches_are_capped(supervisor) -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.store, supervisor=supervisor, name="test", max_batch=3)
    await asyncio.gather(*(group.submit(f"item{n}") for n in range(10)))
    assert max(len(batch) for batch in recorder.batches) == 3


async def test_a_bad_item_fails_alone_and_the_rest_of_its_batch_is_stored(supervisor) -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.store, supervisor=supervisor, name="test")
    results = await asyncio.gather(
        group.submit("a"), group.submit("bad"), group.submit("c"), return_exceptions=True
    )
    assert results[0] == "A" and results[2] == "C"
    assert isinstance(results[1], ValueError)
    assert ["bad"] in recorder.batches  # retried on its own


async def test_a_submitter_that_goes_away_does_not_take_the_batch_down(supervisor) -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.store, supervisor=supervisor, name="test")
    leaving = asyncio.create_task(group.submit("gone"))
    staying = asyncio.create_task(group.submit("kept"))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == "KEPT"
    assert any("gone" in batch for batch in recorder.batches)
