"""The worker: claims queued executions with a lease, runs their steps in order, verifies, rolls
back on failure, and tells an observer (the notifier) about every state change after it is stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Iterable, Sequence
from datetime import timedelta
from typing import TypeVar

from bot import executions, log_context, metrics
from bot.cancellation import Cancelled, CancelWatch
from bot.clock import utcnow
from bot.db.engine import SessionFactory, atomic, bound_engine
from bot.db.held_connection import HeldConnection
from bot.domain import ExecutionStatus, Resolution, StepStage, StepState
from bot.errors import Conflict
from bot.executions import Lease, PlannedStep, RecordedRun
from bot.observers import PlanObserver
from bot.steps import StepOutcome, rollback_for, run_action
from tools.common.base import Action, Effect
from tools.common.registry import Registry, UnknownActionError

log = logging.getLogger(__name__)

T = TypeVar("T")

# A held connection used less than this long ago is taken as alive; older, it is pinged afresh.
HELD_CONNECTION_IDLE_SECONDS = 1.0


class LeaseLost(Exception):
    pass


class Stopping(Exception):
    """Raised between two steps once the worker is told to stop: the execution is handed back."""


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
        # The steps' writes go through one held connection; the heartbeat and the cancel watch
        # take their own from the pool, as they run beside the steps.
        self._connection = HeldConnection(bound_engine(sessions), idle_seconds=HELD_CONNECTION_IDLE_SECONDS)
        self._execution_timeout = timedelta(seconds=execution_timeout_seconds)
        self.cancels = CancelWatch(sessions=sessions, poll_seconds=cancel_poll_seconds)
        self._registry = registry
        self._observer = observer
        self._lease_seconds = lease_seconds
        self._poll_seconds = poll_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._stopping = False
        # time.monotonic() of the last sign of life of the loop (None until it runs): readiness
        # (bot/readiness.py) calls the worker stuck when this grows older than `stale_after`.
        self.last_alive: float | None = None

    @property
    def stale_after(self) -> float:
        """Seconds without a sign of life after which the loop counts as stuck: it shows one at
        least every poll between executions and every lease renewal during one."""
        return 3 * max(self._poll_seconds, self._lease_seconds / 3) + 1

    def _alive(self) -> None:
        self.last_alive = time.monotonic()
        metrics.WORKER_HEARTBEAT.set(time.time())

    def wake(self) -> None:
        """Called after an execution is queued in this process, so it starts without waiting a poll."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more, and stop the execution in hand once its running step is recorded:
        `run_forever` then returns, and `release_leases` lets another worker go on with it."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        """Work until stopped (or cancelled); between executions wait for a wake-up, or the poll
        interval for executions queued by other processes."""
        while not self._stopping:
            self._alive()
            if await self.drain():
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    async def release_leases(self) -> int:
        """Hand back what this worker still holds, so another worker claims it now rather than once
        the lease runs out; how many executions were handed back."""
        async with self._sessions.begin() as session:
            released = await executions.release_leases(session, owner=self.owner)
        for execution_id in released:
            log.info("handed execution %s back for another worker to go on with", execution_id)
        return len(released)

    async def drain(self) -> int:
        """Run executions one after another until none is left to claim (or the worker is
        stopped); how many ran."""
        ran = 0
        try:
            while not self._stopping and await self._run_next():
                ran += 1
        finally:
            await self._connection.release()
        return ran

    async def run_once(self) -> bool:
        """Claim and run one execution; False when there was nothing to do."""
        try:
            return await self._run_next()
        finally:
            await self._connection.release()

    async def _run_next(self) -> bool:
        self._alive()
        conn = await self._connection.get()
        try:
            # atomic, not begin: the held connection may have been left autocommitting.
            async with atomic(conn):
                lease = await executions.claim(conn, owner=self.owner, lease_seconds=self._lease_seconds)
                if lease is not None:
                    steps = await executions.plan_steps(conn, lease)
                    runs = await executions.recorded_runs(conn, lease)
        except BaseException:
            await self._connection.release(broken=True)
            raise
        if lease is None:
            return False
        with log_context.bound(plan_id=lease.plan_id, execution_id=lease.execution_id):
            await self._run_leased(lease, steps, runs)
        return True

    async def _run_leased(
        self, lease: Lease, steps: Sequence[PlannedStep], runs: Sequence[RecordedRun]
    ) -> None:
        log.info(
            "running execution %s of plan %s (attempt %s)", lease.execution_id, lease.plan_id, lease.attempt
        )
        self._observer.plan_changed(lease.team_id, lease.plan_id)
        run = asyncio.create_task(self._execute(lease, steps, runs))
        heartbeat = asyncio.create_task(self._heartbeat(lease.execution_id, run))
        metrics.WORKER_LEASES_HELD.inc()
        try:
            await run
        except Stopping:
            log.info("stopping after a step of execution %s", lease.execution_id)
        except (LeaseLost, asyncio.CancelledError) as exc:
            # A cancel while the heartbeat still runs is our own shutdown, not a lost lease.
            if isinstance(exc, asyncio.CancelledError) and not heartbeat.done():
                raise
            log.warning("lost the lease on execution %s; another worker continues", lease.execution_id)
        finally:
            metrics.WORKER_LEASES_HELD.dec()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if not _ended_between_statements(run):
                await self._connection.release(broken=True)

    async def _execute(self, lease: Lease, steps: Sequence[PlannedStep], runs: Sequence[RecordedRun]) -> None:
        done = {(run.stage, run.position): run for run in runs}
        if lease.resolution == Resolution.ROLL_BACK:
            await self._abort(lease, _completed_undos(runs))
            return
        ordered = [s for stage in _RUN_ORDER for s in steps if s.stage == stage]
        last = ordered[-1] if ordered else None
        completed: list[dict | None] = []
        for stage in _RUN_ORDER:
            for step in (s for s in ordered if s.stage == stage):
                if self._stopping:
                    raise Stopping
                # Read by the claim and refreshed by every finished step: the check between steps.
                if lease.cancel_requested:
                    await self._skip(lease, _remaining(steps, step))
                    await self._finish(lease, ExecutionStatus.CANCELLED)
                    return
                run = done.get((step.stage, step.position))
                if run is not None and run.status == StepState.RUNNING and not self._rerunnable(step):
                    await self._pause(lease, step)
                    return
                state, undo = (StepState(run.status), run.undo) if run is not None else (None, None)
                if state not in (StepState.SUCCEEDED, StepState.SKIPPED):
                    outcome, undo, ended = await self._run_plan_step(lease, step, last=step is last)
                    if ended:
                        return
                    if outcome.cancelled:
                        await self._skip(lease, _remaining(steps, step)[1:])
                        await self._finish(lease, ExecutionStatus.CANCELLED)
                        return
                    if not outcome.ok and stage == StepStage.FOLLOW_UP:
                        continue  # the change is made and verified; a failed record of it is shown
                    if not outcome.ok:
                        await self._skip(lease, _remaining(steps, step)[1:])
                        await self._fail(lease, completed, step, outcome, stage == StepStage.VERIFY)
                        return
                    state = StepState.SUCCEEDED
                if step.stage == StepStage.ACT and state == StepState.SUCCEEDED:
                    completed.append(undo)
        await self._finish(lease, ExecutionStatus.SUCCEEDED)

    async def _run_plan_step(
        self, lease: Lease, step: PlannedStep, *, last: bool
    ) -> tuple[StepOutcome, dict | None, bool]:
        return await self._run_step(
            lease,
            StepStage(step.stage),
            step.position,
            step.action,
            step.args,
            step.id,
            cancellable=True,
            step_timeout=step.timeout_seconds,
            rerun_on_rollback=step.rerun_on_rollback,
            last=last,
        )

    async def _pause(self, lease: Lease, step: PlannedStep) -> None:
        """The worker that ran this step died mid-way and the step is not safe to repeat: whether it
        took effect is unknown, so the approvers decide (retry, skip, or abort and roll back)."""
        reason = (
            f"The worker stopped while {step.action} was running; it may or may not have taken effect "
            "and is not safe to repeat blindly. Check the target, then retry, skip, or roll back."
        )
        await self._write(executions.pause(await self._connection.get(), lease, step=step, reason=reason))
        self._observer.plan_changed(lease.team_id, lease.plan_id)

    async def _abort(self, lease: Lease, completed: Sequence[dict | None]) -> None:
        """Carry out an approver's "roll back": undo the completed act steps, newest first."""
        errors = await self._roll_back(lease, completed)
        if errors:
            left = "; ".join(errors)
            await self._finish(lease, ExecutionStatus.FAILED, f"Rollback failed: {left}")
        else:
            await self._finish(lease, ExecutionStatus.ROLLED_BACK, "Rolled back on request.")

    async def _run_step(
        self,
        lease: Lease,
        stage: StepStage,
        position: int,
        action: str,
        args: dict,
        plan_step_id: int | None,
        *,
        cancellable: bool,
        step_timeout: float | None = None,
        rerun_on_rollback: bool = False,
        last: bool = False,
    ) -> tuple[StepOutcome, dict | None, bool]:
        """Record, run and record again one step; its outcome, the undo stored with it, and whether
        recording it ended the execution (the plan's `last` step, succeeded).

        Plan steps can be cancelled mid-way and share the execution's deadline; rollback steps
        run to the end, because stopping a rollback half-way leaves the worst state of all.

        The records of a read-only step (and the execution's end with the last one) do not wait
        for the disk (bot.audited_writes). A database crash that lost them takes the execution back
        to before the step, as if this worker had died there, and the step runs again, as it would
        after a worker crash, with no change in the world to account for. The records of a step
        that changes something wait, and flush all that was committed before them: no change is
        made on top of history the database could still lose.
        """
        synchronous = not self._reads_only(action)
        started = executions.start_step(
            await self._connection.get(),
            lease,
            stage=stage,
            position=position,
            action=action,
            args=args,
            plan_step_id=plan_step_id,
            synchronous=synchronous,
        )
        await self._write(started)
        self._observer.plan_changed(lease.team_id, lease.plan_id)
        began = time.perf_counter()
        outcome = (
            await self._run_cancellable(lease, action, args, step_timeout)
            if cancellable
            else await run_action(self._registry, action, args)
        )
        _observe_step(stage, action, outcome, time.perf_counter() - began)
        undo = (
            self._undo(action, args, outcome, rerun=rerun_on_rollback)
            if stage == StepStage.ACT and outcome.ok
            else None
        )
        finished = executions.finish_step(
            await self._connection.get(),
            lease,
            stage=stage,
            position=position,
            action=action,
            state=StepState.SUCCEEDED if outcome.ok else StepState.FAILED,
            summary=outcome.summary,
            output=outcome.data,
            error=outcome.error,
            undo=undo,
            last=last,
            synchronous=synchronous,
        )
        ended = await self._write(finished)
        if ended:
            _ended(lease, ExecutionStatus.SUCCEEDED)
            self._observer.plan_finished(lease.team_id, lease.plan_id)
        else:
            self._observer.plan_changed(lease.team_id, lease.plan_id)
        return outcome, undo, ended

    async def _fail(
        self,
        lease: Lease,
        completed: Sequence[dict | None],
        failed: PlannedStep,
        outcome: StepOutcome,
        verify_failed: bool,
    ) -> None:
        """Undo the completed act steps in reverse order.

        A failed verify ends Rolled back when every rollback succeeds; a failed act step ends Failed
        either way, because what was asked for did not happen.
        """
        reason = f"{failed.action} failed: {outcome.error}"
        rollback_errors = await self._roll_back(lease, completed)
        if rollback_errors:
            left = "; ".join(rollback_errors)
            await self._finish(lease, ExecutionStatus.FAILED, f"{reason}. Rollback failed: {left}")
        elif verify_failed and completed:
            await self._finish(lease, ExecutionStatus.ROLLED_BACK, reason)
        else:
            await self._finish(lease, ExecutionStatus.FAILED, reason)

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

    async def _roll_back(self, lease: Lease, completed: Sequence[dict | None]) -> list[str]:
        """Undo the completed act steps newest first, then run again, in plan order, those marked to
        rerun (restarts, so consumers read what was restored). The reruns wait for every undo to
        succeed: restarting onto a half-restored state helps nobody."""
        undos = [undo for undo in reversed(completed) if undo]
        inverses = [undo for undo in undos if not undo.get("rerun")]
        reruns = [undo for undo in reversed(undos) if undo.get("rerun")]
        errors: list[str] = []
        for position, undo in enumerate(inverses):
            error = await self._run_undo(lease, position, undo)
            if error:
                errors.append(error)
        if errors:
            return errors + [f"{u['action']} {u['args']}: not run again, an undo failed" for u in reruns]
        for position, undo in enumerate(reruns, start=len(inverses)):
            error = await self._run_undo(lease, position, undo)
            if error:
                errors.append(error)
        return errors

    async def _run_undo(self, lease: Lease, position: int, undo: dict) -> str:
        action, args = undo["action"], undo["args"]
        outcome, _, _ = await self._run_step(
            lease, StepStage.ROLLBACK, position, action, args, None, cancellable=False
        )
        return "" if outcome.ok else f"{action} {args}: {outcome.error}"

    async def _run_cancellable(
        self, lease: Lease, action: str, args: dict, step_timeout: float | None
    ) -> StepOutcome:
        time_left = (lease.started_at + self._execution_timeout - utcnow()).total_seconds()
        if step_timeout is not None:
            time_left = min(time_left, step_timeout)
        if time_left <= 0:
            limit = self._execution_timeout.total_seconds()
            return StepOutcome(ok=False, error=f"the execution ran out of time ({limit:g}s)")
        try:
            return await self.cancels.run(
                plan_id=lease.plan_id,
                execution_id=lease.execution_id,
                work=run_action(self._registry, action, args, time_left=time_left),
            )
        except Cancelled:
            return StepOutcome(ok=False, error="cancelled while running", cancelled=True)

    def _rerunnable(self, step: PlannedStep) -> bool:
        action = self._action(step.action)
        return action is not None and (action.idempotent or action.effect == Effect.READ)

    def _reads_only(self, name: str) -> bool:
        action = self._action(name)
        return action is not None and action.effect == Effect.READ

    def _action(self, name: str) -> Action | None:
        try:
            return self._registry.get(name)
        except UnknownActionError:
            return None

    async def _skip(self, lease: Lease, steps: Sequence[PlannedStep]) -> None:
        await executions.skip_steps(await self._connection.get(), lease, steps)

    async def _finish(self, lease: Lease, status: ExecutionStatus, error: str = "") -> None:
        await self._write(executions.finish(await self._connection.get(), lease, status=status, error=error))
        _ended(lease, status)
        self._observer.plan_finished(lease.team_id, lease.plan_id)

    async def _write(self, transition: Awaitable[T]) -> T:
        """Await a transition of the leased execution; one refused because another worker took the
        execution over ends this worker's run of it."""
        try:
            return await transition
        except Conflict as exc:
            raise LeaseLost(str(exc)) from exc

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
            self._alive()
            if not kept:
                run.cancel()
                return


def _ended_between_statements(run: asyncio.Task[None]) -> bool:
    """Whether the run left its connection idle: it returned, or stopped at a refused write. A run
    that was cancelled or failed may have been cut off inside a statement."""
    if not run.done() or run.cancelled():
        return False
    error = run.exception()
    return error is None or isinstance(error, LeaseLost | Stopping)


def _ended(lease: Lease, status: ExecutionStatus) -> None:
    metrics.EXECUTIONS.labels(status=status).inc()
    log.info("execution %s ended %s", lease.execution_id, status)


def _observe_step(stage: StepStage, action: str, outcome: StepOutcome, seconds: float) -> None:
    result = "cancelled" if outcome.cancelled else ("succeeded" if outcome.ok else "failed")
    tool = action.partition(".")[0]
    metrics.STEP_SECONDS.labels(tool=tool, action=action, stage=stage, outcome=result).observe(seconds)


# Act steps make the change, verify steps check it, follow-ups record it once it is verified.
_RUN_ORDER = (StepStage.ACT, StepStage.VERIFY, StepStage.FOLLOW_UP)


def _completed_undos(runs: Iterable[RecordedRun]) -> list[dict | None]:
    """The stored undo of each completed act step, in step order."""
    acts = [r for r in runs if r.stage == StepStage.ACT and r.status == StepState.SUCCEEDED]
    return [r.undo for r in sorted(acts, key=lambda r: r.position)]


def _remaining(steps: Sequence[PlannedStep], first: PlannedStep) -> list[PlannedStep]:
    return [s for s in steps if s.position >= first.position]
