"""Recovery of turns whose worker is gone, so no run stays ``queued`` or ``running``.

A worker holds a lease on each turn it runs (``mochung.tasks.chat``: taken before the run
is marked running, renewed every ``LEASE_RENEW_SECONDS``, released at the end). The
:class:`RunReaper` looks at the unfinished runs (one indexed query) and at their leases
(one call):

- a ``running`` run with no lease (its worker died: ``kill -9``, a crash, the machine) is
  handed to the workers again, up to ``chat.MAX_ATTEMPTS`` attempts, then ended
  ``failed``; a cancel asked meanwhile ends it ``cancelled``;
- a ``queued`` run with no lease that has waited ``QUEUED_STALE_SECONDS`` is enqueued again
  (its message may have been lost with Redis; a duplicate is harmless: the lease and the
  run's conditional updates let one attempt run), and after ``QUEUED_GIVE_UP_SECONDS`` it
  is ended ``failed``.

Whatever ends a run here tells its room (``message-error`` through the bus, then ``done``).
The embedded server sweeps once at start (``at_start``: every unfinished run is from a
process that died) and then periodically, like every distributed web process; in
distributed mode a short-lived lock lets one web process sweep at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mochung.adapters.bus import channel_for
from mochung.aio import cancel_and_wait
from mochung.domain import chat
from mochung.domain.models import AgentRun, RunStatus
from mochung.domain.ports import Publisher, TurnStore
from mochung.tasks.chat import GAVE_UP, LEASE_SECONDS, event_message

log = logging.getLogger("mochung.recovery")
SWEEP_SECONDS = 3.0
QUEUED_STALE_SECONDS = 30.0
QUEUED_GIVE_UP_SECONDS = 900.0
_SWEEP_LOCK = "recovery:sweep"


@dataclass
class Sweep:
    requeued: int = 0
    failed: int = 0
    cancelled: int = 0


@dataclass
class RunReaper:
    """Sweeps every ``SWEEP_SECONDS`` (one web process at a time, by a short claim)."""

    turns: TurnStore
    publisher: Publisher
    enqueue: Callable[[uuid.UUID], Awaitable[None]]
    interval: float = SWEEP_SECONDS
    owner: str = field(default_factory=lambda: f"reaper-{uuid.uuid4().hex}")
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def sweep(self, *, at_start: bool = False) -> Sweep:
        done = Sweep()
        runs = await chat.pending_runs()
        if not runs:
            return done
        held = await self.turns.held_among([str(run.message_id) for run in runs])
        now = dt.datetime.now(dt.UTC)
        for run in runs:
            message_id = str(run.message_id)
            if message_id in held:
                continue
            if run.cancel_requested:
                if await self._end(run, RunStatus.CANCELLED, "cancelled", "the turn was cancelled"):
                    done.cancelled += 1
                continue
            age = (now - run.created_at).total_seconds()
            if run.status is RunStatus.RUNNING:
                started = run.started_at or run.created_at
                if not at_start and (now - started).total_seconds() < LEASE_SECONDS:
                    continue  # a worker may be about to renew its lease (e.g. after a Redis restart)
                if run.attempts >= chat.MAX_ATTEMPTS:
                    if await self._end(run, RunStatus.FAILED, "agent_error", GAVE_UP):
                        done.failed += 1
                    continue
            elif age >= QUEUED_GIVE_UP_SECONDS:
                if await self._end(run, RunStatus.FAILED, "agent_error", GAVE_UP):
                    done.failed += 1
                continue
            elif not at_start and age < QUEUED_STALE_SECONDS:
                continue
            # Once per lease period at most: the new attempt takes its own lease meanwhile.
            if at_start or await self.turns.claim(f"requeue:{message_id}", self.owner, max(LEASE_SECONDS, 10.0)):
                await self.enqueue(run.message_id)
                done.requeued += 1
        if done.requeued or done.failed or done.cancelled:
            log.warning(
                "recovered unfinished turns: %d handed to the workers again, %d failed, %d cancelled",
                done.requeued,
                done.failed,
                done.cancelled,
            )
        return done

    async def _end(self, run: AgentRun, status: RunStatus, code: str, details: str) -> bool:
        ended = await chat.end_orphaned_run(run.message_id, status, details)
        if ended is None:
            return False
        session_id, message_id = str(run.session_id), str(run.message_id)
        seq = await self.turns.last_seq(message_id)
        channel = channel_for(session_id)
        await self.publisher.publish(
            channel, event_message("error", session_id, message_id, seq + 1, content=code, details=details)
        )
        await self.publisher.publish(channel, event_message("done", session_id, message_id, seq + 2))
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                # one web process sweeps per interval
                if await self.turns.claim(_SWEEP_LOCK, self.owner, self.interval * 0.8):
                    await self.sweep()
            except Exception as error:  # database or Redis down: try again next time
                log.warning("could not look for unfinished turns: %s", type(error).__name__)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="mochung-run-reaper")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
