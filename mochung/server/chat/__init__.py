"""Wiring of the realtime chat into the web app: the Socket.IO server (attached at both
paths when the app is built) and the cleanup context that opens the broker, the relay
and — in embedded mode — the in-process chat worker.

| part         | embedded (no MOCHUNG_REDIS_URL)          | distributed                              |
|--------------|------------------------------------------|------------------------------------------|
| broker       | StubBroker + Dramatiq worker threads here | Redis broker; `mochung worker` processes |
| bus          | MemoryHub (thread-safe hop to this loop) | Redis pub/sub `chat:{session_id}`        |
| turn store   | memory                                   | Redis                                    |
| socket rooms | this process                             | python-socketio AsyncRedisManager        |
| accounts     | changes forget the cached copy directly  | … and are announced on ``ACCOUNTS_CHANNEL`` |
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import socketio as python_socketio  # aliased: this package has a submodule named socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as engineio_aiohttp

from mochung.adapters.bus import ACCOUNTS_CHANNEL, MemoryHub, MemorySubscriber, RedisPublisher, RedisSubscriber
from mochung.adapters.turns import MemoryTurnStore, RedisTurnStore
from mochung.aio import running
from mochung.domain.ports import Message, Publisher, Receiver, Subscriber, TurnStore
from mochung.server import keys
from mochung.server.chat.handoff import ChatServices, LazyWorker
from mochung.server.chat.managers import IndexedManager, IndexedRedisManager
from mochung.server.chat.payloads import PacketJson
from mochung.server.chat.relay import Relay
from mochung.server.chat.socketio import Gateway
from mochung.settings import Settings
from mochung.tasks.broker import broker_kind, make_broker, queue_depth
from mochung.tasks.chat import declare_actors
from mochung.tasks.recovery import RunReaper
from mochung.tasks.worker import build_chat_worker

log = logging.getLogger("mochung.realtime")
SOCKETIO_PATHS = ("socket.io", "chat")


def make_socketio(settings: Settings) -> python_socketio.AsyncServer:
    # each socket's rooms indexed: a disconnect costs its own rooms, not a scan of them all
    manager: IndexedManager | IndexedRedisManager = IndexedManager()
    if settings.redis_url:
        manager = IndexedRedisManager(settings.redis_url, channel=f"{settings.broker_namespace}:socketio")
    origins = "*" if "*" in settings.cors_origins else list(settings.cors_origins)
    sio = python_socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=origins,
        namespaces=["/", "/chat"],
        # One socket's events are handled in the order sent (two chat-messages are stored
        # in that order); sockets still run concurrently, each on its own connection task.
        async_handlers=False,
        http_compression=settings.socketio_compression,
        json=PacketJson,  # strict JSON, with the depth limit of every JSON the server reads
    )
    if not settings.socketio_compression:
        _refuse_websocket_deflate(sio)
    if settings.socketio_admin_user and settings.socketio_admin_password:
        # The Socket.IO Admin UI (https://admin.socket.io), only when credentials are set.
        # It patches Engine.IO for the whole process: one instrumented server per process.
        sio.instrument(
            auth={
                "username": settings.socketio_admin_user,
                "password": settings.socketio_admin_password.get_secret_value(),
            }
        )
    return sio


class _PlainWebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]  # engineio has no type hints: a subclass of Any
    """Engine.IO's aiohttp WebSocket, without permessage-deflate: aiohttp accepts the
    extension that every browser offers unless ``compress=False``, and each compressed
    socket then keeps two zlib contexts (~100 KiB) for its whole life."""

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(environ["aiohttp.request"])
        self.environ = environ
        await self.handler(self)
        return self._sock


def _refuse_websocket_deflate(sio: python_socketio.AsyncServer) -> None:
    # Engine.IO picks its WebSocket class from this server's driver table (a per-server
    # reference to the driver module's dict): give this server its own copy.
    sio.eio._async = {**sio.eio._async, "websocket": _PlainWebSocket}


def attach(app: web.Application) -> None:
    """Serve Socket.IO at /socket.io and /chat, and open its resources with the app."""
    sio = make_socketio(app[keys.SETTINGS])
    for path in SOCKETIO_PATHS:
        sio.attach(app, socketio_path=path)
    # distributed mode: the cached accounts are trusted once the bus carries their changes
    gateway = Gateway(app, sio, accounts_trusted=not app[keys.SETTINGS].redis_url)
    gateway.register()
    app[keys.SOCKETIO] = sio

    async def chat(app: web.Application) -> AsyncIterator[None]:
        async for _ in chat_context(app, gateway):
            yield

    app.cleanup_ctx.append(chat)

    async def revocations(_: web.Application) -> AsyncIterator[None]:
        async with running(_recheck_watchers(gateway), "mochung-watchers"):
            yield

    app.cleanup_ctx.append(revocations)
    app.on_shutdown.append(let_clients_go)


SHUTDOWN_SOCKETS_SECONDS = 0.5  # for the clients to close their ends


async def let_clients_go(app: web.Application) -> None:
    """On SIGTERM, close every socket at the Engine.IO level (not a Socket.IO "server
    disconnect", after which clients would not come back): clients see the transport close
    and reconnect — to another web process — and resume; the process then stops at once
    instead of waiting for its long-lived connections. ``mochung serve`` calls it on
    SIGTERM before the server stops accepting data (so the close handshakes complete), and
    it runs again, finding nothing, as a shutdown hook."""
    sio = app[keys.SOCKETIO]
    sockets = [socket for socket in sio.eio.sockets.values() if not socket.closed]  # (not those closed already)
    if not sockets:
        return
    log.info("closing %d sockets so their clients reconnect elsewhere", len(sockets))
    # The close packets are queued for every socket at once; then a short grace for the
    # clients to close their ends (what they do not close in time is cut at exit).
    results = await asyncio.gather(*(socket.close(wait=False) for socket in sockets), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        log.warning("%d sockets could not be closed cleanly: %s", len(failures), type(failures[0]).__name__)
    await asyncio.sleep(SHUTDOWN_SOCKETS_SECONDS)


WATCHERS_RECHECK_SECONDS = 1.0


async def _recheck_watchers(gateway: Gateway) -> None:
    """Sockets watching other users' rooms lose them within a second of a demotion."""
    while True:
        await asyncio.sleep(WATCHERS_RECHECK_SECONDS)
        try:
            await gateway.recheck_watchers()
        except Exception as error:  # database down: look again next time
            log.warning("could not re-check the watching sockets: %s", type(error).__name__)


def _redis_subscriber(url: str, receive: Receiver, gateway: Gateway) -> Subscriber:
    """The relay's subscriber, which also hears of the other web processes' account changes
    (``ACCOUNTS_CHANNEL``): the gateway caches accounts only while that channel is heard."""

    def route(channel: str, message: Message) -> None:
        if channel != ACCOUNTS_CHANNEL:
            receive(channel, message)
            return
        try:
            user_id = uuid.UUID(str(message.get("user_id")))
        except ValueError:
            gateway.accounts.forget(None)
            return
        gateway.account_changed(user_id)

    def subscribed(channel: str) -> None:
        if channel == ACCOUNTS_CHANNEL:
            gateway.accounts.trust(True)

    subscriber = RedisSubscriber(url, route)
    subscriber.watch_connection(subscribed, lambda: gateway.accounts.trust(False))
    return subscriber


async def chat_context(app: web.Application, gateway: Gateway) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    sio = app[keys.SOCKETIO]
    embedded_worker: LazyWorker | None = None
    warm_up: asyncio.Task[object] | None = None
    publisher: Publisher  # Redis or in memory, as the turn store
    turns: TurnStore
    if settings.redis_url:
        redis = app[keys.REDIS]
        assert redis is not None
        broker = make_broker(settings)
        actors = declare_actors(broker)
        publisher = RedisPublisher(redis)
        turns = RedisTurnStore(redis, settings.chunk_retention_seconds)
        relay = Relay(sio, lambda receive: _redis_subscriber(settings.redis_url or "", receive, gateway))
    else:
        hub = MemoryHub()
        memory_turns = MemoryTurnStore(settings.chunk_retention_seconds)
        factory = app.get(keys.AGENT_RUNTIME_FACTORY)
        chat_worker = build_chat_worker(
            settings,
            hub=hub,
            turns=memory_turns,
            runtime_factory=factory,
            metrics=app[keys.METRICS],
            processes=app[keys.PROCESSES],
        )
        embedded_worker = LazyWorker(chat_worker)
        # The worker starts on the first turn (`mochung serve` starts it at once); load the
        # agents meanwhile so that turn does not also pay for importing LangChain.
        warm_up = asyncio.create_task(asyncio.to_thread(importlib.import_module, "mochung.agents"))
        broker, actors, publisher, turns = chat_worker.broker, chat_worker.actors, hub, memory_turns
        relay = Relay(sio, lambda receive: MemorySubscriber(hub, receive))
    await relay.start()
    if settings.redis_url:
        await relay.subscriber.subscribe(ACCOUNTS_CHANNEL)

    async def account_changed(user_id: uuid.UUID) -> None:
        gateway.account_changed(user_id)
        if settings.redis_url:  # and in the other web processes
            await publisher.publish(ACCOUNTS_CHANNEL, {"type": "account", "user_id": str(user_id)})

    app[keys.ACCOUNT_CHANGED] = account_changed
    services = ChatServices(
        broker=broker, actors=actors, publisher=publisher, turns=turns, relay=relay, embedded_worker=embedded_worker
    )
    app[keys.CHAT] = services
    reaper = RunReaper(turns, publisher, services.enqueue)
    if embedded_worker is not None:
        # Every unfinished run is from a process that died (this one is the only worker):
        # hand them to the worker again, or end them, before taking any new turn.
        await reaper.sweep(at_start=True)
    reaper.start()
    app[keys.LIVE_SOCKETS] = relay

    async def broker_check() -> str:
        return broker_kind(broker)

    async def measure_queue() -> int:
        return await asyncio.to_thread(queue_depth, broker)

    async def queue_check() -> str:
        return str(await measure_queue())

    app[keys.QUEUE_DEPTH] = measure_queue

    async def relay_check() -> str:
        return relay.subscriber.status()

    app[keys.HEALTH_CHECKS]["broker"] = broker_check
    app[keys.HEALTH_CHECKS]["relay"] = relay_check
    app[keys.HEALTH_CHECKS]["queue"] = queue_check
    try:
        yield
    finally:
        await reaper.stop()
        await relay.stop()
        await _stop_manager(sio)
        if warm_up is not None:
            with contextlib.suppress(Exception):
                await warm_up
        if embedded_worker is not None:
            await embedded_worker.stop()
        with contextlib.suppress(Exception):
            broker.close()


async def _stop_manager(sio: python_socketio.AsyncServer) -> None:
    """python-socketio never stops its Redis listener task; do it so shutdown is clean."""
    task = getattr(sio.manager, "thread", None)
    if isinstance(task, asyncio.Task) and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    redis = getattr(sio.manager, "redis", None)
    if redis is not None:
        with contextlib.suppress(Exception):
            await redis.aclose()
