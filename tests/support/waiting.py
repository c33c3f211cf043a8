"""Waiting for something another task, process or connection does, with a generous bound.

The bound is there so a broken test fails instead of hanging; it is never a timing
assertion. Prefer waiting on a reply that says the thing happened (a pong, a task to
gather); use these only where nothing tells us.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

WAIT_SECONDS = 30.0
INTERVAL_SECONDS = 0.02


def _truthy(value: Any) -> bool:
    return bool(value)


async def eventually(
    probe: Callable[[], T | Awaitable[T]],
    what: str,
    *,
    until: Callable[[T], bool] = _truthy,
    within: float = WAIT_SECONDS,
    interval: float = INTERVAL_SECONDS,
    pause: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """Call ``probe`` (plain or async) until ``until(value)`` holds, and return that value.

    ``pause`` waits between calls: ``asyncio.sleep`` by default, ``pilot.pause`` in a
    Textual test so the app handles its messages meanwhile. Raises AssertionError naming
    ``what`` when ``within`` seconds pass first.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if until(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pause(interval)


def wait_until(
    probe: Callable[[], T],
    what: str,
    *,
    until: Callable[[T], bool] = _truthy,
    within: float = WAIT_SECONDS,
    interval: float = 0.1,
) -> T:
    """The blocking twin of :func:`eventually`, for tests that drive real processes from
    plain (non-async) code. Raises AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
