"""A PNG chart of an alert's expression over the last hour, from a Prometheus range query read
through the registry, drawn with matplotlib.

matplotlib is imported on the first chart only (with the Agg backend, no display needed): start-up
time and idle memory are benchmarked, and most processes never draw one.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

from bot.steps import run_action
from tools.common.registry import Registry

RANGE_ACTION = "prometheus.query_range"
WINDOW_SECONDS = 3600
MAX_SERIES = 10
_LEGEND_CHARS = 60


class ChartUnavailable(Exception):
    """Why no chart could be drawn, in words for the thread."""


async def expression_png(registry: Registry, expr: str, *, title: str) -> bytes:
    if not expr:
        raise ChartUnavailable("the alert carries no expression (its generator URL has no g0.expr)")
    if RANGE_ACTION not in registry:
        raise ChartUnavailable("the prometheus tool is not configured here (set PROMETHEUS_URL)")
    args = {"expr": expr, "window_seconds": WINDOW_SECONDS, "limit": MAX_SERIES}
    outcome = await run_action(registry, RANGE_ACTION, args)
    if not outcome.ok:
        raise ChartUnavailable(outcome.error)
    series = [s for s in outcome.data.get("result") or [] if s.get("values")]
    if not series:
        raise ChartUnavailable(f"{expr} had no samples in the last hour")
    # Drawing takes tens of milliseconds of CPU (and the first import far more): off the event loop.
    return await asyncio.to_thread(_draw, series, title)


def _draw(series: list[dict[str, Any]], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # A Figure of its own, not pyplot's global state, so drawing is safe from any thread.
    figure = Figure(figsize=(8, 3), dpi=100)
    axes = figure.add_subplot()
    for one in series:
        times = [datetime.fromtimestamp(float(t), UTC) for t, _ in one["values"]]
        values = [float(v) for _, v in one["values"]]
        axes.plot(times, values, label=_legend(one.get("metric", {})), linewidth=1.2)
    axes.set_title(title[:100], fontsize=10)
    axes.grid(alpha=0.3)
    axes.tick_params(labelsize=8)
    if 1 < len(series) <= MAX_SERIES:
        axes.legend(fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _legend(metric: dict[str, str]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in sorted(metric.items())) or "value"
    return text[:_LEGEND_CHARS]
