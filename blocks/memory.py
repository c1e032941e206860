"""Operator memory in Slack: a note as one line, a page of notes, and the modals to add a note and
to search them."""

from __future__ import annotations

from typing import Any

from blocks import ids
from blocks.forms import modal, pager, text_input
from blocks.text import context, escape, section, user
from bot.domain import NoteView

NOTE_MAX_LENGTH = 500
SERVICE_MAX_LENGTH = 64


def note_line(note: NoteView) -> str:
    return f":memo: *{escape(note.service)}*: {escape(note.text)} ({user(note.author_id)}, note {note.id})"


def note_list_blocks(
    notes: list[NoteView], *, title: str, number: int, has_more: bool, key: dict[str, Any]
) -> list[dict[str, Any]]:
    """One page of notes; `key` says which list it is (a service, a search) for the paging buttons."""
    if not notes:
        return [
            section(f"*{escape(title)}*\nNo notes yet. Add one: `/carapulse memory add <service> <note>`")
        ]
    heading = f"*{escape(title)}*" + (f" (page {number + 1})" if number or has_more else "")
    blocks = [section(heading), *(context(note_line(note)) for note in notes)]
    buttons = pager(ids.MEMORY_PAGE, number=number, has_more=has_more, key=key)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append(context("`/carapulse memory delete <id>` removes a note (its author or an admin)."))
    return blocks


def memory_modal(
    *, service: str = "", text: str = "", channel_id: str = "", source: str = ""
) -> dict[str, Any]:
    """Add a note; from a message shortcut, prefilled with the message and remembering where it is."""
    return modal(
        callback_id=ids.MEMORY_ADD_MODAL,
        title="Remember this",
        submit="Save note",
        metadata={"channel_id": channel_id, "source": source},
        blocks=[
            text_input(
                ids.MEMORY_SERVICE_BLOCK,
                "Service",
                initial=service,
                max_length=SERVICE_MAX_LENGTH,
                placeholder="checkout",
            ),
            text_input(
                ids.MEMORY_TEXT_BLOCK,
                "Note",
                initial=text,
                multiline=True,
                max_length=NOTE_MAX_LENGTH,
                hint="Shown on every plan card for this service.",
            ),
        ],
    )


def memory_search_modal(results: list[dict[str, Any]] | None = None, query: str = "") -> dict[str, Any]:
    """Ask what to search for; after a search, the results sit under the field (and a new search
    can be typed)."""
    blocks = [text_input(ids.MEMORY_QUERY_BLOCK, "Search the notes for", initial=query, max_length=200)]
    return modal(
        callback_id=ids.MEMORY_SEARCH_MODAL,
        title="Operator memory",
        submit="Search",
        blocks=blocks + (results or []),
    )
