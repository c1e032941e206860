"""moto's standalone server as a child process: the real AWS wire protocols on a loopback port, so the
AWS tool is tested through boto3 exactly as it runs in production, only with AWS_ENDPOINT_URL set.

Started once per test module (it takes a second or two); `reset()` wipes its state between tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.client import BaseClient

STARTUP_SECONDS = 30
REGION = "us-east-1"
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "fake-secret-key"}
_READY = re.compile(rb"Running on (http://127\.0\.0\.1:\d+)")


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen[bytes] = field(repr=False)
    # The server's last log lines, for a failing test to show what moto saw.
    log: deque[str] = field(default_factory=lambda: deque(maxlen=200), repr=False)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def client(self, service: str, **kwargs: Any) -> BaseClient:
        """A plain boto3 client for arranging test state (creating groups, services, secrets)."""
        return boto3.client(
            service,
            region_name=kwargs.pop("region_name", REGION),
            endpoint_url=self.url,
            aws_access_key_id=FAKE_KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_KEYS["AWS_SECRET_ACCESS_KEY"],
            **kwargs,
        )

    def environ(self, **extra: str) -> dict[str, str]:
        """The settings that point the AWS tool at this server."""
        return {"AWS_REGION": REGION, "AWS_ENDPOINT_URL": self.url, **FAKE_KEYS, **extra}


@contextmanager
def moto_server(*, check_credentials: bool = False) -> Iterator[MotoServer]:
    """`check_credentials` turns on moto's IAM checks from the first request, so unknown access keys
    are refused the way AWS refuses them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    if check_credentials:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    binary = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    log = _Log()
    reader = threading.Thread(target=log.follow, args=(process.stderr,), daemon=True)
    reader.start()
    try:
        if not log.ready.wait(STARTUP_SECONDS) or log.url is None:
            raise RuntimeError(f"moto_server did not start within {STARTUP_SECONDS}s: {log.text()}")
        yield MotoServer(url=log.url, process=process, log=log.lines)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)  # it ends at EOF, now that the server has exited
        process.stderr.close()


class _Log:
    """Reads the server's stderr in a thread: the pipe never fills and blocks the server, and
    `ready` is set once werkzeug prints the URL it listens on (or the server exits first)."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=200)
        self.ready = threading.Event()
        self.url: str | None = None

    def follow(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self.lines.append(line.decode(errors="replace").rstrip())
            if self.url is None and (match := _READY.search(line)):
                self.url = match.group(1).decode()
                self.ready.set()
        self.ready.set()

    def text(self) -> str:
        return "\n".join(self.lines)
