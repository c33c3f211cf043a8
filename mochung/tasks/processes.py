"""Which web and worker processes are running, and how busy each is (the admin System screen).

Every process reports itself every :data:`REPORT_SECONDS` — kind, host, pid, turns in
flight, sockets — into a :class:`ProcessRegistry`: a Redis hash in distributed mode (so
any web process can list every process of the deployment), a dict in embedded mode (the
web process and its in-process worker). A process that stops removes its entry; one that
dies simply stops reporting, and its entry is dropped once it is :data:`STALE_SECONDS` old.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from redis.asyncio import Redis

from mochung.aio import cancel_and_wait

log = logging.getLogger("mochung.processes")
REPORT_SECONDS = 5.0
STALE_SECONDS = 3 * REPORT_SECONDS
ProcessKind = Literal["web", "worker"]


@dataclass(frozen=True)
class ProcessReport:
    id: str
    kind: ProcessKind
    host: str
    pid: int
    mode: str
    started_at: float  # epoch seconds
    seen_at: float
    in_flight: int = 0  # chat turns running in the process (workers)
    concurrency: int = 0  # turns it may run at once (workers)
    sockets: int = 0  # sockets joined to a chat room (web)


def describe(kind: ProcessKind, mode: str, started_at: float, **counts: int) -> ProcessReport:
    """This process as it is now."""
    host, pid = socket.gethostname(), os.getpid()
    return ProcessReport(
        id=f"{kind}:{host}:{pid}",
        kind=kind,
        host=host,
        pid=pid,
        mode=mode,
        started_at=started_at,
        seen_at=time.time(),
        **counts,
    )


class ProcessRegistry(Protocol):
    async def report(self, report: ProcessReport) -> None: ...
    async def remove(self, process: str) -> None: ...
    async def gather(self) -> list[ProcessReport]: ...


def _fresh(reports: list[ProcessReport], now: float) -> list[ProcessReport]:
    return sorted((r for r in reports if now - r.seen_at <= STALE_SECONDS), key=lambda r: (r.kind, r.id))


class MemoryProcessRegistry:
    """Embedded mode: the web process and its worker, in one process (two loops: the dict
    is only read and written whole, never awaited in between)."""

    def __init__(self) -> None:
        self._reports: dict[str, ProcessReport] = {}

    async def report(self, report: ProcessReport) -> None:
        self._reports[report.id] = report

    async def remove(self, process: str) -> None:
        self._reports.pop(process, None)

    async def gather(self) -> list[ProcessReport]:
        return _fresh(list(self._reports.values()), time.time())


class RedisProcessRegistry:
    """Distributed mode: one hash, ``{namespace}:mochung:processes``, process id → report."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._key = f"{namespace}:mochung:processes"

    async def report(self, report: ProcessReport) -> None:
        await self._redis.hset(self._key, report.id, json.dumps(asdict(report)))

    async def remove(self, process: str) -> None:
        await self._redis.hdel(self._key, process)

    async def gather(self) -> list[ProcessReport]:
        raw: dict[Any, Any] = await self._redis.hgetall(self._key)
        now = time.time()
        reports: list[ProcessReport] = []
        for field, value in raw.items():
            try:
                report = ProcessReport(**json.loads(value))
            except (TypeError, ValueError):
                report = None
            if report is None or now - report.seen_at > STALE_SECONDS:
                await self._redis.hdel(self._key, field)  # a process that died without removing itself
                continue
            reports.append(report)
        return _fresh(reports, now)


class Reporter:
    """Reports ``snapshot()`` every ``interval`` on the loop it was started on."""

    def __init__(
        self, registry: ProcessRegistry, snapshot: Callable[[], ProcessReport], interval: float = REPORT_SECONDS
    ) -> None:
        self._registry = registry
        self._snapshot = snapshot
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._id: str | None = None

    async def start(self) -> None:
        await self._report()
        self._task = asyncio.create_task(self._loop(), name="mochung-process-reporter")

    async def _report(self) -> None:
        try:
            report = self._snapshot()
            self._id = report.id
            await self._registry.report(report)
        except Exception as error:  # Redis hiccup: report again at the next beat
            log.warning("cannot report this process: %s", type(error).__name__)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._report()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._id is not None:
            with contextlib.suppress(Exception):
                await self._registry.remove(self._id)
