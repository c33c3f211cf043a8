"""The chat event bus: workers publish a turn's events on ``chat:{session_id}``, web
processes subscribe to the channels of the sessions their own sockets are in.

Two implementations behind one interface:

- :class:`MemoryHub` (embedded mode): one object shared by the web process and the
  in-process worker threads. A publish may come from another thread (Dramatiq's event
  loop thread), so delivery hops onto the subscriber's loop (an :class:`_Inbox` per loop).
- :class:`RedisPublisher` / :class:`RedisSubscriber` (distributed mode): Redis pub/sub.
  The subscriber owns one connection, subscribes per channel (never a pattern, so a
  process only decodes the sessions it serves), and reconnects and resubscribes on its
  own after Redis restarts.

Messages are the JSON objects of PROTOCOL.md "Redis".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from mochung.aio import cancel_and_wait
from mochung.domain.ports import Message, Receiver

log = logging.getLogger("mochung.bus")

RECONNECT_DELAY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


def channel_for(session_id: str) -> str:
    return f"chat:{session_id}"


# Distributed mode: a web process that changed an account's rights says so here,
# ``{"type": "account", "user_id": …}``, and every web process forgets its cached copy.
ACCOUNTS_CHANNEL = "mochung:accounts"


class _Inbox:
    """Messages for one event loop from other threads, handed over in order with one
    wake-up for all those that arrive before the loop gets to them. Waking a loop is a
    write to its self-pipe and a read on the other side: per chunk of every turn in
    flight, that was a fifth of the embedded worker loop's CPU in a burst."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._items: list[tuple[Receiver, str, Message]] = []
        self._woken = False

    def put(self, receiver: Receiver, channel: str, message: Message) -> None:
        with self._lock:
            self._items.append((receiver, channel, message))
            if self._woken:
                return
            self._woken = True
        try:
            self.loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # that loop is closed: its process is stopping
            with self._lock:
                self._items.clear()
                self._woken = False

    def _deliver(self) -> None:
        with self._lock:
            items, self._items, self._woken = self._items, [], False
        for receiver, channel, message in items:
            try:
                receiver(channel, message)
            except Exception as error:  # one receiver's failure must not drop the others' messages
                self.loop.call_exception_handler({"message": "a bus receiver failed", "exception": error})


class MemoryHub:
    """In-process pub/sub safe across threads and event loops (embedded mode)."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[tuple[_Inbox, Receiver]]] = {}
        self._inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}

    def add(self, channel: str, loop: asyncio.AbstractEventLoop, receiver: Receiver) -> None:
        with self._lock:
            inbox = self._inboxes.get(loop)
            if inbox is None or inbox.loop.is_closed():
                self._inboxes = {known: box for known, box in self._inboxes.items() if not known.is_closed()}
                inbox = self._inboxes[loop] = _Inbox(loop)
            self._subscribers.setdefault(channel, []).append((inbox, receiver))

    def remove(self, channel: str, receiver: Receiver) -> None:
        with self._lock:
            remaining = [entry for entry in self._subscribers.get(channel, []) if entry[1] is not receiver]
            if remaining:
                self._subscribers[channel] = remaining
            else:
                self._subscribers.pop(channel, None)

    async def publish(self, channel: str, message: Message) -> None:
        # Round-trip through JSON so both modes hand subscribers the same plain data
        # (and a non-serialisable event fails here, as it would on Redis).
        data = json.loads(json.dumps(message))
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for inbox, receiver in targets:
            inbox.put(receiver, channel, data)


class _Subscriber:
    """What both subscribers keep: whom to hand the messages to, and the channels wanted."""

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver
        self._channels: set[str] = set()


class MemorySubscriber(_Subscriber):
    """A web process's view of the :class:`MemoryHub`."""

    name = "memory"

    def __init__(self, hub: MemoryHub, receiver: Receiver) -> None:
        super().__init__(receiver)
        self._hub = hub

    async def start(self) -> None:
        return None

    def status(self) -> str:
        return "ok"

    async def stop(self) -> None:
        for channel in list(self._channels):
            await self.unsubscribe(channel)

    async def subscribe(self, channel: str) -> None:
        if channel not in self._channels:
            self._channels.add(channel)
            self._hub.add(channel, asyncio.get_running_loop(), self._receiver)

    async def unsubscribe(self, channel: str) -> None:
        if channel in self._channels:
            self._channels.discard(channel)
            self._hub.remove(channel, self._receiver)


class RedisPublisher:
    name = "redis"

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(channel, json.dumps(message, ensure_ascii=False))


class RedisSubscriber(_Subscriber):
    """Per-channel Redis subscriptions on one connection, resubscribed after a reconnect."""

    name = "redis"

    def __init__(self, url: str, receiver: Receiver) -> None:
        super().__init__(receiver)
        self._url = url
        self._confirmed: dict[str, asyncio.Event] = {}
        self._redis: Redis | None = None
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start listening; wait (bounded) for the first connection so a process that
        reports healthy can relay at once. Redis down at start-up is not fatal: the reader
        keeps reconnecting and /api/health says "down" meanwhile."""
        self._task = asyncio.create_task(self._run(), name="mochung-bus-subscriber")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), SUBSCRIBE_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self._close()

    async def subscribe(self, channel: str) -> None:
        event = self._confirmed.get(channel)
        if channel not in self._channels:
            self._channels.add(channel)
            event = self._confirmed[channel] = asyncio.Event()
            if self._connected.is_set():
                with contextlib.suppress(RedisError, OSError):  # the reader reconnects and resubscribes
                    async with self._lock:
                        await self._pubsub.subscribe(channel)
        assert event is not None
        # Callers (resume) read retained chunks right after this; they must not miss a
        # publish in between, so wait for Redis to confirm (bounded: Redis may be down).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), SUBSCRIBE_TIMEOUT_SECONDS)

    async def unsubscribe(self, channel: str) -> None:
        if channel not in self._channels:
            return
        self._channels.discard(channel)
        self._confirmed.pop(channel, None)
        if self._connected.is_set():
            with contextlib.suppress(RedisError, OSError):
                async with self._lock:
                    await self._pubsub.unsubscribe(channel)

    def status(self) -> str:
        """ "ok" when connected with every subscription confirmed; raises otherwise."""
        if not self._connected.is_set():
            raise ConnectionError("the relay is not connected to Redis")
        if not all(event.is_set() for event in self._confirmed.values()):
            raise ConnectionError("the relay is resubscribing")
        return "ok"

    # Told when a subscription is confirmed (after every (re)connect) and when the
    # connection is lost: until then, messages published meanwhile may have been missed.
    _on_subscribed: Callable[[str], None] | None = None
    _on_lost: Callable[[], None] | None = None

    def watch_connection(self, on_subscribed: Callable[[str], None], on_lost: Callable[[], None]) -> None:
        self._on_subscribed, self._on_lost = on_subscribed, on_lost

    async def _close(self) -> None:
        self._connected.clear()
        if self._on_lost is not None:
            self._on_lost()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        self._pubsub = self._redis = None

    async def _connect(self) -> None:
        self._redis = Redis.from_url(self._url, health_check_interval=10)
        self._pubsub = self._redis.pubsub()
        # A connection needs a subscription before it can listen; this private channel
        # keeps it open while no session is watched.
        await self._pubsub.subscribe("mochung:relay:keepalive")
        for event in self._confirmed.values():
            event.clear()
        if self._channels:
            await self._pubsub.subscribe(*self._channels)
        self._connected.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                if failures:
                    log.info("relay reconnected to Redis; %d channel(s) resubscribed", len(self._channels))
                failures = 0
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                delay = RECONNECT_DELAY_SECONDS[min(failures, len(RECONNECT_DELAY_SECONDS) - 1)]
                failures += 1
                log.warning("relay lost Redis (%s); reconnecting in %.2fs", type(error).__name__, delay)
                await self._close()
                await asyncio.sleep(delay)

    async def _listen(self) -> None:
        while True:
            raw = await self._pubsub.get_message(timeout=5.0)
            if raw is None:
                continue
            channel = _text(raw.get("channel"))
            if raw.get("type") == "subscribe":
                event = self._confirmed.get(channel)
                if event is not None:
                    event.set()
                if self._on_subscribed is not None:
                    self._on_subscribed(channel)
                continue
            if raw.get("type") != "message" or channel not in self._channels:
                continue
            try:
                message = json.loads(raw["data"])
            except (ValueError, TypeError):
                log.warning("ignored a malformed message on %s", channel)
                continue
            if isinstance(message, dict):
                self._receiver(channel, message)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
