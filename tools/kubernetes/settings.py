"""Which clusters the tool may act on, from the variables kubectl users already set plus KUBE_CONTEXTS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, field_validator

from tools.common.base import ToolError
from tools.common.toolset import NotConfigured, ToolSettings, read_settings
from tools.kubernetes.config import KubernetesConfig

IN_CLUSTER = "in-cluster"


@dataclass(frozen=True)
class ClusterChoice:
    """The allowed clusters by name, and the one an action without `cluster` acts on."""

    configs: dict[str, KubernetesConfig]
    default: str
    where: str


class KubernetesSettings(ToolSettings):
    kubeconfig: Path | None = Field(default=None, alias="KUBECONFIG")
    context: str | None = Field(default=None, alias="KUBE_CONTEXT")
    contexts: tuple[str, ...] = Field(default=(), alias="KUBE_CONTEXTS")
    in_cluster: bool = Field(default=False, alias="KUBE_IN_CLUSTER")
    service_host: str | None = Field(default=None, alias="KUBERNETES_SERVICE_HOST")

    @field_validator("contexts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
        if value.strip() and not names:
            raise ValueError("lists no context names; give them comma-separated, or unset it")
        return names

    def choice(self) -> ClusterChoice:
        """In-cluster when asked, or when running in a pod with no kubeconfig given; then the
        kubeconfig named, then ~/.kube/config. NotConfigured when there is none of these."""
        if self.in_cluster or (self.kubeconfig is None and self.service_host):
            if self.contexts:
                raise _error("KUBE_CONTEXTS", "names kubeconfig contexts, but the tool runs in-cluster")
            return ClusterChoice({IN_CLUSTER: KubernetesConfig(in_cluster=True)}, IN_CLUSTER, IN_CLUSTER)
        if self.kubeconfig is not None:
            if not self.kubeconfig.is_file():
                raise _error("KUBECONFIG", f"file {self.kubeconfig} does not exist")
            return self._from_kubeconfig(self.kubeconfig)
        default = default_kubeconfig()
        if default.is_file():
            return self._from_kubeconfig(default)
        raise NotConfigured("no kubeconfig (set KUBECONFIG) and not in a cluster")

    def _from_kubeconfig(self, path: Path) -> ClusterChoice:
        known, current = _kubeconfig_contexts(path)
        default = self.context or current
        if default is None:
            raise _error("KUBE_CONTEXT", f"kubeconfig {path} has no current-context; name one")
        allowed = self.contexts or (default,)
        for variable, names in (("KUBE_CONTEXT", (default,)), ("KUBE_CONTEXTS", allowed)):
            for name in names:
                if name not in known:
                    raise _error(
                        variable, f"context {name!r} is not in kubeconfig {path} ({', '.join(known)})"
                    )
        if default not in allowed:
            message = f"does not include the default context {default!r}; add it or set KUBE_CONTEXT to one"
            raise _error("KUBE_CONTEXTS", message)
        configs = {name: KubernetesConfig(kubeconfig=path, context=name) for name in allowed}
        return ClusterChoice(configs, default, f"kubeconfig {path}")


def default_kubeconfig() -> Path:
    """kubectl's default, ~/.kube/config, looked up when the settings are read (HOME may change)."""
    return Path.home() / ".kube" / "config"


def read(environ: Mapping[str, str]) -> ClusterChoice:
    """KUBECONFIG, KUBE_CONTEXT(S) or KUBE_IN_CLUSTER may each switch the tool on, so `choice()`
    says when none does."""
    return read_settings("kubernetes", KubernetesSettings, environ, required=None).choice()


def _kubeconfig_contexts(path: Path) -> tuple[list[str], str | None]:
    """The context names a kubeconfig defines and its current-context, read without connecting."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise _error("KUBECONFIG", f"cannot read {path}: {_one_line(error)}") from None
    if not isinstance(raw, dict):
        raise _error("KUBECONFIG", f"{path} is not a kubeconfig")
    contexts = raw.get("contexts") or []
    names = [str(c["name"]) for c in contexts if isinstance(c, dict) and c.get("name")]
    current = raw.get("current-context")
    return names, str(current) if current else None


def _one_line(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(error).splitlines()[0]


def _error(variable: str, message: str) -> ToolError:
    return ToolError(f"kubernetes: {variable}: {message}", call="configuration")
