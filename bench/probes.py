"""What a scrape of /metrics and a /readyz probe cost, with many plans and queued executions stored.

A Carapulse runs in-process (tests/harness.py: HTTP on loopback, the fake Slack and Kubernetes) with
`--plans` plans of no-op steps and their executions queued (bench/_support.py), its worker off so
the queue stays as stored. Each endpoint is asked `--requests` times, one after another; prints
p50/p99 per endpoint, and the queue depth the last scrape reported, which must equal `--plans`.

Usage: python bench/probes.py [--plans 5000] [--requests 200] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import queue_plans
from tests.databases import throwaway_database
from tests.harness import running_bot


async def main(plans: int, requests: int, database: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with (
            throwaway_database(database, Path(directory)) as url,
            running_bot(database_url=url, tmp_path=Path(directory)) as bot,
        ):
            await bot.carapulse.loops.aclose()  # no worker: the queue stays as stored
            await queue_plans(bot.carapulse.runtime.sessions, count=plans, steps=1)
            async with aiohttp.ClientSession() as http:
                for path in ("/metrics", "/readyz"):
                    samples, body = [], ""
                    for _ in range(requests):
                        began = time.perf_counter()
                        async with http.get(bot.url + path) as response:
                            body = await response.text()
                        samples.append(time.perf_counter() - began)
                    p50 = statistics.median(samples) * 1000
                    p99 = statistics.quantiles(samples, n=100)[98] * 1000
                    print(f"{path:<9} {database}, {plans} plans: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
                    if path == "/metrics":
                        depth = next(
                            line
                            for line in body.splitlines()
                            if line.startswith('carapulse_queue_depth{queue="executions"}')
                        )
                        print(f"          {depth}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.plans, arguments.requests, arguments.database))
