"""Small asyncio helpers every layer uses for its background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait until it has really stopped, so nothing it holds outlives the
    caller's shutdown; a task already finished or ``None`` is fine."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def running(coroutine: Coroutine[Any, Any, None], name: str) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``coroutine`` as a background task for the length of the ``async with`` block."""
    task = asyncio.create_task(coroutine, name=name)
    try:
        yield task
    finally:
        await cancel_and_wait(task)


class Coalesced(Generic[K, V]):
    """One round trip for many callers: calls made while a round trip is in flight wait,
    and go together in the next one (``fetch(keys)`` → result per key; a key it leaves out
    gets None). Against SQLite — one connection, one query at a time — a storm of
    connects then costs a few dozen round trips instead of one each. Per event loop (the
    embedded worker threads have loops of their own)."""

    def __init__(self, fetch: Callable[[list[K]], Awaitable[dict[K, V]]], max_batch: int = 500) -> None:
        self._fetch = fetch
        self._max_batch = max_batch
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batches[K, V]] = weakref.WeakKeyDictionary()

    async def __call__(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        batches = self._loops.get(loop)
        if batches is None:
            batches = self._loops[loop] = _Batches()
        waiter: asyncio.Future[V | None] = loop.create_future()
        batches.pending.setdefault(key, []).append(waiter)
        if batches.drain is None:
            batches.drain = loop.create_task(self._drain(batches))
        return await waiter

    async def _drain(self, batches: _Batches[K, V]) -> None:
        try:
            while batches.pending:
                keys = list(batches.pending)[: self._max_batch]
                waiters = {key: batches.pending.pop(key) for key in keys}
                try:
                    results = await self._fetch(keys)
                except asyncio.CancelledError:
                    for futures in waiters.values():
                        for future in futures:
                            future.cancel()
                    raise
                except Exception as error:
                    for futures in waiters.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for key, futures in waiters.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(results.get(key))
        finally:
            batches.drain = None
            for futures in batches.pending.values():  # cancelled meanwhile
                for future in futures:
                    if not future.done():
                        future.cancel()
            batches.pending.clear()


class _Batches(Generic[K, V]):
    def __init__(self) -> None:
        self.pending: dict[K, list[asyncio.Future[V | None]]] = {}
        self.drain: asyncio.Task[None] | None = None
