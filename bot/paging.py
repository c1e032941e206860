"""Pages of a query: every list that can grow is read one page at a time, never whole."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError

T = TypeVar("T")
U = TypeVar("U")

# Past this a person should search, not page; it also bounds the OFFSET a query can be asked for.
MAX_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows; `number` counts from 0."""

    items: list[T]
    number: int
    has_more: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page(items=[convert(item) for item in self.items], number=self.number, has_more=self.has_more)


async def fetch(session: AsyncSession, query: Select[Any], *, page: int, size: int) -> Page[Any]:
    """Rows `page * size` to `(page + 1) * size` of an ordered query, as ORM objects (its first
    column): one row more is read to know whether another page follows."""
    return page_of((await session.scalars(window(query, page, size))).all(), page, size)


async def fetch_rows(session: AsyncSession, query: Select[Any], *, page: int, size: int) -> Page[Any]:
    """As `fetch`, for a query of several columns: the page holds whole rows."""
    return page_of((await session.execute(window(query, page, size))).all(), page, size)


def window(query: Select[Any], page: int, size: int) -> Select[Any]:
    """The query cut to one page and the row after it (which only says that more follow)."""
    if not 0 <= page <= MAX_PAGE:
        raise UserError(f"There is no page {page + 1}; pages go from 1 to {MAX_PAGE + 1}.")
    return query.limit(size + 1).offset(page * size)


def page_of(rows: Sequence[T], page: int, size: int) -> Page[T]:
    """The page `window` read: its first `size` rows."""
    return Page(items=list(rows[:size]), number=page, has_more=len(rows) > size)
