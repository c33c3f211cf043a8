"""GET /api/health and GET /api: each dependency's state, 503 when one is down."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Literal

from aiohttp import web

from mochung.server import keys
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
log = logging.getLogger("mochung.health")
CHECK_TIMEOUT_SECONDS = 3.0
DOWN = "down"


class Health(WireModel):
    status: Literal["ok", "degraded"]
    timestamp: UtcDatetime
    services: dict[str, str]


async def _run(name: str, check: keys.HealthCheck) -> str:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # a health check reports, it never fails the request
        log.warning("health check %s failed: %s", name, type(error).__name__)
        return DOWN


@routes.get("/api/health")
@routes.get("/api")
@endpoint(summary="Service health", tag="health", response=Health, errors=(503,))
async def health(request: web.Request) -> web.Response:
    checks = request.app[keys.HEALTH_CHECKS]
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    services = dict(zip(checks, results, strict=True))
    healthy = DOWN not in results
    body = Health(status="ok" if healthy else "degraded", timestamp=dt.datetime.now(dt.UTC), services=services)
    return respond(body, status=200 if healthy else 503)
