"""A worker process runs many turns at once on its event loop (bounded by
``MOCHUNG_WORKER_CONCURRENCY``) and keeps every guarantee of one turn: acked when done,
redelivered when its worker dies, one answer per message, cancellable.

The model here waits (``asyncio.sleep``) rather than computes, as a hosted model does. The
bounds are loose — they only tell "turns overlap" from "turns queue behind a few threads"."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from dramatiq.brokers.redis import RedisBroker

from mochung.domain.models import AgentRun, ChatMessage, RunStatus
from mochung.settings import Settings
from mochung.tasks.broker import CHAT_QUEUE, make_broker
from mochung.tasks.chat import declare_actors
from tests.tasks.conftest import Bus, SlowRuntime, WorkerFactory, store_turns


async def assert_one_answer_each(bus: Bus, message_ids: list[str]) -> None:
    for message_id in message_ids:
        assert len(bus.of(message_id, "text")) == 1, "one answer published"
        stored = await ChatMessage.filter(message_id=message_id, role="assistant").count()
        assert stored == 1, "one answer stored"
        run = await AgentRun.get(message_id=message_id)
        assert run.status == RunStatus.DONE


async def test_fifty_one_second_turns_overlap_in_one_worker(settings: Settings, start_worker: WorkerFactory) -> None:
    turns = await store_turns(50)
    runtime = SlowRuntime(seconds=1.0)
    worker, bus = await start_worker(settings, runtime, turns)
    assert worker.concurrency == settings.worker_concurrency >= 50

    started = time.monotonic()
    for message_id in turns.messages:
        worker.actors.process_chat_message.send(message_id)
    await bus.all_done(turns.messages)
    elapsed = time.monotonic() - started

    # One turn per thread with the old 4 threads: 50 / 4 × 1 s ≥ 12.5 s.
    assert elapsed < 6.0, f"50 turns of 1 s took {elapsed:.1f} s: they did not run at once"
    assert runtime.most_running > 25
    await assert_one_answer_each(bus, turns.messages)


async def test_turns_beyond_the_concurrency_wait_for_a_free_slot(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    turns = await store_turns(12)
    runtime = SlowRuntime(seconds=0.5, words=2)
    worker, bus = await start_worker(settings, runtime, turns, concurrency=4)

    for message_id in turns.messages:
        worker.actors.process_chat_message.send(message_id)
    await bus.all_done(turns.messages)

    assert runtime.most_running == 4, "back-pressure: never more turns in flight than the slots"
    await assert_one_answer_each(bus, turns.messages)


async def test_a_duplicate_delivery_under_load_gives_one_answer(
    settings: Settings, start_worker: WorkerFactory
) -> None:
    turns = await store_turns(20)
    runtime = SlowRuntime(seconds=0.6)
    worker, bus = await start_worker(settings, runtime, turns)

    for message_id in turns.messages:
        worker.actors.process_chat_message.send(message_id)
    await bus.until(lambda: runtime.started >= 20, "every turn to start")
    for message_id in turns.messages[:10]:  # delivered again while the first delivery runs
        worker.actors.process_chat_message.send(message_id)
    await bus.all_done(turns.messages)
    await asyncio.sleep(1.0)  # let the second deliveries end too

    await assert_one_answer_each(bus, turns.messages)


async def test_cancel_stops_only_its_turn_while_many_run(settings: Settings, start_worker: WorkerFactory) -> None:
    turns = await store_turns(30)
    runtime = SlowRuntime(seconds=2.0, words=20)
    worker, bus = await start_worker(settings, runtime, turns)
    store = worker.resources.turns
    assert store is not None

    for message_id in turns.messages:
        worker.actors.process_chat_message.send(message_id)
    cancelled = turns.messages[::6]
    await bus.until(lambda: all(bus.of(m, "chunk") for m in cancelled), "the turns to stream")
    for message_id in cancelled:
        await AgentRun.filter(message_id=message_id).update(cancel_requested=True)
        await store.request_cancel(message_id)
    await bus.all_done(turns.messages)

    for message_id in cancelled:
        assert [e["content"] for e in bus.of(message_id, "error")] == ["cancelled"]
        assert bus.of(message_id, "text") == []
        assert (await AgentRun.get(message_id=message_id)).status == RunStatus.CANCELLED
    await assert_one_answer_each(bus, [m for m in turns.messages if m not in cancelled])


async def test_a_dead_workers_turns_are_redelivered_and_answered_once(
    make_settings: Callable[..., Settings], redis_url: str, start_worker: WorkerFactory
) -> None:
    settings = make_settings(
        redis_url=redis_url, broker_namespace=f"test-tasks-{uuid.uuid4().hex[:8]}", broker_heartbeat_timeout_ms=1000
    )
    turns = await store_turns(20)
    # A worker takes the messages, starts the turns, streams a little, then dies: it never
    # acks and its heartbeat stops.
    dead = make_broker(settings)
    assert isinstance(dead, RedisBroker)
    actors = declare_actors(dead)
    for message_id in turns.messages:
        actors.process_chat_message.send(message_id)
    consumer = dead.consume(CHAT_QUEUE, prefetch=len(turns.messages), timeout=100)
    taken = []
    while len(taken) < len(turns.messages):
        message = next(consumer)
        if message is not None:
            taken.append(message)
    assert sorted(m.args[0] for m in taken) == sorted(turns.messages)
    await AgentRun.filter(message_id__in=turns.messages).update(status=RunStatus.RUNNING, attempts=1)

    runtime = SlowRuntime(seconds=0.5)
    _, bus = await start_worker(settings, runtime, turns)
    try:
        await bus.all_done(turns.messages)
        await assert_one_answer_each(bus, turns.messages)
        runs = await AgentRun.filter(message_id__in=turns.messages)
        assert {run.attempts for run in runs} == {2}
    finally:
        dead.client.delete(*dead.client.keys(f"{settings.broker_namespace}:*"))
        dead.close()
