"""Everything the web process opens at start-up and closes at shutdown (``cleanup_ctx``)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from mochung.adapters.database import close_database, open_database
from mochung.adapters.ratelimit import make_rate_limiter
from mochung.adapters.redis_client import redis_client
from mochung.server import keys
from mochung.tasks.processes import MemoryProcessRegistry, ProcessReport, RedisProcessRegistry, Reporter, describe

log = logging.getLogger("mochung.server")


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    # Embedded mode owns its SQLite file and migrates it; a shared database is migrated
    # on purpose, by `mochung db migrate`, never as a side effect of a web process starting.
    context = await open_database(settings.resolved_database_url, migrate=not settings.distributed)
    app[keys.DATABASE] = context

    async def check() -> str:
        await context.db().execute_query("SELECT 1")
        return "ok"

    app[keys.HEALTH_CHECKS]["database"] = check
    yield
    await close_database(context)


async def redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    client = redis_client(settings.redis_url, settings.redis_max_connections) if settings.redis_url else None
    app[keys.REDIS] = client
    app[keys.RATE_LIMITER] = make_rate_limiter(client)

    async def check() -> str:
        if client is None:
            return "embedded"
        await client.ping()
        return "ok"

    app[keys.HEALTH_CHECKS]["redis"] = check
    yield
    if client is not None:
        await client.aclose()


async def processes(app: web.Application) -> AsyncIterator[None]:
    """The registry of running processes (Redis, or in-process when embedded), and this web
    process reporting itself to it (the admin System screen)."""
    settings = app[keys.SETTINGS]
    client = app[keys.REDIS]
    registry = (
        RedisProcessRegistry(client, settings.broker_namespace) if client is not None else MemoryProcessRegistry()
    )
    app[keys.PROCESSES] = registry
    started_at = time.time()

    def snapshot() -> ProcessReport:
        relay = app.get(keys.LIVE_SOCKETS)
        return describe("web", settings.mode, started_at, sockets=relay.total() if relay is not None else 0)

    reporter = Reporter(registry, snapshot)
    await reporter.start()
    yield
    await reporter.stop()


async def http_session(app: web.Application) -> AsyncIterator[None]:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    app[keys.HTTP] = session
    yield
    await session.close()
