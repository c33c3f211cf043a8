"""The public page cache: one refill however many guests arrive, expiry, and bounded memory."""

from __future__ import annotations

import asyncio
import json

import pytest

from mochung.server.pages.public_cache import CachedPage, PublicPageCache

PAYLOAD = {"id": "p1", "title": "민수 ♥ 지은", "componentData": {"components": [{"n": -918273645}]}, "viewCount": 3}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_misses_load_once() -> None:
    cache = PublicPageCache()
    loads = 0

    async def load() -> dict:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return PAYLOAD

    pages = await asyncio.gather(*(cache.page_or_load("our-day", load) for _ in range(20)))

    assert loads == 1
    assert all(page is pages[0] for page in pages)


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache = PublicPageCache()

    async def missing() -> dict:
        await asyncio.sleep(0.01)
        raise LookupError("page not found")

    results = await asyncio.gather(*(cache.page_or_load("gone", missing) for _ in range(3)), return_exceptions=True)

    assert all(isinstance(result, LookupError) for result in results)
    assert cache.page("gone") is None


async def test_entries_expire_and_can_be_forgotten() -> None:
    clock = Clock()
    cache = PublicPageCache(ttl_seconds=2.0, clock=clock)

    async def load() -> dict:
        return PAYLOAD

    await cache.page_or_load("a", load)
    await cache.page_or_load("b", load)
    assert cache.page("a") is not None
    cache.forget("a")
    assert cache.page("a") is None
    clock.now += 2.0
    assert cache.page("b") is None


def test_counted_views_are_bounded() -> None:
    cache = PublicPageCache(max_views=2)
    for visitor in ("v1", "v2", "v3"):
        cache.remember_counted(("p1", visitor, 20_000))

    assert not cache.counted(("p1", "v1", 20_000))  # the oldest was dropped
    assert cache.counted(("p1", "v3", 20_000))


@pytest.mark.parametrize("count", [0, 7, 123_456])
def test_cached_body_is_the_payload_with_the_live_count(count: int) -> None:
    page = CachedPage(PAYLOAD)

    page.view_count = count

    assert json.loads(page.body()) == {**PAYLOAD, "viewCount": count}
