"""Short-lived state of in-flight turns: the streamed chunks (so a client that reconnects
mid-answer can resume without a gap) and the cancel flags the actor polls while streaming.

Memory (embedded mode; shared by the web loop and the worker's loop, hence the lock) or
Redis (distributed mode). ``cancelled_among`` lets a worker look at the flags of all its
turns in flight at once, rather than one call per turn. Both forget a turn ``retention_seconds`` after its last chunk.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from redis.asyncio import Redis

from mochung.domain.ports import Chunk

KEY_PREFIX = "mochung:turn:"


class MemoryTurnStore:
    name = "memory"

    def __init__(self, retention_seconds: int, clock: Callable[[], float] | None = None) -> None:
        self._retention = retention_seconds
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._chunks: dict[str, tuple[float, list[Chunk]]] = {}
        self._cancelled: dict[str, float] = {}
        self._leases: dict[str, tuple[str, float]] = {}  # message_id → (owner, expires at)

    def _expire(self, now: float) -> None:
        horizon = now - self._retention
        for key in [k for k, (touched, _) in self._chunks.items() if touched < horizon]:
            del self._chunks[key]
        for key in [k for k, touched in self._cancelled.items() if touched < horizon]:
            del self._cancelled[key]

    async def append(self, message_id: str, seq: int, delta: str) -> None:
        now = self._clock()
        with self._lock:
            _, chunks = self._chunks.get(message_id, (now, []))
            chunks.append({"seq": seq, "delta": delta})
            self._chunks[message_id] = (now, chunks)
            if len(self._chunks) % 256 == 0:
                self._expire(now)

    async def chunks_after(self, message_id: str, after_seq: int) -> list[Chunk]:
        with self._lock:
            self._expire(self._clock())
            _, chunks = self._chunks.get(message_id, (0.0, []))
            return [dict(chunk) for chunk in chunks if chunk["seq"] > after_seq]

    async def last_seq(self, message_id: str) -> int:
        with self._lock:
            _, chunks = self._chunks.get(message_id, (0.0, []))
            return max((chunk["seq"] for chunk in chunks), default=0)

    async def request_cancel(self, message_id: str) -> None:
        with self._lock:
            self._cancelled[message_id] = self._clock()

    async def cancel_requested(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._cancelled

    async def cancelled_among(self, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` were asked to stop (one look for every turn in flight)."""
        with self._lock:
            return {message_id for message_id in message_ids if message_id in self._cancelled}


    async def claim(self, message_id: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lease of ``message_id`` unless another owner holds it."""
        now = self._clock()
        with self._lock:
            held = self._leases.get(message_id)
            if held is not None and held[1] > now and held[0] != owner:
                return False
            self._leases[message_id] = (owner, now + ttl_seconds)
            if len(self._leases) % 256 == 0:
                self._leases = {k: v for k, v in self._leases.items() if v[1] > now}
            return True

    async def renew(self, message_ids: list[str], owner: str, ttl_seconds: float) -> None:
        now = self._clock()
        with self._lock:
            for message_id in message_ids:
                self._leases[message_id] = (owner, now + ttl_seconds)

    async def release(self, message_id: str, owner: str) -> None:
        with self._lock:
            held = self._leases.get(message_id)
            if held is not None and held[0] == owner:
                del self._leases[message_id]

    async def held_among(self, message_ids: list[str]) -> set[str]:
        now = self._clock()
        with self._lock:
            return {m for m in message_ids if (held := self._leases.get(m)) is not None and held[1] > now}


class RedisTurnStore:
    name = "redis"

    def __init__(self, redis: Redis, retention_seconds: int, prefix: str = KEY_PREFIX) -> None:
        self._redis = redis
        self._retention = retention_seconds
        self._prefix = prefix

    def _chunks_key(self, message_id: str) -> str:
        return f"{self._prefix}{message_id}:chunks"

    def _cancel_key(self, message_id: str) -> str:
        return f"{self._prefix}{message_id}:cancel"

    async def append(self, message_id: str, seq: int, delta: str) -> None:
        key = self._chunks_key(message_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, json.dumps({"seq": seq, "delta": delta}, ensure_ascii=False))
            pipe.expire(key, self._retention)
            await pipe.execute()

    async def chunks_after(self, message_id: str, after_seq: int) -> list[Chunk]:
        raw = await self._redis.lrange(self._chunks_key(message_id), 0, -1)
        chunks = [json.loads(item) for item in raw]
        return [chunk for chunk in chunks if chunk["seq"] > after_seq]

    async def last_seq(self, message_id: str) -> int:
        raw = await self._redis.lindex(self._chunks_key(message_id), -1)
        return int(json.loads(raw)["seq"]) if raw else 0

    async def request_cancel(self, message_id: str) -> None:
        await self._redis.set(self._cancel_key(message_id), "1", ex=self._retention)

    async def cancel_requested(self, message_id: str) -> bool:
        return bool(await self._redis.exists(self._cancel_key(message_id)))

    def _lease_key(self, message_id: str) -> str:
        return f"{self._prefix}{message_id}:lease"

    async def claim(self, message_id: str, owner: str, ttl_seconds: float) -> bool:
        key = self._lease_key(message_id)
        ttl_ms = max(1, int(ttl_seconds * 1000))
        if await self._redis.set(key, owner, px=ttl_ms, nx=True):
            return True
        if _text(await self._redis.get(key)) == owner:
            await self._redis.pexpire(key, ttl_ms)
            return True
        return False

    async def renew(self, message_ids: list[str], owner: str, ttl_seconds: float) -> None:
        """Renew (or set again, after a Redis restart) the leases this owner holds."""
        if not message_ids:
            return
        ttl_ms = max(1, int(ttl_seconds * 1000))
        async with self._redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.set(self._lease_key(message_id), owner, px=ttl_ms)
            await pipe.execute()

    async def release(self, message_id: str, owner: str) -> None:
        key = self._lease_key(message_id)
        if _text(await self._redis.get(key)) == owner:
            await self._redis.delete(key)

    async def held_among(self, message_ids: list[str]) -> set[str]:
        if not message_ids:
            return set()
        leases = await self._redis.mget([self._lease_key(message_id) for message_id in message_ids])
        return {message_id for message_id, lease in zip(message_ids, leases, strict=True) if lease is not None}

    async def cancelled_among(self, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` were asked to stop: one MGET for every turn in flight."""
        if not message_ids:
            return set()
        flags = await self._redis.mget([self._cancel_key(message_id) for message_id in message_ids])
        return {message_id for message_id, flag in zip(message_ids, flags, strict=True) if flag is not None}


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
