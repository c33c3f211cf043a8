"""Fixtures of the worker tests: a chat worker built exactly as `mochung serve` and
`mochung worker` build it, run in this process, with a stand-in agent runtime whose model
takes a known time; turns are stored through the domain and watched on the bus."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from mochung.adapters.bus import MemoryHub, RedisSubscriber, channel_for
from mochung.adapters.database import close_database, open_database
from mochung.adapters.turns import MemoryTurnStore
from mochung.domain import chat, rooms
from mochung.domain.models import User
from mochung.domain.ports import TurnStore
from mochung.settings import Settings
from mochung.tasks.worker import ChatWorker, build_chat_worker

WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class FakeEvent:
    type: str
    content: str | None = None
    component: dict[str, Any] | None = None


class SlowTurn:
    """A turn whose "model" streams ``words`` over ``seconds`` (waiting, not computing)."""

    def __init__(self, runtime: SlowRuntime, text: str) -> None:
        self._runtime = runtime
        self._text = text
        self.trajectory: list[dict[str, Any]] = []
        self.timings: dict[str, Any] = {}

    async def events(self) -> AsyncIterator[FakeEvent]:
        runtime = self._runtime
        runtime.started += 1
        runtime.running += 1
        runtime.most_running = max(runtime.most_running, runtime.running)
        try:
            words = [f"답{i} " for i in range(runtime.words)]
            for word in words:
                await asyncio.sleep(runtime.seconds / runtime.words)
                yield FakeEvent("chunk", word)
            yield FakeEvent("text", f"{self._text}: {''.join(words).strip()}")
            yield FakeEvent("done")
        finally:
            runtime.running -= 1


@dataclass
class SlowRuntime:
    seconds: float = 1.0
    words: int = 10
    started: int = 0
    running: int = 0
    most_running: int = 0

    def turn(self, turn_input: Any) -> SlowTurn:
        return SlowTurn(self, turn_input.text)


@dataclass
class Bus:
    """What the worker published, per message id."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def receive(self, channel: str, message: dict[str, Any]) -> None:
        self.events[str(message["metadata"]["message_id"])].append(message)
        self.changed.set()

    def of(self, message_id: str, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events[message_id] if event["type"] == kind]

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        async def wait() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        try:
            await asyncio.wait_for(wait(), WAIT_SECONDS)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None

    async def all_done(self, message_ids: list[str]) -> None:
        await self.until(lambda: all(self.of(m, "done") for m in message_ids), f"{len(message_ids)} turns to end")


@dataclass
class Turns:
    """Sessions with a stored user message each (queued runs), ready to enqueue."""

    sessions: list[str]
    messages: list[str]


async def store_turns(count: int, text: str = "안녕하세요") -> Turns:
    email = f"worker-{uuid.uuid4().hex[:10]}@example.com"
    user = await User.create(email=email, email_key=email, password_hash="!")
    sessions, messages = [], []
    for index in range(count):
        session = (await rooms.join_session(user, f"room-{uuid.uuid4().hex[:8]}-{index}")).session
        accepted = await chat.accept_user_message(session, f"{text} {index}")
        sessions.append(str(session.id))
        messages.append(str(accepted.message.message_id))
    return Turns(sessions, messages)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[None]:
    """The test's own connection (the worker opens its own, on its own loop)."""
    context = await open_database(settings.resolved_database_url, migrate=False, as_global=True)
    yield
    await close_database(context)


WorkerFactory = Callable[..., Awaitable[tuple[ChatWorker, Bus]]]


@pytest.fixture
async def start_worker(database: None) -> AsyncIterator[WorkerFactory]:
    """Start an embedded-style chat worker (memory bus and turn store; or Redis when the
    settings name it) with ``runtime``; stopped at the end."""
    started: list[tuple[ChatWorker, RedisSubscriber | None]] = []

    async def start(
        settings: Settings, runtime: Any, turns: Turns, *, concurrency: int | None = None
    ) -> tuple[ChatWorker, Bus]:
        bus = Bus()
        subscriber: RedisSubscriber | None = None
        hub: MemoryHub | None = None
        store: TurnStore | None = None
        if settings.redis_url:
            subscriber = RedisSubscriber(settings.redis_url, bus.receive)
            await subscriber.start()
            for session_id in turns.sessions:
                await subscriber.subscribe(channel_for(session_id))
        else:
            hub = MemoryHub()
            store = MemoryTurnStore(settings.chunk_retention_seconds)
            loop = asyncio.get_running_loop()
            for session_id in turns.sessions:
                hub.add(channel_for(session_id), loop, bus.receive)
        worker = build_chat_worker(
            settings, concurrency=concurrency, hub=hub, turns=store, runtime_factory=lambda *_: runtime
        )
        await asyncio.to_thread(worker.start)
        started.append((worker, subscriber))
        return worker, bus

    yield start
    for worker, subscriber in started:
        await asyncio.to_thread(worker.stop)
        if subscriber is not None:
            await subscriber.stop()
