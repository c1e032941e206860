"""`kubectl rollout undo`: put a Deployment's pod template back to an earlier revision's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from tools.common.base import ActionResult, Effect, Rehearsed, RollbackStep, ToolError, Unchanged
from tools.common.pins import require_unmoved
from tools.kubernetes.action import KubernetesAction
from tools.kubernetes.args import DeploymentArgs
from tools.kubernetes.resources import DEPLOYMENTS, JSON_PATCH, REPLICA_SETS
from tools.kubernetes.revisions import Revision, history, restored_annotations, target_revision, template_of

if TYPE_CHECKING:
    from kubernetes.client import V1Deployment

    from tools.kubernetes.client import KubernetesClient


class RollbackArgs(DeploymentArgs):
    """`to_revision` None: the revision before the current one. `expected_revision` is the revision
    the plan saw running when it was made; once another has rolled out, the step refuses."""

    to_revision: Annotated[int, Field(ge=1)] | None = None
    expected_revision: Annotated[int, Field(ge=1)] | None = None


class RolloutRollback(Rehearsed, KubernetesAction[RollbackArgs]):
    name = "kubernetes.rollout_rollback"
    description = "Roll a Deployment back to its previous (or a given) revision's pod template."
    args_model = RollbackArgs
    effect = Effect.WRITE
    timeout_seconds = 60.0

    def rollback(self, args: RollbackArgs, result: ActionResult) -> RollbackStep | None:
        if result.data["skipped"]:
            return None
        previous = result.data["previous_revision"]
        return RollbackStep(
            action=self.name,
            # The undo is not pinned: the controller gives the restored template a new revision number.
            args=args.model_copy(update={"expected_revision": None}).same_target(to_revision=previous),
            description=f"roll {args.ref} forward again to revision {previous}",
        )

    async def apply(self, args: RollbackArgs, *, dry_run: bool) -> ActionResult:
        client = await self.client(args)
        deployment = await client.read_deployment(args.namespace, args.name)
        if deployment.spec.paused:
            call = f"PATCH {DEPLOYMENTS.path(args.namespace, args.name)}"
            raise ToolError(f"deployment {args.ref} is paused; resume it before rolling back", call=call)
        revisions = await history(client, deployment)
        template = template_of(client, deployment)
        # The revision whose template the Deployment has now (its annotation lags until the controller
        # syncs). Without one the rollback of this step could not name where to return to.
        current = next((r.number for r in revisions if r.template == template), None)
        if current is None:
            message = (
                f"no ReplicaSet has the current pod template of {args.ref} yet; run the step again shortly"
            )
            raise ToolError(message, call=f"GET {REPLICA_SETS.path(args.namespace)}")
        call = f"GET {DEPLOYMENTS.path(args.namespace, args.name)}"
        require_unmoved(
            f"deployment {args.ref}'s revision", pinned=args.expected_revision, live=current, call=call
        )
        target = target_revision(revisions, wanted=args.to_revision, ref=args.ref)
        current_images = [c.image for c in deployment.spec.template.spec.containers]
        data = {
            "namespace": args.namespace,
            "name": args.name,
            "previous_revision": current,
            "to_revision": target.number,
            "replica_set": target.replica_set,
            "previous_images": current_images,
            "images": target.images,
        }
        if template == target.template:
            summary = f"skipped: {args.ref} already runs the template of revision {target.number}"
            return Unchanged(summary=summary, data={**data, "skipped": True})
        await self._restore(client, deployment, target, dry_run=dry_run)
        summary = (
            f"rolled {args.ref} back from revision {current} to {target.number} "
            f"(image {', '.join(current_images)} → {', '.join(target.images)})"
        )
        return ActionResult(summary=summary, data={**data, "skipped": False})

    async def _restore(
        self, client: KubernetesClient, deployment: V1Deployment, target: Revision, *, dry_run: bool
    ) -> None:
        """The JSON patch `kubectl rollout undo` sends, plus the resourceVersion read above as a
        precondition: if anyone changed the Deployment since, the server answers 409, not a blind undo."""
        meta = deployment.metadata
        patch = [
            {"op": "replace", "path": "/metadata/resourceVersion", "value": meta.resource_version},
            {"op": "replace", "path": "/spec/template", "value": target.template},
            {"op": "add", "path": "/metadata/annotations", "value": restored_annotations(deployment, target)},
        ]
        await client.patch_deployment(
            meta.namespace, meta.name, patch, dry_run=dry_run, content_type=JSON_PATCH
        )
