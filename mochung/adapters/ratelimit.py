"""Fixed-window rate limits: in memory for one process, in Redis when processes share them."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from redis.asyncio import Redis

from mochung.domain.ports import RateLimiter


class MemoryRateLimiter:
    name = "memory"

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._clock = clock or time.monotonic

    async def hit(self, key: str, limit: int, window_seconds: int) -> float | None:
        now = self._clock()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        if len(self._windows) > 10_000:
            self._forget_expired(now, window_seconds)
        if count > limit:
            return max(window_seconds - (now - started), 0.001)
        return None

    def _forget_expired(self, now: float, window_seconds: int) -> None:
        for stale in [k for k, (start, _) in self._windows.items() if now - start >= window_seconds]:
            del self._windows[stale]


class RedisRateLimiter:
    name = "redis"

    def __init__(self, redis: Redis, prefix: str = "mochung:rl:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window_seconds: int) -> float | None:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.pttl(name)
            count, _, ttl_ms = await pipe.execute()
        if int(count) > limit:
            return max(int(ttl_ms), 1) / 1000 if int(ttl_ms) > 0 else float(window_seconds)
        return None


def make_rate_limiter(redis: Redis | None, prefix: str = "mochung:rl:") -> RateLimiter:
    return RedisRateLimiter(redis, prefix) if redis is not None else MemoryRateLimiter()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
