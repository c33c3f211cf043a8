"""``GET /metrics`` of a worker process: a small aiohttp server on the worker's event loop,
bound to ``MOCHUNG_METRICS_HOST`` and guarded by ``MOCHUNG_METRICS_TOKEN`` like the web
processes' (no token configured: every scrape is refused)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from mochung.metrics import CONTENT_TYPE_LATEST, Metrics, authorised, exposition
from mochung.settings import Settings


def metrics_app(settings: Settings, metrics: Metrics, queue_depth: Callable[[], int]) -> web.Application:
    async def scrape(request: web.Request) -> web.Response:
        token = settings.metrics_token
        if token is None or not authorised(request.headers.get("Authorization"), token.get_secret_value()):
            return web.Response(status=401, text="unauthorised", headers={"WWW-Authenticate": "Bearer"})
        try:
            metrics.chat_queue_depth.set(await asyncio.to_thread(queue_depth))
        except Exception:  # the broker is down: the last value stays
            pass
        return web.Response(body=exposition(metrics), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    return app


async def serve_metrics(
    settings: Settings, metrics: Metrics, port: int, queue_depth: Callable[[], int]
) -> web.AppRunner:
    """Start serving; the caller cleans the returned runner up at shutdown."""
    runner = web.AppRunner(metrics_app(settings, metrics, queue_depth), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.metrics_host, port).start()
    return runner
