"""Group commit: items that arrive while a transaction is storing others wait, and the next
transaction stores all of them at once.

A webhook is answered only once what it said is committed, so under load the commit is the queue:
one transaction per delivery pays a lock hand-over, a handful of round trips to the database thread
and (SQLite) an fsync each, and a burst waits behind all of them. Stored together, a burst costs one
of each, and the answer of every delivery in it still means "committed".

A batch that fails is stored again one item per transaction, so a bad item fails alone and its
error reaches only the request that sent it. One batch is in flight per process at a time, which is
also what SQLite needs (one writer) and what keeps transactions short on PostgreSQL (`max_batch`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.tasks import TaskSupervisor

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Stores items in one transaction and returns one result per item, in order.
Store = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, store: Store[T, R], *, supervisor: TaskSupervisor, name: str, max_batch: int = 200):
        self._store = store
        self._supervisor = supervisor
        self._name = name
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._draining = False

    async def submit(self, item: T) -> R:
        """Store `item` with whatever else is waiting; returns once it is committed.

        The batches run in a task of their own, so a submitter that goes away (its client hung up)
        takes nothing down with it but its own answer."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._draining:
            self._draining = True
            self._supervisor.spawn(self._drain(), name=self._name)
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._commit(batch)
        finally:
            self._draining = False
            for _, future in self._waiting:  # shutting down: nobody is left to store them
                future.cancel()
            self._waiting.clear()

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._store([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                future = batch[0][1]
                if not future.done():  # done: its submitter was cancelled
                    future.set_exception(exc)
                return
            log.warning("%s: a batch of %d failed (%s); storing each alone", self._name, len(batch), exc)
            for one in batch:
                await self._commit([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
