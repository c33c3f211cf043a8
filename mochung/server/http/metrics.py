"""Prometheus for the web process: the middleware that counts every HTTP request by route
template, and ``GET /metrics`` (only with ``Authorization: Bearer $MOCHUNG_METRICS_TOKEN``;
without the setting the path does not exist). Not part of the API: not in the OpenAPI
document. The registry itself is ``app[keys.METRICS]`` (``mochung.metrics``)."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from mochung.metrics import CONTENT_TYPE_LATEST, UNMATCHED_ROUTE, authorised, exposition
from mochung.server import keys
from mochung.server.http.middlewares import error_response
from mochung.server.http.wire import Handler

log = logging.getLogger("mochung.metrics")
routes = web.RouteTableDef()
METRICS_PATH = "/metrics"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other: "other"


def route_template(request: web.Request) -> str:
    """The matched route's template (``/api/page/{id}``), never the raw path."""
    match = request.match_info
    resource = match.route.resource if match.http_exception is None else None
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: it sees the status the client gets (errors are JSON bodies by then)."""
    metrics = request.app[keys.METRICS]
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:  # redirects and the like, raised past the error middleware
        status = error.status
        raise
    finally:
        route = route_template(request)
        method = request.method if request.method in METHODS else "other"
        metrics.child(metrics.http_requests, route=route, method=method, status=str(status)).inc()
        metrics.child(metrics.http_request_duration, route=route, method=method).observe(time.perf_counter() - started)
        if status == 429:
            metrics.child(metrics.rate_limited, route=route).inc()


async def refresh_gauges(app: web.Application) -> None:
    """What is read rather than counted: queue depth and the relay, at scrape time."""
    metrics = app[keys.METRICS]
    measure = app.get(keys.QUEUE_DEPTH)
    if measure is not None:
        try:
            metrics.chat_queue_depth.set(await measure())
        except Exception as error:  # the broker is down: keep the last value, say so in the log
            log.warning("queue depth unavailable for metrics: %s", type(error).__name__)
    relay = app.get(keys.LIVE_SOCKETS)
    if relay is not None:
        metrics.relay_subscriptions.set(len(relay.per_session()))
        metrics.relay_sockets.set(relay.total())


@routes.get(METRICS_PATH)
async def metrics_endpoint(request: web.Request) -> web.Response:
    token = request.app[keys.SETTINGS].metrics_token
    if token is None:
        raise web.HTTPNotFound()
    if not authorised(request.headers.get("Authorization"), token.get_secret_value()):
        return error_response(401, "a valid metrics token is required", headers={"WWW-Authenticate": "Bearer"})
    await refresh_gauges(request.app)
    body = exposition(request.app[keys.METRICS])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
