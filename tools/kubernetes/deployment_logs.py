"""The recent logs of a Deployment's pods, as `kubectl logs deployment/x` would show them for more
than one pod: the pods that look worst first (not ready, most restarts), a few lines of each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from tools.common.base import ActionResult, Effect
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import DeploymentArgs
from tools.kubernetes.pods import LOG_BYTES_CAP, ContainerName, PodState, log_lines
from tools.kubernetes.selectors import selector_string

if TYPE_CHECKING:
    from tools.kubernetes.client import KubernetesClient

_PODS_LISTED = 100
_SHOWN_LINE_CHARS = 200


class DeploymentLogArgs(DeploymentArgs):
    container: ContainerName | None = None
    tail_lines: Annotated[int, Field(ge=1, le=500)] = 50
    max_pods: Annotated[int, Field(ge=1, le=10)] = 3


class GetDeploymentLogs(KubernetesAction[DeploymentLogArgs]):
    name = "kubernetes.get_deployment_logs"
    description = "Show the last log lines of a Deployment's pods, the unready and restarting ones first."
    args_model = DeploymentLogArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 60.0

    async def run(self, args: DeploymentLogArgs) -> ActionResult:
        client = await self.client(args)
        deployment = await client.read_deployment(args.namespace, args.name)
        selector = selector_string(deployment.spec.selector, owner=f"deployment {args.ref}")
        page = await client.list_pods(args.namespace, label_selector=selector, limit=_PODS_LISTED)
        pods = sorted((PodState.of(pod) for pod in page.items), key=_worst_first)[: args.max_pods]
        # Every pod gets its share of the cap, so one noisy pod cannot crowd out the others.
        share = max(1024, LOG_BYTES_CAP // max(1, len(pods)))
        logs: dict[str, list[str]] = {}
        previous: list[str] = []
        for pod in pods:
            logs[pod.name] = await _lines(client, args, pod.name, share, previous=False)
            # A pod that crashed and restarted has a fresh, often empty log; the crash is in the last run.
            if not logs[pod.name] and pod.restarts:
                logs[pod.name] = await _lines(client, args, pod.name, share, previous=True)
                previous.append(pod.name)
        data = {"selector": selector, "logs": logs, "previous_run": previous}
        return ActionResult(summary=_summary(args, pods, logs), data=data)


async def _lines(
    client: KubernetesClient, args: DeploymentLogArgs, pod: str, cap: int, *, previous: bool
) -> list[str]:
    text = await client.read_pod_log(
        args.namespace,
        pod,
        container=args.container,
        tail_lines=args.tail_lines,
        limit_bytes=cap,
        previous=previous or None,
    )
    return log_lines(text, cap)[0]


def _worst_first(pod: PodState) -> tuple[bool, int, str]:
    return (pod.is_ready, -pod.restarts, pod.name)


def _summary(args: DeploymentLogArgs, pods: list[PodState], logs: dict[str, list[str]]) -> str:
    if not pods:
        return f"deployment {args.ref} has no pods"
    lines = sum(len(pod_lines) for pod_lines in logs.values())
    first = pods[0]
    last = logs[first.name][-1][:_SHOWN_LINE_CHARS] if logs[first.name] else "no output"
    state = "ready" if first.is_ready else first.status
    return f"{lines} log lines from {len(pods)} pod(s) of {args.ref}; {first.name} ({state}): {last}"
