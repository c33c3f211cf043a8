"""A short-lived, per-process cache for the public page route: the route every guest hits
when an invitation link is shared in a group chat.

Two things are kept in memory:
- the rendered page by slug, for ``ttl_seconds`` (2 s): a burst of guests costs one
  database read per process and slug. Updates and deletes made through this process
  forget the slug at once; elsewhere (another web process, an admin hiding the page)
  the change shows within the TTL.
- which (page, visitor, day) views this process has already counted, so a guest who
  reloads does not go back to the database to be told it was counted. Bounded: the
  oldest entries are dropped first, and the database's unique row stays the authority.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

ViewKey = tuple[str, str, int]  # page id, visitor id, day number
_PLACEHOLDER = -918273645  # a viewCount no page has: where the live count goes in the cached JSON


class CachedPage:
    """A public page serialised once; only its view count changes between guests."""

    __slots__ = ("_prefix", "_suffix", "page_id", "view_count")

    def __init__(self, payload: dict[str, Any]) -> None:
        self.page_id = str(payload["id"])
        self.view_count = int(payload["viewCount"])
        # viewCount goes last, so the last occurrence of the placeholder is the right one
        # whatever the page's own data contains.
        fields = {key: value for key, value in payload.items() if key != "viewCount"}
        body = orjson.dumps({**fields, "viewCount": _PLACEHOLDER})
        self._prefix, _, self._suffix = body.rpartition(str(_PLACEHOLDER).encode())

    def body(self) -> bytes:
        return b"%b%d%b" % (self._prefix, self.view_count, self._suffix)


Loader = Callable[[], Awaitable[dict[str, Any]]]


class PublicPageCache:
    def __init__(
        self, ttl_seconds: float = 2.0, max_views: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._max_views = max_views
        self._clock = clock
        self._pages: dict[str, tuple[float, CachedPage]] = {}
        self._loading: dict[str, asyncio.Future[CachedPage]] = {}
        self._counted: OrderedDict[ViewKey, None] = OrderedDict()

    def page(self, slug: str) -> CachedPage | None:
        entry = self._pages.get(slug)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._pages[slug]
            return None
        return entry[1]

    async def page_or_load(self, slug: str, load: Loader) -> CachedPage:
        """The cached page, or ``load()``ed once however many guests ask at the same moment
        (when an entry expires under load, one database read refills it, not one per request)."""
        payload = self.page(slug)
        if payload is not None:
            return payload
        pending = self._loading.get(slug)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CachedPage] = asyncio.get_running_loop().create_future()
        self._loading[slug] = future
        try:
            cached = CachedPage(await load())
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        else:
            self.keep(slug, cached)
            future.set_result(cached)
            return cached
        finally:
            del self._loading[slug]

    def keep(self, slug: str, page: CachedPage) -> None:
        if len(self._pages) > 10_000:  # many slugs in 2 s: drop the expired ones
            now = self._clock()
            for stale in [s for s, (expires, _) in self._pages.items() if expires <= now]:
                del self._pages[stale]
        self._pages[slug] = (self._clock() + self._ttl, page)

    def forget(self, *slugs: str) -> None:
        for slug in slugs:
            self._pages.pop(slug, None)

    def counted(self, key: ViewKey) -> bool:
        return key in self._counted

    def remember_counted(self, key: ViewKey) -> None:
        self._counted[key] = None
        while len(self._counted) > self._max_views:
            self._counted.popitem(last=False)
