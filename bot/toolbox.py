"""Builds the tool registry from settings; each integration reports one line at start-up."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError
from bot.settings import Settings
from tools.base import ToolError
from tools.kubernetes import KubernetesClient, KubernetesConfig, actions
from tools.registry import Registry

log = logging.getLogger(__name__)

DEFAULT_KUBECONFIG = Path.home() / ".kube" / "config"


@dataclass
class Toolbox:
    registry: Registry
    status: dict[str, str]
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


def build(settings: Settings) -> Toolbox:
    toolbox = Toolbox(registry=Registry(), status={})
    _add_kubernetes(toolbox, settings)
    for name, status in toolbox.status.items():
        log.info("%s: %s", name, status)
    return toolbox


def _add_kubernetes(toolbox: Toolbox, settings: Settings) -> None:
    config = _kubernetes_config(settings)
    if config is None:
        toolbox.status["kubernetes"] = "disabled, no kubeconfig (set KUBECONFIG) and not in a cluster"
        return
    try:
        client = KubernetesClient.from_config(config)
    except ToolError as exc:
        raise ConfigError(exc.message) from None
    for action in actions(client):
        toolbox.registry.add(action)
    toolbox.closers.append(client.close)
    toolbox.status["kubernetes"] = f"enabled, API server {client.server}"


def _kubernetes_config(settings: Settings) -> KubernetesConfig | None:
    if settings.kube_in_cluster or (
        settings.kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST")
    ):
        return KubernetesConfig(in_cluster=True)
    if settings.kubeconfig is not None:
        if not settings.kubeconfig.is_file():
            raise ConfigError(f"KUBECONFIG: file {settings.kubeconfig} does not exist")
        return KubernetesConfig(kubeconfig=settings.kubeconfig)
    if DEFAULT_KUBECONFIG.is_file():
        return KubernetesConfig(kubeconfig=DEFAULT_KUBECONFIG)
    return None
