"""What a chat worker opens for itself: database, Redis, the bus publisher, the turn
store, an HTTP session and the agent runtime.

Dramatiq runs async actors on its own event-loop thread (the ``AsyncIO`` middleware), and
asyncpg pools, aiosqlite connections and Redis clients belong to the loop that opened
them. So the worker never borrows the web process's connections: :class:`WorkerLifecycle`
opens these on Dramatiq's loop after the worker boots and closes them at shutdown. In
embedded mode the in-memory bus hub and turn store are *shared* objects (plain data
guarded by locks), handed in by the web process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware
from redis.asyncio import Redis
from tortoise.context import TortoiseContext

from mochung.adapters.bus import MemoryHub, RedisPublisher
from mochung.adapters.database import close_database, open_database
from mochung.adapters.turns import MemoryTurnStore, RedisTurnStore
from mochung.domain.ports import Publisher, TurnStore
from mochung.settings import Settings

log = logging.getLogger("mochung.worker")

RuntimeFactory = Callable[[Settings, aiohttp.ClientSession | None], Any]


def default_runtime_factory(settings: Settings, http: aiohttp.ClientSession | None) -> Any:
    from mochung.agents import build_runtime  # the agents package is heavy: load it in the worker only

    return build_runtime(settings, http=http)


class ChatWorkerResources:
    """Filled by :meth:`open` on the worker's loop; read by the actor."""

    def __init__(
        self,
        settings: Settings,
        *,
        hub: MemoryHub | None = None,
        turns: TurnStore | None = None,
        runtime_factory: RuntimeFactory | None = None,
    ) -> None:
        self.settings = settings
        self._hub = hub
        self._shared_turns = turns
        self._runtime_factory = runtime_factory or default_runtime_factory
        self.database: TortoiseContext | None = None
        self.redis: Redis | None = None
        self.http: aiohttp.ClientSession | None = None
        self.publisher: Publisher | None = None
        self.turns: TurnStore | None = None
        self.runtime: Any = None
        self.open_error: BaseException | None = None

    async def open(self) -> None:
        settings = self.settings
        self.database = await open_database(settings.resolved_database_url, migrate=False, as_global=False)
        if settings.redis_url:
            self.redis = Redis.from_url(settings.redis_url)
            self.publisher = RedisPublisher(self.redis)
            self.turns = self._shared_turns or RedisTurnStore(self.redis, settings.chunk_retention_seconds)
        else:
            self.publisher = self._hub or MemoryHub()
            self.turns = self._shared_turns or MemoryTurnStore(settings.chunk_retention_seconds)
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.llm_timeout_seconds))
        self.runtime = self._runtime_factory(settings, self.http)
        log.info("chat worker resources open (%s)", settings.mode)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.database is not None:
            await close_database(self.database)
        self.database = self.redis = self.http = None


class WorkerLifecycle(Middleware):
    """Open the worker's resources on Dramatiq's event loop before any worker thread takes a
    message (``AsyncIO`` has started the loop by then: it must come first in the list);
    close them after the worker threads have finished their messages."""

    def __init__(self, resources: ChatWorkerResources) -> None:
        self.resources = resources

    def _run(self, coroutine: Any) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            raise RuntimeError("the AsyncIO middleware must come before WorkerLifecycle")
        loop_thread.run_coroutine(coroutine)

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        try:
            self._run(self.resources.open())
        except Exception as error:  # Dramatiq would only log it: keep it for ChatWorker.start
            self.resources.open_error = error

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._run(self.resources.close())
