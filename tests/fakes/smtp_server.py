"""A real SMTP server (aiosmtpd) on a loopback port of the test's own event loop, keeping every
message it receives."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import Message
from types import TracebackType
from typing import Any, Self

from aiosmtpd.smtp import SMTP, Envelope, Session


class SmtpServer:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="localhost"), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def received(self, count: int, timeout: float = 15) -> list[tuple[list[str], Message]]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content: Any = envelope.content
        message = message_from_bytes(
            content if isinstance(content, bytes) else content.encode(), policy=policy.default
        )
        async with self._arrived:
            self.messages.append((list(envelope.rcpt_tos), message))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"
