"""The configured model: every request to it passes through `Model.send`, which redacts what would
leave, bounds the wait, and counts tokens and cost in metrics and the audit log.

Redaction happens here, at the one door out, rather than where prompts are written: whatever a
caller put in a user turn or a tool result (a thread, a runbook, a log line, a tool's output) is
masked with the shared redactor (built-in token shapes, the service's own secrets, REDACT_PATTERNS)
before the provider's client sees it. The system prompt is Carapulse's own text and the assistant
turns are the model's own words, so they are sent as they are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot import audit, metrics
from bot.audit import AuditKind
from bot.db.engine import SessionFactory
from bot.domain import Actor, PlannerRef
from bot.llm.conversation import (
    Exchange,
    Message,
    ModelClient,
    ModelUnavailable,
    Reply,
    ToolResults,
    Usage,
    UserTurn,
)
from bot.llm.prices import ModelPrice, cost
from tools.common.redaction import Redactor


@dataclass(frozen=True)
class Model:
    """`budget_seconds` bounds one request whole, the SDK's retries and their backoff included."""

    client: ModelClient
    ref: PlannerRef
    redactor: Redactor
    sessions: SessionFactory
    prices: Mapping[str, ModelPrice]
    budget_seconds: float
    max_tokens: int

    async def send(self, exchange: Exchange, *, actor: Actor, purpose: str) -> Reply:
        """Raises ModelUnavailable (with the reason) when no answer came in time."""
        safe = replace(
            exchange, messages=[self._redacted(m) for m in exchange.messages], max_tokens=self.max_tokens
        )
        started = time.monotonic()
        reply: Reply | None = None
        reason = ""
        try:
            async with asyncio.timeout(self.budget_seconds):
                reply = await self.client.send(safe)
        except TimeoutError:
            reason = f"timed out after {self.budget_seconds:g}s"
            raise ModelUnavailable(reason) from None
        except ModelUnavailable as exc:
            reason = exc.reason
            raise
        finally:
            await self._meter(actor, purpose, reply, reason, time.monotonic() - started)
        return reply

    async def aclose(self) -> None:
        await self.client.aclose()

    def _redacted(self, message: Message) -> Message:
        if isinstance(message, UserTurn):
            return UserTurn(self.redactor.redact(message.text))
        if isinstance(message, ToolResults):
            return ToolResults([(call_id, self.redactor.redact(out)) for call_id, out in message.results])
        return message

    async def _meter(
        self, actor: Actor, purpose: str, reply: Reply | None, reason: str, seconds: float
    ) -> None:
        provider, model = self.ref.name, self.ref.model
        usage = reply.usage if reply is not None else Usage()
        dollars = cost(self.prices, model, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
        outcome = "ok" if reply is not None else "unavailable"
        metrics.MODEL_REQUESTS.labels(provider, model, purpose, outcome).inc()
        metrics.MODEL_TOKENS.labels(provider, model, "input").inc(usage.input_tokens)
        metrics.MODEL_TOKENS.labels(provider, model, "output").inc(usage.output_tokens)
        if dollars is not None:
            metrics.MODEL_COST.labels(provider, model).inc(dollars)
        metrics.MODEL_SECONDS.labels(provider, purpose).observe(seconds)
        detail: dict[str, Any] = {
            "provider": provider,
            "model": model,
            "answered_by": reply.model if reply is not None else "",
            "purpose": purpose,
            "outcome": outcome,
            "reason": self.redactor.redact(reason),
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cost_usd": dollars,
            "seconds": round(seconds, 3),
        }
        async with self.sessions.begin() as session:
            await audit.record(
                session,
                team_id=actor.team_id,
                actor_id=actor.user_id,
                kind=AuditKind.MODEL_REQUEST,
                detail=detail,
            )
