"""The clusters Carapulse may act on, by kubeconfig context name, each with its own client made on
first use and closed with the toolset.

The official client library is imported with the first client too, in the worker thread that loads
the kubeconfig: it takes about a second to import, which a service pays only once a step needs a
cluster, never at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from tools.common.base import ToolError
from tools.kubernetes.config import KubernetesConfig

if TYPE_CHECKING:
    from tools.kubernetes.client import KubernetesClient

Connect = Callable[[KubernetesConfig], "KubernetesClient"]


def official_client(config: KubernetesConfig) -> KubernetesClient:
    from tools.kubernetes.client import KubernetesClient

    return KubernetesClient.from_config(config)


class Clusters:
    """`configs` maps each allowed cluster name to where it is; `default` is used when an action's
    `cluster` is omitted. A client is created on its first use, so an unused context costs nothing
    and one that cannot be loaded fails only the steps that name it."""

    def __init__(
        self,
        configs: Mapping[str, KubernetesConfig],
        *,
        default: str,
        connect: Connect = official_client,
    ) -> None:
        if default not in configs:
            raise ValueError(f"default cluster {default!r} is not one of {', '.join(configs)}")
        self._configs = dict(configs)
        self.default = default
        self._connect = connect
        self._clients: dict[str, KubernetesClient] = {}
        self._lock = asyncio.Lock()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._configs)

    async def client(self, name: str | None) -> KubernetesClient:
        """The client of cluster `name` (None: the default), connecting it on first use."""
        name = self.default if name is None else name
        if name in self._clients:
            return self._clients[name]
        config = self._configs.get(name)
        if config is None:
            allowed = ", ".join(self._configs)
            raise ToolError(
                f"kubernetes: unknown cluster {name!r}; allowed: {allowed}", call="select cluster"
            )
        async with self._lock:
            if name not in self._clients:
                # Loading a kubeconfig reads files and may run an exec credential plugin.
                self._clients[name] = await asyncio.to_thread(self._connect, config)
            return self._clients[name]

    def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
