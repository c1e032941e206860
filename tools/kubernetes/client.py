"""The one wrapper around the official, blocking Kubernetes client.

Every call goes through `KubernetesClient._call`, the one place that runs it in a worker thread,
retries what is safe to retry, and turns an `ApiException` into a `ToolError` a person can act on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, Self, TypeVar

import urllib3
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    Configuration,
    CoreV1Api,
    CoreV1Event,
    NetworkingV1Api,
    V1Deployment,
    V1Node,
    V1Pod,
    V1ReplicaSet,
    V1Scale,
    VersionApi,
)
from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException, load_incluster_config, new_client_from_config

from tools.common.base import ToolError
from tools.common.retries import RetryPolicy
from tools.kubernetes.config import KubernetesConfig
from tools.kubernetes.errors import api_error, connection_error, is_transient, malformed_answer
from tools.kubernetes.resources import (
    DEPLOYMENTS,
    EVENTS,
    JSON,
    MERGE_PATCH,
    NODES,
    PODS,
    REPLICA_SETS,
    STRATEGIC_MERGE_PATCH,
    Kind,
    Page,
)

T = TypeVar("T")


class KubernetesClient:
    """One `ApiClient` for one cluster, shared by every action; `close()` it when the service stops."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        request_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int = 500,
    ) -> None:
        self._api_client = api_client
        self._retry = retry or RetryPolicy()
        self._page_size = page_size
        self._apps = AppsV1Api(api_client)
        self._core = CoreV1Api(api_client)
        self._networking = NetworkingV1Api(api_client)
        self._request_timeout = request_timeout

    @classmethod
    def from_config(
        cls,
        config: KubernetesConfig,
        *,
        retry: RetryPolicy | None = None,
        request_timeout: float = 30.0,
        page_size: int = 500,
    ) -> Self:
        try:
            return cls(api_client(config), retry=retry, request_timeout=request_timeout, page_size=page_size)
        except (ConfigException, OSError) as error:
            raise ToolError(
                f"kubernetes: cannot load {config.describe()}: {error}", call="load config"
            ) from None

    @property
    def server(self) -> str:
        return str(self._api_client.configuration.host)

    def close(self) -> None:
        self._api_client.close()

    def to_json(self, obj: Any) -> JSON:
        """An API object as the server's JSON (camelCase keys, unset fields left out)."""
        return dict(self._api_client.sanitize_for_serialization(obj) or {})

    async def server_version(self) -> str:
        """The API server's version, as a check that it is reachable and we may talk to it."""
        api = VersionApi(self._api_client)
        info = await self._call("GET /version", "the API server version", api.get_code)
        return str(info.git_version)

    async def read_deployment(self, namespace: str, name: str) -> V1Deployment:
        read = partial(self._apps.read_namespaced_deployment, name, namespace)
        return await self._call(
            f"GET {DEPLOYMENTS.path(namespace, name)}", DEPLOYMENTS.target(namespace, name), read
        )

    async def list_deployments(
        self, namespace: str, *, label_selector: str | None, limit: int
    ) -> Page[V1Deployment]:
        fn = partial(self._apps.list_namespaced_deployment, namespace, label_selector=label_selector)
        return await self._list(DEPLOYMENTS, namespace, fn, max_items=limit)

    async def list_all(self, kind: Kind, namespace: str | None, *, limit: int) -> Page[Any]:
        """Deployments, Services or Ingresses of one namespace, or of every namespace when None."""
        fn = _LISTS[(kind.plural, namespace is None)]
        api = {"deployments": self._apps, "services": self._core, "ingresses": self._networking}[kind.plural]
        call = getattr(api, fn)
        return await self._list(
            kind, namespace, call if namespace is None else partial(call, namespace), max_items=limit
        )

    async def read_scale(self, namespace: str, name: str) -> V1Scale:
        read = partial(self._apps.read_namespaced_deployment_scale, name, namespace)
        path = DEPLOYMENTS.path(namespace, name)
        return await self._call(f"GET {path}/scale", DEPLOYMENTS.target(namespace, name), read)

    async def patch_scale(self, namespace: str, name: str, replicas: int, *, dry_run: bool) -> V1Scale:
        patch = partial(
            self._apps.patch_namespaced_deployment_scale,
            name,
            namespace,
            {"spec": {"replicas": replicas}},
            dry_run=_dry_run(dry_run),
            _content_type=MERGE_PATCH,
        )
        path = DEPLOYMENTS.path(namespace, name)
        return await self._call(f"PATCH {path}/scale", DEPLOYMENTS.target(namespace, name), patch)

    async def patch_deployment(
        self,
        namespace: str,
        name: str,
        body: JSON | list[JSON],
        *,
        dry_run: bool,
        content_type: str = STRATEGIC_MERGE_PATCH,
    ) -> V1Deployment:
        patch = partial(
            self._apps.patch_namespaced_deployment,
            name,
            namespace,
            body,
            dry_run=_dry_run(dry_run),
            _content_type=content_type,
        )
        call = f"PATCH {DEPLOYMENTS.path(namespace, name)}"
        # Not repeatable: a restart patch that reached the server restarts the pods again.
        return await self._call(call, DEPLOYMENTS.target(namespace, name), patch, repeatable=False)

    async def list_replica_sets(self, namespace: str, *, label_selector: str) -> list[V1ReplicaSet]:
        fn = partial(self._apps.list_namespaced_replica_set, namespace, label_selector=label_selector)
        return (await self._list(REPLICA_SETS, namespace, fn, max_items=None)).items

    async def list_pods(self, namespace: str, *, label_selector: str | None, limit: int) -> Page[V1Pod]:
        fn = partial(self._core.list_namespaced_pod, namespace, label_selector=label_selector)
        return await self._list(PODS, namespace, fn, max_items=limit)

    async def read_pod(self, namespace: str, name: str) -> V1Pod:
        read = partial(self._core.read_namespaced_pod, name, namespace)
        return await self._call(f"GET {PODS.path(namespace, name)}", PODS.target(namespace, name), read)

    async def read_pod_log(self, namespace: str, name: str, **options: Any) -> str:
        """`options` are the log endpoint's (container, tail_lines, since_seconds, limit_bytes, previous)."""
        read = partial(self._core.read_namespaced_pod_log, name, namespace, **options)
        call = f"GET {PODS.path(namespace, name)}/log"
        return str(await self._call(call, PODS.target(namespace, name), read))

    async def delete_pod(
        self, namespace: str, name: str, *, dry_run: bool, grace_period_seconds: int | None
    ) -> V1Pod:
        delete = partial(
            self._core.delete_namespaced_pod,
            name,
            namespace,
            dry_run=_dry_run(dry_run),
            grace_period_seconds=grace_period_seconds,
        )
        call = f"DELETE {PODS.path(namespace, name)}"
        # Deleting twice is harmless, but a retry after the first went through answers 404: run it once.
        return await self._call(call, PODS.target(namespace, name), delete, repeatable=False)

    async def list_events(
        self, namespace: str, *, field_selector: str | None, max_items: int
    ) -> Page[CoreV1Event]:
        fn = partial(self._core.list_namespaced_event, namespace, field_selector=field_selector)
        return await self._list(EVENTS, namespace, fn, max_items=max_items)

    async def read_node(self, name: str) -> V1Node:
        read = partial(self._core.read_node, name)
        return await self._call(f"GET {NODES.path(None, name)}", NODES.target(None, name), read)

    async def patch_node(self, name: str, body: JSON, *, dry_run: bool) -> V1Node:
        patch = partial(
            self._core.patch_node, name, body, dry_run=_dry_run(dry_run), _content_type=STRATEGIC_MERGE_PATCH
        )
        # Repeatable: the patch sets an absolute value.
        return await self._call(f"PATCH {NODES.path(None, name)}", NODES.target(None, name), patch)

    async def _list(
        self, kind: Kind, namespace: str | None, fn: Callable[..., Any], *, max_items: int | None
    ) -> Page[Any]:
        """Follow the server's `continue` tokens until `max_items` (None: all) are read."""
        items: list[Any] = []
        token: str | None = None
        call, target = f"GET {kind.path(namespace)}", kind.target(namespace)
        while True:
            want = self._page_size if max_items is None else min(self._page_size, max_items - len(items))
            page = await self._call(call, target, partial(fn, limit=want, _continue=token), verb="list")
            items.extend(page.items or [])
            token = self.to_json(page.metadata).get("continue") or None
            if token is None or (max_items is not None and len(items) >= max_items):
                return Page(items[:max_items] if max_items is not None else items, more=token is not None)

    async def _call(
        self,
        call: str,
        target: str,
        fn: Callable[..., T],
        *,
        repeatable: bool = True,
        verb: str | None = None,
    ) -> T:
        """Run one blocking client call in a thread; `call` is "METHOD /path" for the ToolError.

        Transient failures (connection errors, timeouts, 429, 5xx) are retried with jittered backoff,
        but only for calls that are safe to repeat: reads, and writes that set an absolute value.
        """
        retrying = self._retry.retrying(is_transient, repeatable=repeatable)
        try:
            return await retrying(asyncio.to_thread, fn, _request_timeout=self._request_timeout)
        except ApiException as error:
            raise api_error(error, call=call, target=target, verb=verb) from None
        except urllib3.exceptions.HTTPError as error:
            raise connection_error(
                error, call=call, server=self.server, time_limit=self._request_timeout
            ) from None
        except ValueError as error:  # a 2xx body that is not the JSON object the client expects
            raise malformed_answer(error, call=call, target=target) from None


# The client's list method for (resource, across every namespace).
_LISTS = {
    ("deployments", False): "list_namespaced_deployment",
    ("deployments", True): "list_deployment_for_all_namespaces",
    ("services", False): "list_namespaced_service",
    ("services", True): "list_service_for_all_namespaces",
    ("ingresses", False): "list_namespaced_ingress",
    ("ingresses", True): "list_ingress_for_all_namespaces",
}


def api_client(config: KubernetesConfig) -> ApiClient:
    """A client of its own, never the library's process-wide default, with urllib3's silent retries
    off: `KubernetesClient._call` is the one place that decides what is retried."""
    configuration = Configuration()
    configuration.retries = False
    if config.in_cluster:
        load_incluster_config(client_configuration=configuration)
        return ApiClient(configuration)
    config_file = str(config.kubeconfig) if config.kubeconfig else None
    return new_client_from_config(
        config_file=config_file,
        context=config.context,
        persist_config=False,
        client_configuration=configuration,
    )


def _dry_run(dry_run: bool) -> str | None:
    return "All" if dry_run else None
