"""Changing how many pods a Deployment runs and replacing them: scale, rollout restart, and waiting for
the rollout to finish."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from tools.common.base import ActionResult, Effect, Rehearsed, RollbackStep, ToolError
from tools.common.polling import until
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import DeploymentArgs, Replicas
from tools.kubernetes.clusters import Clusters
from tools.kubernetes.deployment_state import DeploymentState
from tools.kubernetes.resources import DEPLOYMENTS

RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"


class ScaleArgs(DeploymentArgs):
    replicas: Replicas


class RolloutStatusArgs(DeploymentArgs):
    timeout_seconds: Annotated[float, Field(gt=0, le=1800)] = 300


class ScaleDeployment(Rehearsed, KubernetesAction[ScaleArgs]):
    name = "kubernetes.scale"
    description = "Set a Deployment's replica count."
    args_model = ScaleArgs
    effect = Effect.WRITE
    idempotent = True
    timeout_seconds = 60.0

    def rollback(self, args: ScaleArgs, result: ActionResult) -> RollbackStep:
        previous = result.data["previous_replicas"]
        return RollbackStep(
            action=self.name,
            args=args.same_target(replicas=previous),
            description=f"scale {args.ref} back to {previous} replicas",
        )

    async def apply(self, args: ScaleArgs, *, dry_run: bool) -> ActionResult:
        client = await self.client(args)
        current = await client.read_scale(args.namespace, args.name)
        # The API server omits spec.replicas when it is zero.
        previous = (current.spec.replicas if current.spec else None) or 0
        await client.patch_scale(args.namespace, args.name, args.replicas, dry_run=dry_run)
        return ActionResult(
            summary=f"{args.name} replicas {previous} → {args.replicas}",
            data={
                "namespace": args.namespace,
                "name": args.name,
                "previous_replicas": previous,
                "replicas": args.replicas,
            },
        )


class RestartDeployment(Rehearsed, KubernetesAction[DeploymentArgs]):
    """`kubectl rollout restart`: a new pod-template annotation makes the controller replace every pod."""

    name = "kubernetes.rollout_restart"
    description = "Restart every pod of a Deployment with a rolling update."
    args_model = DeploymentArgs
    effect = Effect.WRITE
    timeout_seconds = 60.0

    async def apply(self, args: DeploymentArgs, *, dry_run: bool) -> ActionResult:
        # Finer than kubectl's seconds: a second restart within the same second (a rollback that
        # restarts consumers again) must still change the template, or no pod is replaced.
        restarted_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        annotations = {RESTARTED_AT_ANNOTATION: restarted_at}
        body = {"spec": {"template": {"metadata": {"annotations": annotations}}}}
        client = await self.client(args)
        deployment = await client.patch_deployment(args.namespace, args.name, body, dry_run=dry_run)
        generation = deployment.metadata.generation
        return ActionResult(
            summary=f"restarted {args.ref} (generation {generation})",
            data={
                "namespace": args.namespace,
                "name": args.name,
                "restarted_at": restarted_at,
                "generation": generation,
            },
        )


class WaitForRollout(KubernetesAction[RolloutStatusArgs]):
    """`kubectl rollout status` without a watch: re-read the Deployment until it has rolled out."""

    name = "kubernetes.rollout_status"
    description = "Wait until a Deployment's rollout has finished, or fail when it stalls."
    args_model = RolloutStatusArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 1860.0  # above the largest timeout_seconds the args accept

    def __init__(self, clusters: Clusters, *, poll_seconds: float = 0.5) -> None:
        super().__init__(clusters)
        self.poll_seconds = poll_seconds

    async def run(self, args: RolloutStatusArgs) -> ActionResult:
        client = await self.client(args)
        call = f"GET {DEPLOYMENTS.path(args.namespace, args.name)}"

        async def read() -> DeploymentState:
            return DeploymentState.of(await client.read_deployment(args.namespace, args.name))

        state, _ = await until(
            read,
            lambda s: s.rolled_out or _stalled(s),
            time_limit=args.timeout_seconds,
            poll_seconds=self.poll_seconds,
        )
        if state.rolled_out:
            summary = f"rollout of {args.ref} finished: {state.availability}"
            return ActionResult(summary=summary, data=asdict(state))
        if _stalled(state):
            message = f"rollout of {args.ref} exceeded its progress deadline: {state.stalled}"
            raise ToolError(message, call=call)
        message = (
            f"rollout of {args.ref} did not finish within {args.timeout_seconds:g}s: {state.availability}"
        )
        raise ToolError(message, call=call)


def _stalled(state: DeploymentState) -> bool:
    return state.observed and bool(state.stalled)
