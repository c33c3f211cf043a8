"""A web process's Redis pool is bounded and makes a burst wait, never fail: with room for
two connections, twenty requests that each need Redis at once all get their answer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from mochung.server.app import create_app
from mochung.settings import Settings


async def test_a_burst_beyond_the_pool_waits_for_a_connection_instead_of_failing(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis_url: str
) -> None:
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    settings = make_settings(redis_url=redis_url, broker_namespace=namespace, redis_max_connections=2)
    client = await aiohttp_client(create_app(settings))

    async def bad_login(index: int) -> int:
        # each login attempt is counted in Redis (the per-email and per-address limits)
        body = {"email": f"nobody-{index}-{namespace}@mochung.test", "password": "wrong-password"}
        response = await client.post("/api/auth/login", json=body)
        return response.status

    statuses = await asyncio.gather(*(bad_login(index) for index in range(20)))
    assert statuses == [401] * 20  # refused for the password, never 503 for a busy pool
