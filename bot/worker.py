"""The worker: claims queued executions with a lease, runs their steps in order, verifies, rolls
back on failure, and tells an observer (the notifier) about every state change after it is stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Protocol

from bot import executions
from bot.cancellation import Cancelled, CancelWatch
from bot.clock import utcnow
from bot.db.engine import SessionFactory
from bot.db.models import Execution, PlanStep, StepRun
from bot.domain import ExecutionStatus, Resolution, StepStage, StepState
from bot.errors import Conflict
from bot.steps import StepOutcome, rollback_for, run_action
from tools.base import Effect
from tools.registry import Registry, UnknownActionError

log = logging.getLogger(__name__)


class PlanObserver(Protocol):
    def plan_changed(self, team_id: str, plan_id: int) -> None: ...

    def plan_finished(self, team_id: str, plan_id: int) -> None: ...


class LeaseLost(Exception):
    pass


class Worker:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        registry: Registry,
        observer: PlanObserver,
        lease_seconds: float,
        poll_seconds: float,
        execution_timeout_seconds: float = 3600.0,
        cancel_poll_seconds: float = 0.5,
        owner: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._execution_timeout = timedelta(seconds=execution_timeout_seconds)
        self.cancels = CancelWatch(sessions=sessions, poll_seconds=cancel_poll_seconds)
        self._registry = registry
        self._observer = observer
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after an execution is queued in this process, so it starts without waiting a poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        """Work until cancelled; between executions wait for a wake-up, or the poll interval for
        executions queued by other processes."""
        while True:
            if await self.run_once():
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    async def run_once(self) -> bool:
        """Claim and run one execution; False when there was nothing to do."""
        async with self._sessions.begin() as session:
            execution = await executions.claim(session, owner=self.owner, lease_seconds=self._lease_seconds)
        if execution is None:
            return False
        self._observer.plan_changed(execution.team_id, execution.plan_id)
        run = asyncio.create_task(self._execute(execution))
        heartbeat = asyncio.create_task(self._heartbeat(execution.id, run))
        try:
            await run
        except (LeaseLost, asyncio.CancelledError) as exc:
            # A cancel while the heartbeat still runs is our own shutdown, not a lost lease.
            if isinstance(exc, asyncio.CancelledError) and not heartbeat.done():
                raise
            log.warning("lost the lease on execution %s; another worker continues", execution.id)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        return True

    async def _execute(self, execution: Execution) -> None:
        async with self._sessions() as session:
            steps = await executions.plan_steps(session, execution)
            done = {
                (run.stage, run.position): run
                for run in await executions.step_runs(session, execution_id=execution.id)
            }
        if execution.resolution == Resolution.ROLL_BACK:
            await self._abort(execution, _completed_acts(done.values()))
            return
        completed: list[StepRun] = []
        for stage in (StepStage.ACT, StepStage.VERIFY, StepStage.FOLLOW_UP):
            for step in (s for s in steps if s.stage == stage):
                if await self._cancel_requested(execution):
                    await self._skip(execution, _remaining(steps, step))
                    await self._finish(execution, ExecutionStatus.CANCELLED)
                    return
                run = done.get((step.stage, step.position))
                if run is not None and run.status == StepState.RUNNING and not self._rerunnable(step):
                    await self._pause(execution, step, run)
                    return
                if run is None or run.status not in (StepState.SUCCEEDED, StepState.SKIPPED):
                    run, outcome = await self._run_plan_step(execution, step)
                    if outcome.cancelled:
                        await self._skip(execution, _remaining(steps, step)[1:])
                        await self._finish(execution, ExecutionStatus.CANCELLED)
                        return
                    if not outcome.ok and stage == StepStage.FOLLOW_UP:
                        continue  # the change is made and verified; a failed record of it is shown
                    if not outcome.ok:
                        await self._skip(execution, _remaining(steps, step)[1:])
                        await self._fail(execution, completed, step, outcome, stage == StepStage.VERIFY)
                        return
                if step.stage == StepStage.ACT and run.status == StepState.SUCCEEDED:
                    completed.append(run)
        await self._finish(execution, ExecutionStatus.SUCCEEDED)

    async def _run_plan_step(self, execution: Execution, step: PlanStep) -> tuple[StepRun, StepOutcome]:
        return await self._run_step(
            execution,
            StepStage(step.stage),
            step.position,
            step.action,
            step.args,
            step.id,
            cancellable=True,
            step_timeout=step.timeout_seconds,
            rerun_on_rollback=step.rerun_on_rollback,
        )

    async def _pause(self, execution: Execution, step: PlanStep, run: StepRun) -> None:
        """The worker that ran this step died mid-way and the step is not safe to repeat: whether it
        took effect is unknown, so the approvers decide (retry, skip, or abort and roll back)."""
        reason = (
            f"The worker stopped while {step.action} was running; it may or may not have taken effect "
            "and is not safe to repeat blindly. Check the target, then retry, skip, or roll back."
        )
        try:
            async with self._sessions.begin() as session:
                await executions.pause(
                    session, execution_id=execution.id, owner=self.owner, run_id=run.id, reason=reason
                )
        except Conflict as exc:
            raise LeaseLost(str(exc)) from exc
        self._observer.plan_changed(execution.team_id, execution.plan_id)

    async def _abort(self, execution: Execution, completed: Sequence[StepRun]) -> None:
        """Carry out an approver's "roll back": undo the completed act steps, newest first."""
        errors = await self._roll_back(execution, completed)
        if errors:
            left = "; ".join(errors)
            await self._finish(execution, ExecutionStatus.FAILED, f"Rollback failed: {left}")
        else:
            await self._finish(execution, ExecutionStatus.ROLLED_BACK, "Rolled back on request.")

    async def _run_step(
        self,
        execution: Execution,
        stage: StepStage,
        position: int,
        action: str,
        args: dict,
        plan_step_id: int | None,
        *,
        cancellable: bool,
        step_timeout: float | None = None,
        rerun_on_rollback: bool = False,
    ) -> tuple[StepRun, StepOutcome]:
        """Record, run and record again one step.

        Plan steps can be cancelled mid-way and share the execution's deadline; rollback steps
        run to the end, because stopping a rollback half-way leaves the worst state of all.
        """
        async with self._sessions.begin() as session:
            run = await executions.start_step(
                session,
                execution=execution,
                stage=stage,
                position=position,
                action=action,
                args=args,
                plan_step_id=plan_step_id,
            )
        self._observer.plan_changed(execution.team_id, execution.plan_id)
        outcome = (
            await self._run_cancellable(execution, action, args, step_timeout)
            if cancellable
            else await run_action(self._registry, action, args)
        )
        undo = (
            self._undo(action, args, outcome, rerun=rerun_on_rollback)
            if stage == StepStage.ACT and outcome.ok
            else None
        )
        async with self._sessions.begin() as session:
            run = await executions.finish_step(
                session,
                execution=execution,
                run_id=run.id,
                state=StepState.SUCCEEDED if outcome.ok else StepState.FAILED,
                summary=outcome.summary,
                output=outcome.data,
                error=outcome.error,
                undo=undo,
            )
        self._observer.plan_changed(execution.team_id, execution.plan_id)
        return run, outcome

    async def _fail(
        self,
        execution: Execution,
        completed: Sequence[StepRun],
        failed: PlanStep,
        outcome: StepOutcome,
        verify_failed: bool,
    ) -> None:
        """Undo the completed act steps in reverse order.

        A failed verify ends Rolled back when every rollback succeeds; a failed act step ends Failed
        either way, because what was asked for did not happen.
        """
        reason = f"{failed.action} failed: {outcome.error}"
        rollback_errors = await self._roll_back(execution, completed)
        if rollback_errors:
            left = "; ".join(rollback_errors)
            await self._finish(execution, ExecutionStatus.FAILED, f"{reason}. Rollback failed: {left}")
        elif verify_failed and completed:
            await self._finish(execution, ExecutionStatus.ROLLED_BACK, reason)
        else:
            await self._finish(execution, ExecutionStatus.FAILED, reason)

    def _undo(self, action: str, args: dict, outcome: StepOutcome, *, rerun: bool) -> dict | None:
        """The inverse of a step that just succeeded, stored with it so a rollback (even by another
        worker, or hours later on request) runs exactly what was worked out from the prior state.
        A step marked to rerun on rollback is its own undo, run after the others."""
        if rerun:
            return {"action": action, "args": args, "rerun": True}
        try:
            inverse = rollback_for(self._registry, action, args, outcome.summary, outcome.data)
        except Exception:
            log.exception("could not work out the rollback of %s", action)
            return None
        return None if inverse is None else {"action": inverse[0], "args": inverse[1]}

    async def _roll_back(self, execution: Execution, completed: Sequence[StepRun]) -> list[str]:
        """Undo the completed act steps newest first, then run again, in plan order, those marked to
        rerun (restarts, so consumers read what was restored). The reruns wait for every undo to
        succeed: restarting onto a half-restored state helps nobody."""
        undos = [run.undo for run in reversed(completed) if run.undo]
        inverses = [undo for undo in undos if not undo.get("rerun")]
        reruns = [undo for undo in reversed(undos) if undo.get("rerun")]
        errors: list[str] = []
        for position, undo in enumerate(inverses):
            error = await self._run_undo(execution, position, undo)
            if error:
                errors.append(error)
        if errors:
            return errors + [f"{u['action']} {u['args']}: not run again, an undo failed" for u in reruns]
        for position, undo in enumerate(reruns, start=len(inverses)):
            error = await self._run_undo(execution, position, undo)
            if error:
                errors.append(error)
        return errors

    async def _run_undo(self, execution: Execution, position: int, undo: dict) -> str:
        action, args = undo["action"], undo["args"]
        _, outcome = await self._run_step(
            execution, StepStage.ROLLBACK, position, action, args, None, cancellable=False
        )
        return "" if outcome.ok else f"{action} {args}: {outcome.error}"

    async def _run_cancellable(
        self, execution: Execution, action: str, args: dict, step_timeout: float | None
    ) -> StepOutcome:
        started_at = execution.started_at or utcnow()
        time_left = (started_at + self._execution_timeout - utcnow()).total_seconds()
        if step_timeout is not None:
            time_left = min(time_left, step_timeout)
        if time_left <= 0:
            limit = self._execution_timeout.total_seconds()
            return StepOutcome(ok=False, error=f"the execution ran out of time ({limit:g}s)")
        try:
            return await self.cancels.run(
                plan_id=execution.plan_id,
                execution_id=execution.id,
                work=run_action(self._registry, action, args, time_left=time_left),
            )
        except Cancelled:
            return StepOutcome(ok=False, error="cancelled while running", cancelled=True)

    def _rerunnable(self, step: PlanStep) -> bool:
        try:
            action = self._registry.get(step.action)
        except UnknownActionError:
            return False
        return action.idempotent or action.effect == Effect.READ

    async def _skip(self, execution: Execution, steps: Sequence[PlanStep]) -> None:
        if not steps:
            return
        async with self._sessions.begin() as session:
            await executions.skip_steps(session, execution=execution, steps=steps)

    async def _cancel_requested(self, execution: Execution) -> bool:
        async with self._sessions() as session:
            return await executions.is_cancel_requested(session, execution_id=execution.id)

    async def _finish(self, execution: Execution, status: ExecutionStatus, error: str = "") -> None:
        try:
            async with self._sessions.begin() as session:
                await executions.finish(
                    session, execution_id=execution.id, owner=self.owner, status=status, error=error
                )
        except Conflict as exc:
            raise LeaseLost(str(exc)) from exc
        self._observer.plan_finished(execution.team_id, execution.plan_id)

    async def _renew_lease(self, execution_id: int) -> bool:
        async with self._sessions.begin() as session:
            return await executions.renew_lease(
                session, execution_id=execution_id, owner=self.owner, lease_seconds=self._lease_seconds
            )

    async def _heartbeat(self, execution_id: int, run: asyncio.Task[None]) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            # Shielded so that stopping the heartbeat never interrupts a transaction mid-way.
            kept = await asyncio.shield(self._renew_lease(execution_id))
            if not kept:
                run.cancel()
                return


def _completed_acts(runs: Iterable[StepRun]) -> list[StepRun]:
    acts = [r for r in runs if r.stage == StepStage.ACT and r.status == StepState.SUCCEEDED]
    return sorted(acts, key=lambda r: r.position)


def _remaining(steps: Sequence[PlanStep], first: PlanStep) -> list[PlanStep]:
    return [s for s in steps if s.position >= first.position]
