"""What the benchmarks share: percentiles, CPU and memory of processes read from /proc,
the open-file limit, a scratch PostgreSQL database, process start-up helpers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import resource
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def p50_p99(values: list[float]) -> tuple[float, float]:
    return percentile(values, 0.5), percentile(values, 0.99)


def ratio(value: float, base: float) -> float:
    return value / base if base and base == base else float("nan")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a CLI may start the server as a child)."""
    tree = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its live descendants (/proc/<pid>/stat, all threads)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (/proc/<pid>/statm)."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/statm") as statm:
                total += int(statm.read().split()[1]) * PAGE_SIZE
        except OSError:
            continue
    return total


@dataclass
class CpuMeter:
    """CPU of a set of processes between ``start`` and ``stop``."""

    pids: dict[str, int]

    def __post_init__(self) -> None:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.wall_started = time.perf_counter()

    def used(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.before[name] for name, pid in self.pids.items()}


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-file limit (soft, up to the hard limit); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


async def _on_server(server_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database on ``server_url`` (which names any existing database),
    dropped afterwards; yields its ``postgres://`` URL."""
    name = f"mochung_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _in_thread(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}".replace("postgresql://", "postgres://", 1)
    finally:
        _in_thread(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _in_thread(server_url: str, statement: str) -> None:
    """Run one statement on its own loop in a thread (callers may be inside a running loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _on_server(server_url, statement)).result(timeout=60)


async def forget_namespace(redis_url: str, namespace: str) -> None:
    """Delete the Redis keys of a private broker namespace."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms"
