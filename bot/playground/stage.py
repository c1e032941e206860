"""Everything `carapulse playground` runs, in one process on 127.0.0.1: the fake Slack, the fake
Kubernetes API with the shop's Deployments, the demo Prometheus, Carapulse itself (HTTP mode, SQLite,
its worker) and the page.

Carapulse is built by the same composition root as `carapulse serve` (bot/app.py) and answers on the
same HTTP surface; only its settings and the tools' environment are the playground's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import Carapulse, create_app
from bot.http import service_web_app
from bot.playground import demo
from bot.playground.alerts import AlertSender
from bot.playground.feed import Feed
from bot.playground.gestures import Gestures
from bot.playground.kubernetes.server import FakeKubernetes
from bot.playground.kubernetes.status import ApiError
from bot.playground.page import Page
from bot.playground.prometheus import DemoPrometheus
from bot.playground.serving import serving
from bot.playground.slack.driver import SlackDriver
from bot.playground.slack.web_api import FakeSlack
from bot.playground.surfaces import Surfaces

# Deployments settle this long after a change, so a card shows its rollout running for a moment.
CONVERGENCE_SECONDS = 1.0


@dataclass(frozen=True)
class Playground:
    url: str
    bot_url: str
    carapulse: Carapulse
    slack: FakeSlack
    kube: FakeKubernetes
    prometheus: DemoPrometheus


@asynccontextmanager
async def running(*, directory: Path, port: int = 0) -> AsyncIterator[Playground]:
    """`directory` holds the database and the kubeconfig (the caller removes it); `port` is the
    page's (0: any free port)."""
    keys = demo.Secrets.fresh()
    async with AsyncExitStack() as stack:
        slack = await stack.enter_async_context(FakeSlack(tokens=[keys.bot_token]))
        demo.prepare_slack(slack)
        kube = await stack.enter_async_context(FakeKubernetes(convergence_delay=CONVERGENCE_SECONDS))
        demo.prepare_cluster(kube)
        prometheus = DemoPrometheus(
            {name: (demo.NAMESPACE, name) for name in demo.DEPLOYMENTS},
            generation_of=lambda namespace, name: _generation(kube, namespace, name),
        )
        prometheus_url = await stack.enter_async_context(serving(prometheus.app()))
        settings = demo.settings(
            slack_api_url=slack.api_url,
            database_url=f"sqlite+aiosqlite:///{directory / 'playground.db'}",
            keys=keys,
        )
        environ = demo.tool_environ(
            kubeconfig=str(kube.write_kubeconfig(directory / "kubeconfig")), prometheus_url=prometheus_url
        )
        carapulse = await create_app(settings, environ=environ)
        stack.push_async_callback(carapulse.aclose)
        bot_url = await stack.enter_async_context(serving(service_web_app(carapulse)))
        carapulse.start_worker()
        driver = SlackDriver(bot_url, keys.signing_secret, slack)
        gestures = Gestures(slack=slack, driver=driver, surfaces=Surfaces(slack), feed=Feed())
        alerts = AlertSender(
            bot_url=bot_url, token=keys.hook_token, prometheus=prometheus, prometheus_url=prometheus_url
        )
        url = await stack.enter_async_context(
            serving(Page(gestures=gestures, alerts=alerts).app(), port=port)
        )
        yield Playground(url, bot_url, carapulse, slack, kube, prometheus)


def _generation(kube: FakeKubernetes, namespace: str, name: str) -> int | None:
    try:
        return int(kube.deployment(namespace, name)["metadata"]["generation"])
    except ApiError:
        return None  # deleted: the series keeps its last state
