"""Pods: list them as `kubectl get pods -o wide` does, read a container's logs, delete one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from tools.common.base import ActionResult, Effect, Rehearsed, RiskHint
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import LabelSelector, ListLimit, NamespaceArgs, NamespacedArgs, ObjectName
from tools.kubernetes.selectors import selector_string

if TYPE_CHECKING:
    from kubernetes.client import V1Pod

ContainerName = Annotated[str, StringConstraints(max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
# Logs land in the plan thread and the database: enough to diagnose, never a whole log file.
LOG_BYTES_CAP = 64 * 1024
_SHOWN_LINE_CHARS = 200


@dataclass(frozen=True)
class PodState:
    name: str
    status: str
    phase: str
    ready: str
    restarts: int
    node: str
    owner: str

    @classmethod
    def of(cls, pod: V1Pod) -> PodState:
        statuses = (pod.status.container_statuses if pod.status else None) or []
        containers = pod.spec.containers if pod.spec else []
        return cls(
            name=pod.metadata.name,
            status=_status(pod),
            phase=(pod.status.phase if pod.status else None) or "Unknown",
            ready=f"{sum(1 for s in statuses if s.ready)}/{len(containers)}",
            restarts=sum(s.restart_count or 0 for s in statuses),
            node=(pod.spec.node_name if pod.spec else None) or "",
            owner=_controller(pod),
        )

    @property
    def is_ready(self) -> bool:
        done, total = self.ready.split("/")
        return done == total and total != "0"


class ListPodsArgs(NamespaceArgs):
    """Pods of one Deployment (its selector), or matching a label selector, or the whole namespace."""

    deployment: ObjectName | None = None
    label_selector: LabelSelector | None = None
    limit: ListLimit = 100

    @model_validator(mode="after")
    def _one_filter(self) -> Self:
        if self.deployment is not None and self.label_selector is not None:
            raise ValueError("give deployment or label_selector, not both")
        return self


class ListPods(KubernetesAction[ListPodsArgs]):
    name = "kubernetes.list_pods"
    description = "List pods with their status, readiness, restarts and node."
    args_model = ListPodsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: ListPodsArgs) -> ActionResult:
        client = await self.client(args)
        selector = args.label_selector
        if args.deployment is not None:
            deployment = await client.read_deployment(args.namespace, args.deployment)
            owner = f"deployment {args.namespace}/{args.deployment}"
            selector = selector_string(deployment.spec.selector, owner=owner)
        page = await client.list_pods(args.namespace, label_selector=selector, limit=args.limit)
        pods = [PodState.of(pod) for pod in page.items]
        where = f"{args.namespace} ({selector})" if selector else args.namespace
        data = {"selector": selector or "", "pods": [asdict(p) for p in pods], "more": page.more}
        return ActionResult(summary=_pods_summary(pods, where, more=page.more), data=data)


class PodLogArgs(NamespacedArgs):
    """`container` may be left out for a single-container pod; `previous` reads the last crashed run."""

    container: ContainerName | None = None
    tail_lines: Annotated[int, Field(ge=1, le=1000)] = 100
    since_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] | None = None
    previous: bool = False


class GetPodLogs(KubernetesAction[PodLogArgs]):
    name = "kubernetes.get_pod_logs"
    description = "Show the last lines of a pod container's log (capped at 1000 lines and 64 KiB)."
    args_model = PodLogArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: PodLogArgs) -> ActionResult:
        client = await self.client(args)
        text = await client.read_pod_log(
            args.namespace,
            args.name,
            container=args.container,
            tail_lines=args.tail_lines,
            since_seconds=args.since_seconds,
            previous=args.previous or None,
            limit_bytes=LOG_BYTES_CAP,
        )
        lines, truncated = log_lines(text, LOG_BYTES_CAP)
        container = f" container {args.container}" if args.container else ""
        source = f"{'previous run of ' if args.previous else ''}pod {args.ref}{container}"
        last = f", last: {lines[-1][:_SHOWN_LINE_CHARS]}" if lines else ""
        return ActionResult(
            summary=f"{len(lines)} log lines from {source}{last}",
            data={"lines": lines, "truncated": truncated},
        )


def log_lines(text: str, cap: int) -> tuple[list[str], bool]:
    """The complete lines of a log read with `limitBytes=cap`, and whether the cap cut it short
    (a line the cap cut in half is left out)."""
    truncated = len(text.encode()) >= cap
    lines = text.splitlines()
    if truncated and not text.endswith("\n"):
        lines = lines[:-1]
    return lines, truncated


class DeletePodArgs(NamespacedArgs):
    grace_period_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None


class DeletePod(Rehearsed, KubernetesAction[DeletePodArgs]):
    """No rollback: a deleted pod cannot come back, but its controller (a ReplicaSet) makes a new one."""

    name = "kubernetes.delete_pod"
    description = "Delete a pod, so its controller replaces it."
    args_model = DeletePodArgs
    effect = Effect.WRITE
    risk = RiskHint.HIGH
    timeout_seconds = 60.0

    async def apply(self, args: DeletePodArgs, *, dry_run: bool) -> ActionResult:
        client = await self.client(args)
        pod = PodState.of(await client.read_pod(args.namespace, args.name))
        await client.delete_pod(
            args.namespace, args.name, dry_run=dry_run, grace_period_seconds=args.grace_period_seconds
        )
        where = f" on {pod.node}" if pod.node else ""
        then = f"its {pod.owner} replaces it" if pod.owner else "it has no controller, so nothing replaces it"
        return ActionResult(
            summary=f"deleted pod {args.ref}{where}; {then}",
            data={"namespace": args.namespace, **asdict(pod)},
        )


def _pods_summary(pods: list[PodState], where: str, *, more: bool) -> str:
    if not pods:
        return f"no pods in {where}"
    ready = sum(1 for pod in pods if pod.is_ready)
    restarts = sum(pod.restarts for pod in pods)
    count = f"{len(pods)}{'+' if more else ''} pods in {where}: {ready} ready, {restarts} restarts"
    unready = [f"{pod.name} {pod.status}" for pod in pods if not pod.is_ready][:3]
    return f"{count}; not ready: {', '.join(unready)}" if unready else count


def _status(pod: V1Pod) -> str:
    """kubectl's STATUS column: Terminating, else a container's waiting or terminated reason,
    else the phase."""
    if pod.metadata.deletion_timestamp is not None:
        return "Terminating"
    for status in (pod.status.container_statuses if pod.status else None) or []:
        state = status.state
        if state and state.waiting and state.waiting.reason:
            return str(state.waiting.reason)
        if state and state.terminated and state.terminated.reason:
            return str(state.terminated.reason)
    return (pod.status.phase if pod.status else None) or "Unknown"


def _controller(pod: V1Pod) -> str:
    owner = next((o for o in pod.metadata.owner_references or [] if o.controller), None)
    return f"{owner.kind} {owner.name}" if owner else ""
