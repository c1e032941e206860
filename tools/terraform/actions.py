"""Terraform actions on one stack: plan to a saved file (a read: nothing changes until it is applied),
apply exactly that file, list the state, destroy. Terraform has no inverse of an apply, so no action
here offers a rollback; the plan step is the review."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import StringConstraints

from tools.common.base import Action, ActionArgs, ActionResult, ArgsT, Effect, Rehearsed, RiskHint
from tools.common.wording import count, listing
from tools.terraform.client import PLAN_SUFFIX, SavedPlan, Stack, TerraformClient

_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
# A relative path of plain names: no absolute path, no '..', no hidden directory (the plan store).
StackName = Annotated[str, StringConstraints(max_length=255, pattern=rf"^{_SEGMENT}(/{_SEGMENT})*$")]
WorkspaceName = Annotated[str, StringConstraints(max_length=90, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")]
PlanFileName = Annotated[str, StringConstraints(pattern=rf"^[0-9a-f]{{32}}{re.escape(PLAN_SUFFIX)}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_LONG = 3600.0
_STATE_LIMIT = 500


class StackArgs(ActionArgs):
    stack: StackName
    workspace: WorkspaceName | None = None


class ApplyArgs(StackArgs):
    plan_file: PlanFileName
    plan_sha256: Sha256


class _TerraformAction(Action[ArgsT]):
    def __init__(self, client: TerraformClient) -> None:
        self.client = client

    def _stack(self, args: StackArgs) -> Stack:
        return self.client.stack(args.stack, args.workspace)


class PlanStack(_TerraformAction[StackArgs]):
    name = "terraform.plan"
    description = "Plan a terraform stack to a saved plan file and summarise what applying it would change."
    args_model = StackArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = _LONG

    async def run(self, args: StackArgs) -> ActionResult:
        stack = self._stack(args)
        saved = await self.client.plan(stack)
        return ActionResult(
            summary=f"plan for {stack.label}: {_described(saved)}", data=_plan_data(stack, saved)
        )


class ApplyPlan(Rehearsed, _TerraformAction[ApplyArgs]):
    name = "terraform.apply"
    description = "Apply a saved terraform plan, exactly as planned and approved (checked by its sha256)."
    args_model = ApplyArgs
    effect = Effect.WRITE
    risk = RiskHint.HIGH
    timeout_seconds = _LONG

    async def run(self, args: ApplyArgs) -> ActionResult:
        stack = self._stack(args)
        path = self.client.saved_plan(stack, args.plan_file, args.plan_sha256)
        summary = await self.client.show(stack, path)
        outcome = await self.client.apply(stack, path)
        # Terraform refuses to apply a plan twice; the file has served its purpose.
        path.unlink()
        saved = SavedPlan(path=path, sha256=args.plan_sha256, summary=summary)
        return ActionResult(
            summary=f"applied {stack.label}: {summary.counts}",
            data={**_plan_data(stack, saved), "outcome": outcome},
        )

    async def rehearse(self, args: ApplyArgs) -> ActionResult:
        """Checks the plan file is the approved one and reads it again, changing nothing."""
        stack = self._stack(args)
        path = self.client.saved_plan(stack, args.plan_file, args.plan_sha256)
        saved = SavedPlan(path=path, sha256=args.plan_sha256, summary=await self.client.show(stack, path))
        return ActionResult(
            summary=f"would apply to {stack.label}: {_described(saved)}",
            data=_plan_data(stack, saved),
        )


class ListState(_TerraformAction[StackArgs]):
    name = "terraform.list_state"
    description = "List the resource addresses in a terraform stack's state."
    args_model = StackArgs
    effect = Effect.READ
    idempotent = True
    timeout_seconds = 600.0

    async def run(self, args: StackArgs) -> ActionResult:
        stack = self._stack(args)
        addresses = await self.client.state_list(stack)
        shown = f": {listing(addresses, 4)}" if addresses else ""
        return ActionResult(
            summary=f"{stack.label}: {count(len(addresses), 'resource')} in state{shown}",
            data={
                "stack": stack.name,
                "workspace": stack.workspace,
                "count": len(addresses),
                "addresses": addresses[:_STATE_LIMIT],
            },
        )


class DestroyStack(Rehearsed, _TerraformAction[StackArgs]):
    """`plan -destroy -out=…` then apply that file, so what is destroyed is what the plan listed."""

    name = "terraform.destroy"
    description = "Destroy every resource a terraform stack manages."
    args_model = StackArgs
    effect = Effect.WRITE
    risk = RiskHint.HIGH
    timeout_seconds = 2 * _LONG

    async def run(self, args: StackArgs) -> ActionResult:
        stack = self._stack(args)
        saved = await self.client.plan(stack, destroy=True)
        outcome = await self.client.apply(stack, saved.path)
        saved.path.unlink()
        return ActionResult(
            summary=f"destroyed {stack.label}: {saved.summary.counts}",
            data={**_plan_data(stack, saved), "outcome": outcome},
        )

    async def rehearse(self, args: StackArgs) -> ActionResult:
        stack = self._stack(args)
        saved = await self.client.plan(stack, destroy=True)
        saved.path.unlink()
        return ActionResult(
            summary=f"would destroy in {stack.label}: {_described(saved)}",
            data=_plan_data(stack, saved),
        )


def _described(saved: SavedPlan) -> str:
    summary = saved.summary
    return "no changes" if summary.empty else f"{summary.counts} ({summary.changes()})"


def _plan_data(stack: Stack, saved: SavedPlan) -> dict[str, Any]:
    return {
        "stack": stack.name,
        "workspace": stack.workspace,
        "plan_file": saved.path.name,
        "plan_sha256": saved.sha256,
        **saved.summary.as_data(),
    }
