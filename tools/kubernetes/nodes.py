"""Cordon and uncordon a node (`spec.unschedulable`); each is the other's rollback. Pods already on the
node keep running either way: cordoning only keeps new pods off it."""

from __future__ import annotations

from typing import ClassVar

from tools.common.base import ActionResult, Effect, Rehearsed, RiskHint, RollbackStep, Unchanged
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import ClusterArgs, ObjectName


class NodeArgs(ClusterArgs):
    name: ObjectName


class _SetSchedulable(Rehearsed, KubernetesAction[NodeArgs]):
    """Reads the node first, so the rollback restores what it was, and a node already in the wanted
    state is left alone with no rollback."""

    args_model = NodeArgs
    effect = Effect.WRITE
    risk = RiskHint.MEDIUM
    idempotent = True
    timeout_seconds = 30.0
    unschedulable: ClassVar[bool]
    verb: ClassVar[str]
    inverse: ClassVar[str]
    inverse_verb: ClassVar[str]

    def rollback(self, args: NodeArgs, result: ActionResult) -> RollbackStep | None:
        if result.data["previous_unschedulable"] == self.unschedulable:
            return None
        return RollbackStep(
            action=self.inverse, args=args.same_target(), description=f"{self.inverse_verb} node {args.name}"
        )

    async def apply(self, args: NodeArgs, *, dry_run: bool) -> ActionResult:
        client = await self.client(args)
        node = await client.read_node(args.name)
        previous = bool(node.spec and node.spec.unschedulable)
        data = {"name": args.name, "previous_unschedulable": previous, "unschedulable": self.unschedulable}
        if previous == self.unschedulable:
            return Unchanged(summary=f"node {args.name} is already {self.verb}ed", data=data)
        await client.patch_node(args.name, {"spec": {"unschedulable": self.unschedulable}}, dry_run=dry_run)
        return ActionResult(summary=f"{self.verb}ed node {args.name}", data=data)


class CordonNode(_SetSchedulable):
    name = "kubernetes.node_cordon"
    description = "Mark a node unschedulable, so no new pods are placed on it."
    unschedulable = True
    verb = "cordon"
    inverse = "kubernetes.node_uncordon"
    inverse_verb = "uncordon"


class UncordonNode(_SetSchedulable):
    name = "kubernetes.node_uncordon"
    description = "Mark a node schedulable again."
    unschedulable = False
    verb = "uncordon"
    inverse = CordonNode.name
    inverse_verb = "cordon"
