"""Reading Deployments: one, a namespace's, and a `kubectl describe`-style summary with its rollout
history and recent events."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from pydantic import Field

from tools.common.base import ActionResult, Effect
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import DeploymentArgs, LabelSelector, ListLimit, NamespaceArgs
from tools.kubernetes.deployment_state import DeploymentState, revision_of
from tools.kubernetes.events import recent_events
from tools.kubernetes.revisions import history


class GetDeployment(KubernetesAction[DeploymentArgs]):
    name = "kubernetes.get_deployment"
    description = "Show a Deployment's replicas, rollout progress and images."
    args_model = DeploymentArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: DeploymentArgs) -> ActionResult:
        client = await self.client(args)
        state = DeploymentState.of(await client.read_deployment(args.namespace, args.name))
        summary = f"{args.ref}: {state.availability}, image {', '.join(state.images)}"
        return ActionResult(summary=summary, data=asdict(state))


class ListDeploymentsArgs(NamespaceArgs):
    label_selector: LabelSelector | None = None
    limit: ListLimit = 100


class ListDeployments(KubernetesAction[ListDeploymentsArgs]):
    name = "kubernetes.list_deployments"
    description = "List a namespace's Deployments with their ready replicas and images."
    args_model = ListDeploymentsArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: ListDeploymentsArgs) -> ActionResult:
        client = await self.client(args)
        page = await client.list_deployments(
            args.namespace, label_selector=args.label_selector, limit=args.limit
        )
        states = [DeploymentState.of(deployment) for deployment in page.items]
        data = {"deployments": [asdict(state) for state in states], "more": page.more}
        if not states:
            return ActionResult(summary=f"no deployments in {args.namespace}", data=data)
        behind = [f"{s.name} {s.ready}" for s in states if not s.rolled_out]
        count = f"{len(states)}{'+' if page.more else ''} deployments in {args.namespace}"
        detail = f"not rolled out: {', '.join(behind[:5])}" if behind else "all rolled out"
        return ActionResult(summary=f"{count}, {detail}", data=data)


class DeploymentSummaryArgs(DeploymentArgs):
    events: Annotated[int, Field(ge=0, le=50)] = 10


class GetDeploymentSummary(KubernetesAction[DeploymentSummaryArgs]):
    """What `kubectl describe deployment` shows a person deciding what to do: state, conditions,
    revisions with their images, and the newest events."""

    name = "kubernetes.get_deployment_summary"
    description = "Describe a Deployment: replicas, conditions, revisions and its recent events."
    args_model = DeploymentSummaryArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 30.0

    async def run(self, args: DeploymentSummaryArgs) -> ActionResult:
        client = await self.client(args)
        deployment = await client.read_deployment(args.namespace, args.name)
        state = DeploymentState.of(deployment)
        revisions = await history(client, deployment)
        events = await recent_events(
            client, args.namespace, kind="Deployment", name=args.name, limit=args.events
        )
        conditions = [
            {"type": c.type, "status": c.status, "reason": c.reason or "", "message": c.message or ""}
            for c in (deployment.status.conditions if deployment.status else None) or []
        ]
        revision = revision_of(deployment.metadata.annotations)
        strategy = deployment.spec.strategy.type if deployment.spec.strategy else ""
        summary = f"{args.ref} revision {revision}: {state.availability}, image {', '.join(state.images)}"
        if state.stalled:
            summary += f"; stalled: {state.stalled}"
        elif events.items:
            summary += f"; last event: {events.items[0].line()}"
        return ActionResult(
            summary=summary,
            data={
                **asdict(state),
                "revision": revision,
                "strategy": strategy or "",
                "paused": bool(deployment.spec.paused),
                "conditions": conditions,
                "revisions": [r.summary() for r in revisions],
                "events": [asdict(e) for e in events.items],
            },
        )
