"""Counting public page views without a database write per request.

A guest's first view of a page on a (Korean) day is decided in memory or in Redis, and
buffered; a flusher writes the buffer every ``FLUSH_SECONDS``: per page, the new
``page_views`` rows in one INSERT and one ``UPDATE pages SET view_count = view_count + n``.

- **Which views are new.** Embedded mode: a set per day in this process. Distributed mode:
  a Redis set per page and day (``SADD``, expiring after two days), shared by every web
  process, so a guest whose reloads land on different processes is counted once. The
  public-page cache's own memory of counted views (``PublicPageCache.counted``) stays in
  front, so a reload in the same process costs nothing at all.
- **The database stays the authority.** A flush inserts only the rows the database does
  not have yet (read in the same transaction) and adds that many to ``view_count``; so a
  view seen again after a restart (embedded memory gone) or after a Redis loss is still
  counted once per visitor and day.
- **Nothing lost on a clean stop**: the web app's cleanup (``server.pages.view_counting``)
  flushes what is left, before the database closes. A crash loses at most the last second
  of counts (it never counts one twice).
- What a guest sees: the page's count is the database's plus this process's unflushed
  views; elsewhere (the couple's and the admins' views) the count can lag by up to a second.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import defaultdict
from typing import Any, Protocol

from redis.asyncio import Redis
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from mochung.domain.models import Page, PageView

FLUSH_SECONDS = 1.0
DEDUP_TTL_SECONDS = 2 * 24 * 3600  # a Korean day's set outlives the day, then goes
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
log = logging.getLogger("mochung.pages")


class SeenViews(Protocol):
    async def first(self, page_id: str, visitor: str, day: int) -> bool:
        """True the first time (page, visitor, day number) is seen."""
        ...


class MemorySeenViews:
    """Embedded mode: one process serves every guest. Sets of the current days only."""

    def __init__(self) -> None:
        self._days: dict[int, set[tuple[str, str]]] = {}

    async def first(self, page_id: str, visitor: str, day: int) -> bool:
        seen = self._days.get(day)
        if seen is None:
            for old in [d for d in self._days if d < day - 1]:  # keep yesterday: the clock's edge
                del self._days[old]
            seen = self._days[day] = set()
        key = (page_id, visitor)
        if key in seen:
            return False
        seen.add(key)
        return True


class RedisSeenViews:
    """Distributed mode: ``SADD {namespace}:views:{day}:{page}`` with an expiry, one round trip."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:views"

    async def first(self, page_id: str, visitor: str, day: int) -> bool:
        key = f"{self._prefix}:{day}:{page_id}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, visitor)
            pipe.expire(key, DEDUP_TTL_SECONDS)
            added, _ = await pipe.execute()
        return bool(added)


class ViewCounter:
    """Decides first views and buffers them; :meth:`flush` writes the buffer."""

    def __init__(self, seen: SeenViews) -> None:
        self._seen = seen
        self._pending: dict[tuple[str, int], list[str]] = defaultdict(list)  # (page, day) → visitors
        self._lock = asyncio.Lock()  # one flush at a time (the timer's, the final one)

    async def view(self, page_id: str, visitor: str, day: int) -> bool:
        """Count a view if it is the visitor's first of the day on the page (buffered)."""
        if not await self._seen.first(page_id, visitor, day):
            return False
        self._pending[(page_id, day)].append(visitor)
        return True

    def pending(self, page_id: str) -> int:
        """Views of the page counted here and not yet written."""
        return sum(len(visitors) for (page, _), visitors in self._pending.items() if page == page_id)

    async def flush(self) -> int:
        """Write what is buffered: per page and day one INSERT of the new rows and one UPDATE.
        Returns the views added. A failed page's views go back to the buffer (retried)."""
        async with self._lock:
            batch, self._pending = self._pending, defaultdict(list)
            added = 0
            for (page_id, day), visitors in batch.items():
                try:
                    added += await _write(page_id, day, visitors)
                except Exception as error:  # the database is down: keep the views for the next flush
                    log.warning("could not write %d views of page %s: %s", len(visitors), page_id, error)
                    self._pending[(page_id, day)].extend(visitors)
            return added


async def _write(page_id: str, day_number: int, visitors: list[str]) -> int:
    day = dt.date.fromordinal(EPOCH_ORDINAL + day_number)
    wanted = list(dict.fromkeys(visitors))
    async with in_transaction() as connection:
        if not await Page.filter(id=page_id).using_db(connection).exists():
            return 0  # deleted meanwhile
        rows_known: list[Any] = (
            await PageView.filter(page_id=page_id, day=day, visitor_id__in=wanted)
            .using_db(connection)
            .values_list("visitor_id", flat=True)
        )  # flat: scalars, not tuples
        known = {str(visitor) for visitor in rows_known}
        new = [visitor for visitor in wanted if visitor not in known]
        if not new:
            return 0
        rows = [PageView(id=uuid.uuid4(), page_id=page_id, visitor_id=v, day=day) for v in new]
        await PageView.bulk_create(rows, ignore_conflicts=True, using_db=connection)
        await Page.filter(id=page_id).using_db(connection).update(view_count=F("view_count") + len(new))
    return len(new)


async def flush_every(counter: ViewCounter, seconds: float = FLUSH_SECONDS) -> None:
    """The flusher's loop (until cancelled); a failed flush is logged, never ends it."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await counter.flush()
        except Exception:
            log.exception("view flush failed")
