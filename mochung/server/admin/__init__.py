"""The admin REST API (PROTOCOL.md "Admin"), split by topic; ``create_app`` adds these
route tables and cleanup contexts. Payments' admin routes live with payments.

Every route under ``/api/admin/`` is admitted by one guard, :func:`admins_only`, whatever
its handler declares, so a new admin route cannot forget it. A middleware on the main app
rather than a sub-application: the routes keep their full paths (the OpenAPI document and
``ROUTE_TABLES`` read them as they are) and handlers keep reading the main app's state.
"""

from __future__ import annotations

from aiohttp import web

from mochung.server.admin import evaluation, guestbook, moderation, stats, system, users
from mochung.server.http.callers import admit
from mochung.server.http.wire import Endpoint, Handler

PREFIX = "/api/admin/"
ROUTE_TABLES = (stats.routes, users.routes, moderation.routes, guestbook.routes, evaluation.routes, system.routes)
CLEANUP_CONTEXTS = (evaluation.evaluations_context,)


@web.middleware
async def admins_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """401 without a valid token, 403 for a non-admin, on every matched admin route. A path
    that matches no route keeps its 404/405, as on the rest of the API."""
    resource = request.match_info.route.resource
    if request.match_info.http_exception is None and resource is not None and resource.canonical.startswith(PREFIX):
        await admit(request, admin=True)
    return await handler(request)


async def check_admin_routes(app: web.Application) -> None:
    """On start-up: every admin route is described as admin-only, so the OpenAPI document
    says what the guard does."""
    for route in app.router.routes():
        spec: Endpoint | None = getattr(route.handler, "__endpoint__", None)
        if route.resource is not None and route.resource.canonical.startswith(PREFIX):
            if spec is None or spec.auth != "admin":
                raise RuntimeError(f"{route.method} {route.resource.canonical} must be endpoint(auth='admin')")
