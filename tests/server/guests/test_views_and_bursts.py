"""Views counted without a database write per request (``server.views``): once per visitor
per day, flushed in batches, across web processes (Redis), again-proof after a restart, and
flushed on shutdown. And a burst of guests (a link shared in a 300-person group chat)
answering and writing at once gets no error."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from mochung.domain.models import GuestbookEntry, Page, PageView, Rsvp
from mochung.server import keys
from mochung.server.app import create_app
from mochung.server.pages.views import MemorySeenViews, RedisSeenViews, ViewCounter
from mochung.settings import Settings
from tests.server.guests.helpers import answer, publish
from tests.support.users import user_with_headers


async def _views(page_id: str) -> tuple[int, int]:
    page = await Page.get(id=page_id)
    return page.view_count, await PageView.filter(page_id=page_id).count()


async def _visit(client: TestClient, slug: str, agent: str) -> int:
    client.session.cookie_jar.clear()
    response = await client.get(f"/api/page/public/{slug}", headers={"User-Agent": agent})
    assert response.status == 200
    return int((await response.json())["viewCount"])


async def test_views_are_buffered_then_written_once_per_visitor_per_day(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers, settings=None)
    for agent in ("guest-1", "guest-2", "guest-1", "guest-3", "guest-2"):
        await _visit(client, page["slug"], agent)
    # what guests see counts the buffered views at once
    assert await _visit(client, page["slug"], "guest-3") == 3
    counter = client.server.app[keys.VIEWS]
    await counter.flush()
    assert await _views(page["id"]) == (3, 3)
    assert counter.pending(page["id"]) == 0
    assert await _visit(client, page["slug"], "guest-1") == 3  # the cached page may be stale by 2 s: not the count

    # a restart forgets the in-memory set; the database still knows who was counted today
    restarted = ViewCounter(MemorySeenViews())
    day = int(next(iter(await PageView.filter(page_id=page["id"]).values_list("day", flat=True))).toordinal())
    day -= 719163  # days since 1970-01-01
    for visitor in await PageView.filter(page_id=page["id"]).values_list("visitor_id", flat=True):
        assert await restarted.view(page["id"], str(visitor), day)
    assert await restarted.view(page["id"], "someone-new", day)
    assert await restarted.flush() == 1
    assert await _views(page["id"]) == (4, 4)


async def test_a_deleted_page_and_its_views_do_not_stop_the_others(client: TestClient) -> None:
    _, headers = await user_with_headers()
    kept = await publish(client, headers, settings=None)
    gone = await publish(client, headers, settings=None)
    counter = ViewCounter(MemorySeenViews())
    await counter.view(kept["id"], "v1", 20_000)
    await counter.view(gone["id"], "v1", 20_000)
    await Page.filter(id=gone["id"]).delete()
    assert await counter.flush() == 1
    assert await _views(kept["id"]) == (1, 1)


async def test_distributed_web_processes_count_a_visitor_once(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    try:
        first, second = ViewCounter(RedisSeenViews(redis, namespace)), ViewCounter(RedisSeenViews(redis, namespace))
        assert await first.view("page-a", "visitor-1", 20_000)
        assert not await second.view("page-a", "visitor-1", 20_000)  # another process: already counted
        assert await second.view("page-a", "visitor-1", 20_001)  # the next day
        assert await second.view("page-b", "visitor-1", 20_000)  # another page
        assert (first.pending("page-a"), second.pending("page-a"), second.pending("page-b")) == (1, 1, 1)
        ttl = await redis.ttl(f"{namespace}:views:20000:page-a")
        assert 0 < ttl <= 2 * 24 * 3600
    finally:
        keys_left = [key async for key in redis.scan_iter(f"{namespace}:*")]
        if keys_left:
            await redis.delete(*keys_left)
        await redis.aclose()


async def test_views_left_in_the_buffer_are_flushed_on_shutdown(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        _, headers = await user_with_headers()
        page = await publish(client, headers, settings=None)
        app[keys.VIEWS]._seen = MemorySeenViews()  # a fresh set: these guests are new
        for agent in ("a", "b"):
            await _visit(client, page["slug"], agent)
    finally:
        flusher = app[keys.VIEWS]
        await client.close()  # the cleanup contexts: the last flush, then the database closes
    assert flusher.pending(page["id"]) == 0
    # read back through an app of its own (the first one closed its database)
    reader = TestClient(TestServer(create_app(make_settings())))
    await reader.start_server()
    try:
        counts = await _views(page["id"])
    finally:
        await reader.close()
    assert counts == (2, 2)


@pytest.mark.timeout(240)
async def test_300_guests_answering_and_writing_within_10_seconds_get_no_error(client: TestClient) -> None:
    _, headers = await user_with_headers()
    page = await publish(client, headers)
    url = str(client.make_url(""))
    slug = page["slug"]
    failures: list[str] = []

    async def guest(n: int, session: aiohttp.ClientSession) -> None:
        await asyncio.sleep(random.uniform(0, 10))  # they arrive within 10 s
        async with session.get(f"{url}/api/page/public/{slug}") as response:
            if response.status != 200:
                failures.append(f"page {response.status}")
        body = answer(name=f"하객{n}", side=random.choice(("groom", "bride")), partySize=random.randint(1, 4))
        async with session.post(f"{url}/api/page/public/{slug}/rsvp", json=body) as response:
            if response.status != 201:
                failures.append(f"rsvp {response.status} {await response.text()}")
        entry = {"name": f"하객{n}", "content": f"결혼 축하드려요! ({n})", "password": "1234"}
        async with session.post(f"{url}/api/page/public/{slug}/guestbook", json=entry) as response:
            if response.status != 201:
                failures.append(f"guestbook {response.status} {await response.text()}")

    async def one(n: int) -> None:
        # each guest their own phone: their own cookies, their own connection
        timeout = aiohttp.ClientTimeout(total=180)
        async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": f"phone-{n}"}) as session:
            await guest(n, session)

    await asyncio.gather(*(one(n) for n in range(300)))
    assert failures == []
    assert await Rsvp.filter(page_id=page["id"]).count() == 300
    assert await GuestbookEntry.filter(page_id=page["id"]).count() == 300
    await client.server.app[keys.VIEWS].flush()
    assert (await Page.get(id=page["id"])).view_count == 300
