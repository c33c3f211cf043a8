"""The Redis client of one process: one bounded pool for everything the process asks of Redis.

redis-py (8.x) caps a plain pool at 100 connections and *fails* the call that would need a
101st (``MaxConnectionsError``): a burst of 200 couples sending at once then got
"unavailable". A blocking pool makes that call wait for a connection to come back instead —
back-pressure, not an error — and fails only if none does within ``POOL_WAIT_SECONDS``.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

POOL_WAIT_SECONDS = 10.0


def redis_client(url: str, max_connections: int) -> Redis:
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS)
    return Redis(connection_pool=pool)
