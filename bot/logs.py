"""Log output: one line per event, as JSON (LOG_FORMAT=json) or text, with the request, plan and
execution ids of the work that logged it (bot/log_context.py), and never a secret.

Every line passes the shared redactor (tools/common/redaction.py) on its way out: the known token
shapes (xoxb-, xapp-, bearer tokens, …), `Authorization` headers, and the literal values of the
service's own secrets (its settings and environment variables whose names sound secret), so a
library that logs a request with its headers, or an exception quoting a URL with a token, leaks
nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal, TextIO

from bot import log_context
from tools.common.redaction import SECRET_KEY, Redactor

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# `Authorization: Basic …`, `"authorization": "…"`: the scheme and value go, the name stays.
AUTHORIZATION = r"""(?i)(?<=authorization)["']?\s*[:=]\s*["']?(?:[A-Za-z]+\s+)?[^\s"',}]+"""
_HANDLER_NAME = "carapulse"


def configure(
    *, level: str, form: LogFormat, secrets: Iterable[str | None] = (), stream: TextIO | None = None
) -> logging.Handler:
    """Send every logger's lines to `stream` (default stderr) in `form`, replacing the handler set
    up before (so calling it twice, as tests do, leaves one)."""
    redactor = Redactor.with_secrets(secrets, [AUTHORIZATION])
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(redactor) if form == "json" else TextFormatter(redactor))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def secrets_of(values: Mapping[str, object]) -> list[str]:
    """The values of the entries whose names sound secret (SLACK_SIGNING_SECRET, VAULT_TOKEN, …)."""
    found: list[str] = []
    for name, value in values.items():
        secret = getattr(value, "get_secret_value", None)
        value = secret() if callable(secret) else value
        if SECRET_KEY.search(name) and isinstance(value, str):
            found.append(value)
    return found


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"?, "plan_id"?, "execution_id"?,
    "exception"?}`, one object per line."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redactor.redact(record.getMessage()),
            **log_context.current(),
        }
        if record.exc_info:
            line["exception"] = self._redactor.redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, the ids appended as `key=value` when set."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{name}={value}" for name, value in log_context.current().items())
        return self._redactor.redact(f"{text} [{ids}]" if ids else text)
