"""Everything the web process opens at start-up and closes at shutdown (``cleanup_ctx``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from mochung.adapters.database import close_database, open_database
from mochung.adapters.ratelimit import make_rate_limiter
from mochung.server import keys

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
    client = Redis.from_url(settings.redis_url) if settings.redis_url else None
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


async def http_session(app: web.Application) -> AsyncIterator[None]:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    app[keys.HTTP] = session
    yield
    await session.close()
