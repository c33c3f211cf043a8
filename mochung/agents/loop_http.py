"""One HTTP connection pool per event loop for the OpenAI-family chat models.

``langchain-openai`` hands every ``ChatOpenAI`` of a process one cached ``httpx`` async
client (per base URL and timeout), and a pooled connection belongs to the event loop that
opened it. A process runs model calls on more than one loop — ``mochung serve`` runs
evaluations on the web loop and chat turns on the embedded worker's loop; each
``asyncio.run`` of the CLI, and each test, is a loop of its own — so a connection opened
on one loop was reused on another, or after its loop had closed (``RuntimeError: Event
loop is closed``). :func:`loop_local_http_client` is the client these models get instead:
the OpenAI SDK's defaults over :class:`LoopLocalTransport`, a pool per loop.

Loaded only when such a model is configured (it imports the OpenAI SDK's httpx)."""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from typing import Any

from langchain_openai._compat import httpx  # httpx or httpx2: whichever the installed OpenAI SDK uses

# the OpenAI SDK's own defaults (openai.DefaultAsyncHttpxClient)
LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


class LoopLocalTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport with one connection pool per event loop: a request uses the
    pool of the loop it runs on; a loop's pool goes with the loop (held weakly)."""

    def __init__(self, **pool_options: Any) -> None:
        self._make = functools.partial(httpx.AsyncHTTPTransport, **pool_options)
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncHTTPTransport] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # the web loop and the embedded worker's loop are two threads

    def pool(self) -> httpx.AsyncHTTPTransport:
        """The running loop's pool, made on its first request."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._pools.get(loop)
            if pool is None:
                pool = self._pools[loop] = self._make()
            return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.pool().handle_async_request(request)

    async def aclose(self) -> None:
        """Close the running loop's pool (the others belong to their own loops)."""
        with self._lock:
            pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.aclose()


@functools.cache
def loop_local_http_client() -> httpx.AsyncClient:
    """The process's async client for OpenAI-family chat models: the SDK's defaults (limits,
    redirects) over a pool per loop. Each request carries the model's own timeout. A proxy
    from the environment is mounted by httpx beside this transport, as before."""
    return httpx.AsyncClient(transport=LoopLocalTransport(limits=LIMITS), follow_redirects=True)
