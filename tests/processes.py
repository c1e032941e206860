"""Starts `carapulse` (or any command) as a real child process and waits for the line saying it is ready."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

STARTUP_SECONDS = 60


@asynccontextmanager
async def child_process(
    argv: Sequence[str], *, environment: Mapping[str, str], ready: bytes
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Yield once the child printed `ready` on stderr; terminate it afterwards and insist that it
    shuts down cleanly (exit 0). A child the test already ended itself is left as it ended."""
    process = await asyncio.create_subprocess_exec(
        *argv, env=dict(environment), stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    drain: asyncio.Task[bytes] | None = None
    ended_by_test = False
    try:
        async with asyncio.timeout(STARTUP_SECONDS):
            while ready not in (line := await process.stderr.readline()):
                if not line:
                    raise RuntimeError(f"{' '.join(argv)} exited before it was ready")
        drain = asyncio.create_task(process.stderr.read())
        yield process
    finally:
        ended_by_test = process.returncode is not None
        if not ended_by_test:
            process.terminate()
        code = await process.wait()
        if drain is not None:
            await drain
    if code != 0 and not ended_by_test:
        raise RuntimeError(f"{' '.join(argv)} exited with {code}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
