"""Kubernetes Deployments through the official client: read, scale, restart, and wait for a rollout.

The client blocks, so every call goes through `KubernetesClient._call`, the one place that runs it
in a worker thread and turns an `ApiException` into a `ToolError` a person can act on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

import urllib3
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    Configuration,
    V1Deployment,
    V1DeploymentStatus,
    V1Scale,
    VersionApi,
)
from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException, load_incluster_config, new_client_from_config
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from tools.base import Action, ActionArgs, ActionResult, ArgsT, Effect, RollbackStep, ToolError
from tools.toolset import NotConfigured, Toolset, ToolSettings

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"

NamespaceName = Annotated[str, StringConstraints(max_length=63, pattern=rf"^{_DNS1123_LABEL}$")]
ObjectName = Annotated[
    str, StringConstraints(max_length=253, pattern=rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")
]
Replicas = Annotated[int, Field(ge=0, le=1000)]

RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
_KUBE_VERBS = {"GET": "get", "PATCH": "patch", "PUT": "update"}
_MERGE_PATCH = "application/merge-patch+json"
_STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
T = TypeVar("T")


class KubernetesConfig(BaseModel):
    """Where the API server is: a kubeconfig (None: $KUBECONFIG or ~/.kube/config) or in-cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.in_cluster and (self.kubeconfig or self.context):
            raise ValueError("kubernetes: in_cluster cannot be combined with kubeconfig or context")
        return self


class DeploymentArgs(ActionArgs):
    namespace: NamespaceName
    name: ObjectName

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


class ScaleArgs(DeploymentArgs):
    replicas: Replicas


class RolloutStatusArgs(DeploymentArgs):
    timeout_seconds: Annotated[float, Field(gt=0, le=1800)] = 300


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_wait: float = 0.2
    max_wait: float = 5.0


TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, ApiException):
        return int(error.status or 0) in TRANSIENT_STATUSES
    return isinstance(error, urllib3.exceptions.HTTPError)


class KubernetesClient:
    """One `ApiClient` shared by every action; `close()` it when the service stops."""

    def __init__(
        self, api_client: ApiClient, *, request_timeout: float = 30.0, retry: RetryPolicy | None = None
    ) -> None:
        self._api_client = api_client
        self._retry = retry or RetryPolicy()
        self._apps = AppsV1Api(api_client)
        self._request_timeout = request_timeout

    @classmethod
    def from_config(cls, config: KubernetesConfig, *, retry: RetryPolicy | None = None) -> Self:
        try:
            return cls(_api_client(config), retry=retry)
        except (ConfigException, OSError) as error:
            where = "in-cluster service account" if config.in_cluster else _kubeconfig_name(config)
            raise ToolError(f"kubernetes: cannot load {where}: {error}", call="load config") from None

    @property
    def server(self) -> str:
        return str(self._api_client.configuration.host)

    def close(self) -> None:
        self._api_client.close()

    async def server_version(self) -> str:
        """The API server's version, as a start-up check that it is reachable and we may talk to it."""
        api = VersionApi(self._api_client)
        info = await self._call("GET /version", "the API server version", api.get_code)
        return str(info.git_version)

    async def read_deployment(self, args: DeploymentArgs) -> V1Deployment:
        read = partial(self._apps.read_namespaced_deployment, args.name, args.namespace)
        return await self._call(f"GET {_path(args)}", _target(args), read)

    async def read_scale(self, args: DeploymentArgs) -> V1Scale:
        read = partial(self._apps.read_namespaced_deployment_scale, args.name, args.namespace)
        return await self._call(f"GET {_path(args)}/scale", _target(args), read)

    async def patch_scale(self, args: DeploymentArgs, replicas: int, *, dry_run: bool) -> V1Scale:
        patch = partial(
            self._apps.patch_namespaced_deployment_scale,
            args.name,
            args.namespace,
            {"spec": {"replicas": replicas}},
            dry_run=_dry_run(dry_run),
            _content_type=_MERGE_PATCH,
        )
        return await self._call(f"PATCH {_path(args)}/scale", _target(args), patch)

    async def patch_deployment(
        self, args: DeploymentArgs, body: dict[str, Any], *, dry_run: bool
    ) -> V1Deployment:
        patch = partial(
            self._apps.patch_namespaced_deployment,
            args.name,
            args.namespace,
            body,
            dry_run=_dry_run(dry_run),
            _content_type=_STRATEGIC_MERGE_PATCH,
        )
        # Not repeatable: a restart patch that reached the server restarts the pods again.
        return await self._call(f"PATCH {_path(args)}", _target(args), patch, repeatable=False)

    async def _call(self, call: str, target: str, fn: Callable[..., T], *, repeatable: bool = True) -> T:
        """Run one blocking client call in a thread; `call` is "METHOD /path" for the ToolError.

        Transient failures (connection errors, 429, 5xx) are retried with jittered backoff, but only
        for calls that are safe to repeat: reads, and writes that set an absolute value.
        """
        attempts = self._retry.attempts if repeatable else 1
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential_jitter(
                multiplier=self._retry.initial_wait, max=self._retry.max_wait, jitter=self._retry.initial_wait
            ),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        try:
            return await retrying(asyncio.to_thread, fn, _request_timeout=self._request_timeout)
        except ApiException as error:
            raise _tool_error(error, call=call, target=target) from None
        except urllib3.exceptions.HTTPError as error:
            message = f"cannot reach the kubernetes API server at {self.server}: {error}"
            raise ToolError(message, call=call) from None


@dataclass(frozen=True)
class DeploymentState:
    """The facts about a Deployment that a person and a rollout check care about."""

    namespace: str
    name: str
    replicas: int
    current_replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int
    unavailable_replicas: int
    generation: int
    observed_generation: int
    images: list[str]
    # The Progressing condition's message once its progress deadline passed, else "".
    stalled: str

    @classmethod
    def of(cls, deployment: V1Deployment) -> DeploymentState:
        # The API server omits zero counts, and status is absent until the controller writes it.
        status = deployment.status or V1DeploymentStatus()
        stalled = next(
            (
                c.message or c.reason
                for c in status.conditions or []
                if c.reason == "ProgressDeadlineExceeded"
            ),
            "",
        )
        spec = deployment.spec
        return cls(
            namespace=deployment.metadata.namespace,
            name=deployment.metadata.name,
            replicas=spec.replicas if spec.replicas is not None else 1,
            current_replicas=status.replicas or 0,
            updated_replicas=status.updated_replicas or 0,
            ready_replicas=status.ready_replicas or 0,
            available_replicas=status.available_replicas or 0,
            unavailable_replicas=status.unavailable_replicas or 0,
            generation=deployment.metadata.generation or 0,
            observed_generation=status.observed_generation or 0,
            images=[c.image for c in spec.template.spec.containers],
            stalled=stalled,
        )

    @property
    def observed(self) -> bool:
        return self.observed_generation >= self.generation

    @property
    def rolled_out(self) -> bool:
        """kubectl's rule: the controller saw this spec and every replica is new and available."""
        return (
            self.observed
            and self.updated_replicas == self.replicas
            and self.current_replicas == self.updated_replicas
            and self.available_replicas == self.replicas
            and self.unavailable_replicas == 0
        )

    @property
    def availability(self) -> str:
        return f"{self.available_replicas} of {self.replicas} replicas available"


class _DeploymentAction(Action[ArgsT]):
    def __init__(self, client: KubernetesClient) -> None:
        self.client = client


class GetDeployment(_DeploymentAction[DeploymentArgs]):
    name = "kubernetes.get_deployment"
    description = "Show a Deployment's replicas, rollout progress and images."
    args_model = DeploymentArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: DeploymentArgs) -> ActionResult:
        state = DeploymentState.of(await self.client.read_deployment(args))
        summary = f"{args.ref}: {state.availability}, image {', '.join(state.images)}"
        return ActionResult(summary=summary, data=asdict(state))


class ScaleDeployment(_DeploymentAction[ScaleArgs]):
    name = "kubernetes.scale"
    description = "Set a Deployment's replica count."
    args_model = ScaleArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: ScaleArgs) -> ActionResult:
        return await self._scale(args, dry_run=False)

    async def dry_run(self, args: ScaleArgs) -> ActionResult:
        return await self._scale(args, dry_run=True)

    def rollback(self, args: ScaleArgs, result: ActionResult) -> RollbackStep:
        previous = result.data["previous_replicas"]
        return RollbackStep(
            action=self.name,
            args={"namespace": args.namespace, "name": args.name, "replicas": previous},
            description=f"scale {args.ref} back to {previous} replicas",
        )

    async def _scale(self, args: ScaleArgs, *, dry_run: bool) -> ActionResult:
        current = await self.client.read_scale(args)
        # The API server omits spec.replicas when it is zero.
        previous = (current.spec.replicas if current.spec else None) or 0
        await self.client.patch_scale(args, args.replicas, dry_run=dry_run)
        prefix = "dry run: " if dry_run else ""
        return ActionResult(
            summary=f"{prefix}{args.name} replicas {previous} → {args.replicas}",
            data={
                "namespace": args.namespace,
                "name": args.name,
                "previous_replicas": previous,
                "replicas": args.replicas,
            },
        )


class RestartDeployment(_DeploymentAction[DeploymentArgs]):
    """`kubectl rollout restart`: a new pod-template annotation makes the controller replace every pod."""

    name = "kubernetes.rollout_restart"
    description = "Restart every pod of a Deployment with a rolling update."
    args_model = DeploymentArgs
    effect = Effect.WRITE
    timeout_seconds = 60.0

    async def run(self, args: DeploymentArgs) -> ActionResult:
        return await self._restart(args, dry_run=False)

    async def dry_run(self, args: DeploymentArgs) -> ActionResult:
        return await self._restart(args, dry_run=True)

    async def _restart(self, args: DeploymentArgs, *, dry_run: bool) -> ActionResult:
        restarted_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        annotations = {RESTARTED_AT_ANNOTATION: restarted_at}
        body = {"spec": {"template": {"metadata": {"annotations": annotations}}}}
        deployment = await self.client.patch_deployment(args, body, dry_run=dry_run)
        generation = deployment.metadata.generation
        prefix = "dry run: " if dry_run else ""
        return ActionResult(
            summary=f"{prefix}restarted {args.ref} (generation {generation})",
            data={
                "namespace": args.namespace,
                "name": args.name,
                "restarted_at": restarted_at,
                "generation": generation,
            },
        )


class WaitForRollout(_DeploymentAction[RolloutStatusArgs]):
    """`kubectl rollout status` without a watch: re-read the Deployment until it has rolled out."""

    name = "kubernetes.rollout_status"
    description = "Wait until a Deployment's rollout has finished, or fail when it stalls."
    args_model = RolloutStatusArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 1860.0  # above the largest timeout_seconds the args accept

    def __init__(self, client: KubernetesClient, *, poll_seconds: float = 0.5) -> None:
        super().__init__(client)
        self.poll_seconds = poll_seconds

    async def run(self, args: RolloutStatusArgs) -> ActionResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.timeout_seconds
        call = f"GET {_path(args)}"
        while True:
            state = DeploymentState.of(await self.client.read_deployment(args))
            if state.rolled_out:
                summary = f"rollout of {args.ref} finished: {state.availability}"
                return ActionResult(summary=summary, data=asdict(state))
            if state.observed and state.stalled:
                message = f"rollout of {args.ref} exceeded its progress deadline: {state.stalled}"
                raise ToolError(message, call=call)
            remaining = deadline - loop.time()
            if remaining <= 0:
                message = (
                    f"rollout of {args.ref} did not finish within {args.timeout_seconds:g}s: "
                    f"{state.availability}"
                )
                raise ToolError(message, call=call)
            await asyncio.sleep(min(self.poll_seconds, remaining))


def actions(client: KubernetesClient) -> list[Action[Any]]:
    return [
        GetDeployment(client),
        ScaleDeployment(client),
        RestartDeployment(client),
        WaitForRollout(client),
    ]


class KubernetesSettings(ToolSettings):
    """Where the API server is, from the variables kubectl users already set."""

    kubeconfig: Path | None = Field(default=None, alias="KUBECONFIG")
    context: str | None = Field(default=None, alias="KUBE_CONTEXT")
    in_cluster: bool = Field(default=False, alias="KUBE_IN_CLUSTER")
    service_host: str | None = Field(default=None, alias="KUBERNETES_SERVICE_HOST")

    def config(self) -> KubernetesConfig | None:
        """In-cluster when asked, or when running in a pod with no kubeconfig given; then the
        kubeconfig named, then ~/.kube/config; None when there is none of these."""
        if self.in_cluster or (self.kubeconfig is None and self.service_host):
            return KubernetesConfig(in_cluster=True)
        if self.kubeconfig is not None:
            if not self.kubeconfig.is_file():
                raise ToolError(f"KUBECONFIG: file {self.kubeconfig} does not exist", call="configuration")
            return KubernetesConfig(kubeconfig=self.kubeconfig, context=self.context)
        if DEFAULT_KUBECONFIG.is_file():
            return KubernetesConfig(kubeconfig=DEFAULT_KUBECONFIG, context=self.context)
        return None


DEFAULT_KUBECONFIG = Path.home() / ".kube" / "config"


def toolset(environ: Mapping[str, str]) -> Toolset:
    """The `carapulse.tools` entry point: every action shares one client, closed with the toolset."""
    config = KubernetesSettings.model_validate(dict(environ)).config()
    if config is None:
        raise NotConfigured("no kubeconfig (set KUBECONFIG) and not in a cluster")
    client = KubernetesClient.from_config(config)
    return Toolset(
        name="kubernetes",
        actions=actions(client),
        status=f"enabled, API server {client.server}",
        closers=[client.close],
    )


def _api_client(config: KubernetesConfig) -> ApiClient:
    if config.in_cluster:
        # A fresh Configuration, so the library's process-wide default is never touched.
        configuration = Configuration()
        load_incluster_config(client_configuration=configuration)
        return ApiClient(configuration)
    config_file = str(config.kubeconfig) if config.kubeconfig else None
    return new_client_from_config(config_file=config_file, context=config.context, persist_config=False)


def _kubeconfig_name(config: KubernetesConfig) -> str:
    name = f"kubeconfig {config.kubeconfig}" if config.kubeconfig else "the default kubeconfig"
    return f"{name} (context {config.context})" if config.context else name


def _path(args: DeploymentArgs) -> str:
    return f"/apis/apps/v1/namespaces/{args.namespace}/deployments/{args.name}"


def _target(args: DeploymentArgs) -> str:
    return f"deployment {args.ref}"


def _dry_run(dry_run: bool) -> str | None:
    return "All" if dry_run else None


def _tool_error(error: ApiException, *, call: str, target: str) -> ToolError:
    status = int(error.status or 0)
    reason = _status_message(error)
    method = call.split(" ", 1)[0]
    verb = _KUBE_VERBS.get(method, method.lower())
    if status == 404:
        message = f"{target} not found"
    elif status == 409:
        message = f"{target} changed while Carapulse wrote it ({reason}); run the step again"
    elif status in (401, 403):
        message = f"kubernetes denied {verb} on {target}: {reason}"
    elif status in (400, 422):
        message = f"kubernetes rejected {verb} on {target}: {reason}"
    else:
        message = f"kubernetes failed {verb} on {target}: HTTP {status} {reason}"
    return ToolError(message, call=call, status=status or None)


def _status_message(error: ApiException) -> str:
    """The API server's Status message when the body carries one, else the HTTP reason."""
    try:
        body = json.loads(error.body or "")
    except ValueError:
        return str(error.reason)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(error.reason)
