"""Real Prometheus and Alertmanager (the Debian binaries) on loopback ports, for the integration tests.

Nothing here is faked: Prometheus scrapes itself, Alertmanager and a small `checkout` exporter (the
prometheus_client library serving a fixed error ratio and a counter carrying a trace-id exemplar),
evaluates tests/fakes/prometheus_stack/rules.yml every second and sends its alerts to Alertmanager
with a 1 s resend delay. Each process gets free ports, its own data directory and config, and is
terminated (then killed) when the context ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from tests.processes import free_port

RULES = Path(__file__).with_name("prometheus_stack") / "rules.yml"
PROMETHEUS_BINARIES = ("prometheus",)
ALERTMANAGER_BINARIES = ("prometheus-alertmanager", "alertmanager")
SCRAPE_JOBS = ("prometheus", "alertmanager", "checkout")
CHECKOUT_ERROR_RATIO = 0.031
EXEMPLAR_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
STARTUP_SECONDS = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class RunningStack:
    prometheus_url: str
    alertmanager_url: str
    checkout_target: str
    # The exporter's checkout_error_ratio, which the rules read: set it to make alerts fire or resolve.
    error_ratio: Gauge


@dataclass(frozen=True)
class Webhook:
    """A receiver Alertmanager notifies (firing and resolved) with a bearer token."""

    url: str
    bearer: str


def binaries() -> tuple[str, str]:
    """The two binaries' paths; a machine without them skips the tests, except on CI where a missing
    binary is a broken image and fails them."""
    prometheus = _which(PROMETHEUS_BINARIES)
    alertmanager = _which(ALERTMANAGER_BINARIES)
    if prometheus is None or alertmanager is None:
        missing = [
            " or ".join(names)
            for names, path in ((PROMETHEUS_BINARIES, prometheus), (ALERTMANAGER_BINARIES, alertmanager))
            if path is None
        ]
        reason = f"{', '.join(missing)} not on PATH (apt-get install prometheus prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return prometheus, alertmanager


@contextmanager
def running_stack(
    workdir: Path, *, scraped: bool = True, rules: Path = RULES, webhook: Webhook | None = None
) -> Iterator[RunningStack]:
    """Start the exporter, Alertmanager and Prometheus; yield once both answer /-/ready and, when
    `scraped`, every target was scraped. Prometheus hands static targets to its scrapers in 5 s
    batches, so tests that only need rules and alerts pass scraped=False and start that much sooner.
    `rules` replaces the rule file; with `webhook`, Alertmanager notifies it instead of nobody."""
    prometheus, alertmanager = binaries()
    with ExitStack() as stack:
        exporter_port, error_ratio = stack.enter_context(_checkout_exporter())
        am_port, prom_port = free_port(), free_port()
        am_url, prom_url = f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{prom_port}"
        am_config = _write(workdir / "alertmanager.yml", _alertmanager_config(webhook))
        prom_config = _write(
            workdir / "prometheus.yml", _prometheus_config(prom_port, am_port, exporter_port, rules)
        )
        am_process = stack.enter_context(
            _process(
                [
                    alertmanager,
                    f"--config.file={am_config}",
                    f"--storage.path={workdir / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                log=workdir / "alertmanager.log",
            )
        )
        prom_process = stack.enter_context(
            _process(
                [
                    prometheus,
                    f"--config.file={prom_config}",
                    f"--storage.tsdb.path={workdir / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--rules.alert.resend-delay=1s",
                    "--enable-feature=exemplar-storage",
                ],
                log=workdir / "prometheus.log",
            )
        )
        _wait_until(lambda: _ready(am_url), am_process, "it answered /-/ready")
        _wait_until(lambda: _ready(prom_url), prom_process, "it answered /-/ready")
        if scraped:
            _wait_until(lambda: _all_targets_up(prom_url), prom_process, "every scrape target was up")
        yield RunningStack(prom_url, am_url, f"127.0.0.1:{exporter_port}", error_ratio)


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *, seconds: float = 20) -> T:
    """The first probe result that is `ok`, else the last one once `seconds` passed (the caller's
    assertion then shows it): rules fire and alerts reach Alertmanager on the servers' own clocks."""
    deadline = time.monotonic() + seconds
    while True:
        value = await probe()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


def _which(names: Sequence[str]) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


def _prometheus_config(prom_port: int, am_port: int, exporter_port: int, rules: Path) -> dict[str, Any]:
    targets = {"prometheus": prom_port, "alertmanager": am_port, "checkout": exporter_port}
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for job, port in targets.items()
        ],
    }


def _alertmanager_config(webhook: Webhook | None) -> dict[str, Any]:
    # Without a webhook, a receiver without integrations: alerts are kept and shown, never sent anywhere.
    receiver: dict[str, Any] = {"name": "blackhole"}
    if webhook is not None:
        config = {
            "url": webhook.url,
            "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials": webhook.bearer}},
        }
        receiver = {"name": "carapulse", "webhook_configs": [config]}
    return {
        "route": {
            "receiver": receiver["name"],
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [receiver],
    }


def _write(path: Path, config: dict[str, Any]) -> Path:
    # JSON is YAML, so the config needs no YAML writer.
    path.write_text(json.dumps(config, indent=2))
    return path


@contextmanager
def _checkout_exporter() -> Iterator[tuple[int, Gauge]]:
    registry = CollectorRegistry()
    error_ratio = Gauge("checkout_error_ratio", "Share of failed checkout requests.", registry=registry)
    error_ratio.set(CHECKOUT_ERROR_RATIO)
    requests = Counter("checkout_requests", "Checkout requests.", ["code"], registry=registry)
    requests.labels("200").inc(40)
    requests.labels("500").inc(3, exemplar={"trace_id": EXEMPLAR_TRACE_ID})
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield int(server.server_port), error_ratio
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class _Child:
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def _process(argv: Sequence[str], *, log: Path) -> Iterator[_Child]:
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield _Child(process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until(check: Callable[[], bool], child: _Child, what: str) -> None:
    """Poll until `check` holds (the servers run outside the test's event loop, so there is nothing
    to await); a child that exits or a deadline that passes fails with the end of its log."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not check():
        if child.process.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(child.log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"{child.process.args[0]} failed before {what}:\n{tail}")
        time.sleep(0.1)


def _ready(url: str) -> bool:
    return _get(f"{url}/-/ready") is not None


def _all_targets_up(prometheus_url: str) -> bool:
    query = urllib.parse.urlencode({"query": "count(up == 1)"})
    body = _get(f"{prometheus_url}/api/v1/query?{query}")
    if body is None:
        return False
    result = json.loads(body)["data"]["result"]
    return bool(result) and int(float(result[0]["value"][1])) == len(SCRAPE_JOBS)


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bytes(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
