"""The chat actor: ``process_chat_message(message_id)`` runs one turn of the agents.

How the actor meets its broker without import-time side effects: Dramatiq binds an actor
to a broker when it is declared (``dramatiq.actor`` falls back to a process-global broker).
We never set that global. :func:`declare_actors` declares the actors on the broker it is
given (``broker=``), as closures over the worker's resources, and returns them; the web
process calls it to enqueue, ``mochung worker`` and the embedded worker call it to run.
Importing this module declares nothing.

The turn (see ARCHITECTURE.md "Life of a chat turn"): load the session, page and history;
stream the agents' events — each chunk is kept in the turn store (for resume) and
published on ``chat:{session_id}``; store the answers and mark the run done in one
transaction; then publish the answers and ``done``. A redelivered message whose run is
finished does nothing; one whose run was interrupted runs again: its chunks are numbered
from 1 again and the relay drops, per socket, the seqs that socket already has (with a
deterministic model the stream continues exactly where it stopped). ``cancel-message``
sets a flag; one :class:`CancelWatcher` per worker process looks at the flags of all its
turns in flight in one call every ``CANCEL_POLL_SECONDS``, and a flagged turn's task is
cancelled. The agents coalesce streamed tokens (``mochung.agents.runtime``), so a chunk
costs one turn-store append and one publish, not one per token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import dramatiq

from mochung.adapters.bus import channel_for
from mochung.adapters.database import bound
from mochung.adapters.outages import is_outage
from mochung.aio import cancel_and_wait
from mochung.domain import chat
from mochung.domain.chat import now_ms
from mochung.domain.models import AgentRun, RunStatus
from mochung.domain.ports import Publisher, TurnStore
from mochung.tasks.broker import CHAT_QUEUE

if TYPE_CHECKING:  # worker.py builds the resources and imports this module
    from mochung.agents import AgentTurn
    from mochung.agents.usage import TurnUsage
    from mochung.tasks.worker import ChatWorkerResources

log = logging.getLogger("mochung.worker")
CANCEL_POLL_SECONDS = 0.2
# A worker holds a lease on each turn it runs, renewed while it runs: recovery
# (``mochung.tasks.recovery``) takes a run whose lease lapsed for one whose worker is gone.
LEASE_SECONDS = 10.0
LEASE_RENEW_SECONDS = 2.0
GAVE_UP = "the assistant could not answer this message; please try again"
STOP_GRACE_SECONDS = 5.0
ACTOR_OPTIONS: dict[str, Any] = {
    # Errors inside a turn are reported to the client and end the run; a retry is only
    # for failures around it (database briefly down), soon and a few times.
    "max_retries": 3,
    "min_backoff": 500,
    "max_backoff": 5_000,
}


@dataclass(frozen=True)
class ChatActors:
    process_chat_message: dramatiq.Actor[[str], None]


def declare_actors(broker: dramatiq.Broker, resources: ChatWorkerResources | None = None) -> ChatActors:
    """Declare the chat actors on ``broker``. ``resources`` are needed only where the actors
    run; a web process that only enqueues passes none."""

    async def process_chat_message(message_id: str) -> None:
        if resources is None or resources.database is None:
            raise RuntimeError("this process only enqueues chat messages; run `mochung worker`")
        with bound(resources.database), resources.turn_in_flight():
            try:
                await run_turn(resources, uuid.UUID(message_id))
            except Exception:
                await _give_up_after_last_attempt(resources, uuid.UUID(message_id))
                raise

    time_limit_ms = int(resources.settings.llm_timeout_seconds * 5 * 1000) if resources else 300_000
    declare = dramatiq.actor(
        broker=broker,
        actor_name="process_chat_message",
        queue_name=CHAT_QUEUE,
        time_limit=time_limit_ms,
        **ACTOR_OPTIONS,
    )
    return ChatActors(process_chat_message=declare(process_chat_message))


async def _give_up_after_last_attempt(resources: ChatWorkerResources, message_id: uuid.UUID) -> None:
    """When the last attempt fails around the turn (not inside it: the agents' own errors
    already end the run), end the run as failed and tell the room, so that no run stays
    "running" and no client waits for an answer that will not come. Best effort: if the
    database is what failed, this fails too and the run keeps its last state."""
    try:
        run = await AgentRun.get_or_none(message_id=message_id)
        if run is None or run.status != RunStatus.RUNNING or run.attempts <= ACTOR_OPTIONS["max_retries"]:
            return
        assert resources.publisher is not None
        publish = _publisher(resources.publisher, str(run.session_id), str(message_id))
        outcome = TurnOutcome()
        await _end(run, RunStatus.FAILED, "agent_error", GAVE_UP, [], {}, publish, outcome)
        record_turn(resources, run, RunStatus.FAILED, outcome, None)
    except Exception:
        log.exception("could not end turn %s after its last attempt", message_id)


def event_message(
    kind: str, session_id: str, message_id: str, seq: int, *, content: Any = None, component: Any = None, **meta: Any
) -> dict[str, Any]:
    """A bus message as PROTOCOL.md "Redis" describes it."""
    metadata = {"session_id": session_id, "message_id": message_id, "seq": seq, "timestamp": now_ms(), **meta}
    return {"type": kind, "content": content, "component": component, "metadata": metadata}


def _plain(value: Any) -> Any:
    """JSON-safe copy of agent-provided data (trajectory, timings, components)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


@dataclass
class TurnOutcome:
    answers: list[chat.Answer] = field(default_factory=list)
    error: str | None = None
    seq: int = 0
    started_at: float = field(default_factory=time.time)  # epoch seconds: when this attempt began
    first_chunk_at: float | None = None


def _epoch(value: dt.datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)).timestamp()


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def record_turn(
    resources: ChatWorkerResources, run: AgentRun, status: RunStatus, outcome: TurnOutcome, agent_turn: AgentTurn | None
) -> None:
    """Count a finished turn (metrics) and write its one log line, from the same numbers:
    latencies from the moment the message was accepted (the run was queued)."""
    ended = time.time()
    accepted = _epoch(run.created_at) or outcome.started_at
    usage: TurnUsage | None = getattr(agent_turn, "usage", None)
    calls = usage.calls if usage is not None else []
    tools = usage.tools if usage is not None else []
    first_chunk = outcome.first_chunk_at - accepted if outcome.first_chunk_at is not None else None
    metrics, model = resources.metrics, resources.settings.llm
    metrics.child(metrics.chat_turns, status=status.value).inc()
    metrics.chat_queue_wait.observe(max(0.0, outcome.started_at - accepted))
    metrics.chat_answer.observe(max(0.0, ended - accepted))
    if first_chunk is not None:
        metrics.chat_first_chunk.observe(max(0.0, first_chunk))
    for tool in tools:
        metrics.child(metrics.chat_tool_calls, tool=tool).inc()
    for call in calls:
        metrics.child(metrics.model_calls, model=model, outcome="ok" if call.ok else "error").inc()
        metrics.child(metrics.model_call_duration, model=model).observe(call.seconds)
        if call.input_tokens is not None:
            metrics.child(metrics.model_tokens, model=model, direction="input").inc(call.input_tokens)
        if call.output_tokens is not None:
            metrics.child(metrics.model_tokens, model=model, direction="output").inc(call.output_tokens)
    reported = [call for call in calls if call.input_tokens is not None]
    log.info(
        "chat turn %s %s",
        run.message_id,
        status.value,
        extra={
            "event": "chat_turn",
            "message_id": str(run.message_id),
            "session_id": str(run.session_id),
            "status": status.value,
            "attempt": run.attempts,
            "queue_ms": _ms(max(0.0, outcome.started_at - accepted)),
            "first_chunk_ms": _ms(first_chunk),
            "total_ms": _ms(ended - accepted),
            "turn_ms": _ms(ended - outcome.started_at),
            "chunks": outcome.seq,
            "tools": tools,
            "model_calls": len(calls),
            "model_errors": sum(1 for call in calls if not call.ok),
            "input_tokens": sum(call.input_tokens or 0 for call in reported) if reported else None,
            "output_tokens": sum(call.output_tokens or 0 for call in reported) if reported else None,
        },
    )


async def run_turn(resources: ChatWorkerResources, message_id: uuid.UUID) -> None:
    assert resources.turns is not None and resources.cancels is not None
    leases = resources.cancels
    if not await leases.hold(str(message_id)):
        log.info("turn %s is being run by another worker; leaving it to that one", message_id)
        return
    try:
        await _run_held_turn(resources, message_id)
    finally:
        await leases.drop(str(message_id))


async def _run_held_turn(resources: ChatWorkerResources, message_id: uuid.UUID) -> None:
    assert resources.publisher is not None and resources.turns is not None
    start = await chat.start_run(message_id)
    run = start.run
    if run is None:
        log.info("turn %s already finished; nothing to do", message_id)
        return
    session_id = str(run.session_id)
    publish = _publisher(resources.publisher, session_id, str(message_id))
    outcome = TurnOutcome()
    if start.cancelled_now:
        await publish("error", 0, content="cancelled", details="the turn was cancelled")
        record_turn(resources, run, RunStatus.CANCELLED, outcome, None)
        return
    turn = await chat.load_turn(message_id, resources.settings.chat_history_limit)
    if turn is None:  # the user's message was deleted meanwhile
        await chat.end_run(run, RunStatus.FAILED, "the message no longer exists", [], {})
        record_turn(resources, run, RunStatus.FAILED, outcome, None)
        return
    from mochung.agents import TurnInput  # loaded with the runtime, in the worker only

    assert resources.runtime is not None
    agent_turn = resources.runtime.turn(
        TurnInput(
            text=turn.user_message.content or "",
            history=turn.history,
            wedding=_plain(chat.wedding_context(turn.page, turn.guests)),
        )
    )
    already_stored = await resources.turns.last_seq(str(message_id)) if run.attempts > 1 else 0
    started = time.monotonic()
    assert resources.cancels is not None
    cancelled = await _stream(
        agent_turn, resources.turns, resources.cancels, str(message_id), publish, outcome, already_stored
    )
    trajectory = _plain(getattr(agent_turn, "trajectory", []) or [])
    timings = {
        **_plain(getattr(agent_turn, "timings", {}) or {}),
        "turn_ms": round((time.monotonic() - started) * 1000),
    }
    if cancelled:
        status = RunStatus.CANCELLED
        await _end(run, status, "cancelled", "the turn was cancelled", trajectory, timings, publish, outcome)
    elif outcome.error is not None:
        status = RunStatus.FAILED
        await _end(run, status, "agent_error", outcome.error, trajectory, timings, publish, outcome)
    else:
        status = RunStatus.DONE
        await _finish(run, outcome, trajectory, timings, publish)
    record_turn(resources, run, status, outcome, agent_turn)


class Publish(Protocol):
    """Publishes one event of a turn to its session's channel."""

    async def __call__(self, kind: str, seq: int, **fields: Any) -> None: ...


def _publisher(publisher: Publisher, session_id: str, message_id: str) -> Publish:
    channel = channel_for(session_id)

    async def publish(kind: str, seq: int, **fields: Any) -> None:
        await publisher.publish(channel, event_message(kind, session_id, message_id, seq, **fields))

    return publish


class CancelWatcher:
    """The cancel flags of every turn in flight in this process, read in one call per poll
    (``TurnStore.cancelled_among`` when the store has it) instead of one call per turn.
    Lives on the worker's loop; polls only while some turn is watched."""

    def __init__(self, turns: TurnStore, interval: float = CANCEL_POLL_SECONDS, owner: str | None = None) -> None:
        self._turns = turns
        self._interval = interval
        self._watched: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        # the leases of the turns this process runs (see LEASE_SECONDS), renewed by the poll
        self.owner = owner or f"worker-{uuid.uuid4().hex}"
        self._held: set[str] = set()
        self._renewed_at = 0.0

    async def hold(self, message_id: str) -> bool:
        """Take the lease of a turn; False when another live worker holds it."""
        if not await self._turns.claim(message_id, self.owner, LEASE_SECONDS):
            return False
        self._held.add(message_id)
        self._ensure_polling()
        return True

    async def drop(self, message_id: str) -> None:
        self._held.discard(message_id)
        try:
            await self._turns.release(message_id, self.owner)
        except Exception as error:  # it lapses by itself
            log.warning("cannot release the lease of turn %s: %s", message_id, type(error).__name__)

    def _ensure_polling(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="mochung-cancel-watcher")

    async def _renew(self) -> None:
        now = time.monotonic()
        if self._held and now - self._renewed_at >= LEASE_RENEW_SECONDS:
            self._renewed_at = now
            await self._turns.renew(list(self._held), self.owner, LEASE_SECONDS)

    def watch(self, message_id: str) -> asyncio.Event:
        """An event set when ``message_id`` is asked to stop; :meth:`unwatch` it after."""
        event = self._watched.setdefault(message_id, asyncio.Event())
        self._ensure_polling()
        return event

    def unwatch(self, message_id: str) -> None:
        self._watched.pop(message_id, None)

    async def _cancelled(self, message_ids: list[str]) -> set[str]:
        among = getattr(self._turns, "cancelled_among", None)
        if among is not None:
            return set(await among(message_ids))
        flags = await asyncio.gather(*(self._turns.cancel_requested(message_id) for message_id in message_ids))
        return {message_id for message_id, flag in zip(message_ids, flags, strict=True) if flag}

    async def _poll(self) -> None:
        while self._watched or self._held:
            try:
                await self._renew()
                for message_id in await self._cancelled(list(self._watched)):
                    event = self._watched.get(message_id)
                    if event is not None:
                        event.set()
            except Exception as error:  # Redis hiccup: keep the turns going, look again soon
                log.warning("cannot read the cancel flags: %s", type(error).__name__)
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        await cancel_and_wait(self._task)


async def _stream(
    agent_turn: AgentTurn,
    turns: TurnStore,
    cancels: CancelWatcher,
    message_id: str,
    publish: Publish,
    outcome: TurnOutcome,
    already_stored: int,
) -> bool:
    """Consume the agent's events until done; True when the turn was cancelled."""

    async def consume() -> None:
        try:
            async for event in agent_turn.events():
                if event.type == "chunk" and event.content:
                    outcome.seq += 1
                    if outcome.first_chunk_at is None:
                        outcome.first_chunk_at = time.time()
                    if outcome.seq > already_stored:
                        await turns.append(message_id, outcome.seq, event.content)
                    # Published again on a retry too: the relay drops, per socket, any seq
                    # it already sent, and the previous attempt may have died between
                    # storing a chunk and publishing it. (Stored before it is published: a
                    # client resuming in between finds it in the store.)
                    await publish("chunk", outcome.seq, content=event.content)
                elif event.type in ("text", "component"):
                    component = _plain(event.component) if event.component is not None else None
                    outcome.answers.append(chat.Answer(event.type, event.content, component))
                elif event.type == "error":
                    outcome.error = event.content or "the agent failed"
                    return
                elif event.type == "done":
                    return
        except Exception as error:  # an agent bug must end the run, not leave it running
            if is_outage(error):  # Redis or the database is down: not the agent's fault; the
                raise  # turn is run again (the actor's retries, or recovery once the lease lapses)
            log.exception("agent turn %s failed", message_id)
            outcome.error = f"the agent failed ({type(error).__name__})"

    cancel_asked = cancels.watch(message_id)
    consumer = asyncio.create_task(consume())
    waiter = asyncio.create_task(cancel_asked.wait())
    stopped = False
    try:
        await asyncio.wait({consumer, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancels.unwatch(message_id)
        if not consumer.done():
            stopped = cancel_asked.is_set()
            consumer.cancel()
        waiter.cancel()
        # Bounded: a task that swallows its cancellation must not hold the actor forever.
        await asyncio.wait({consumer, waiter}, timeout=STOP_GRACE_SECONDS)
    failure = consumer.exception() if consumer.done() and not consumer.cancelled() else None
    if failure is not None:
        raise failure  # an outage (see consume)
    return stopped


async def _end(
    run: AgentRun,
    status: RunStatus,
    code: str,
    details: str,
    trajectory: list[Any],
    timings: dict[str, Any],
    publish: Publish,
    outcome: TurnOutcome,
) -> None:
    if await chat.end_run(run, status, details, trajectory, timings):
        await publish("error", outcome.seq + 1, content=code, details=details)
        await publish("done", outcome.seq + 2)


async def _finish(
    run: AgentRun, outcome: TurnOutcome, trajectory: list[Any], timings: dict[str, Any], publish: Publish
) -> None:
    stored = await chat.finish_run(run, outcome.answers, trajectory, timings)
    if stored is None:
        log.info("turn %s was finished by another attempt; not sending it again", run.message_id)
        return
    seq = outcome.seq
    for message in stored:
        seq += 1
        await publish(message.type, seq, content=message.content, component=message.component, id=str(message.id))
    await publish("done", seq + 1)
