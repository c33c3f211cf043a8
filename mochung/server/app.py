"""The application factory: ``create_app(settings)`` wires every resource and route."""

from __future__ import annotations

from aiohttp import web

from mochung.domain import security
from mochung.metrics import create_metrics
from mochung.server import admin, auth, chat, files, guests, invitations, keys, pages, payments, resources
from mochung.server.chat import agent_endpoint
from mochung.server.http import docs, health, metrics
from mochung.server.http.middlewares import (
    cors,
    quiet_malformed_requests,
    remember_plain_paths,
    request_context,
    security_headers,
)
from mochung.server.pages.public_cache import PublicPageCache
from mochung.settings import Settings

# Room for a JSON body with a full page (componentData is capped at 256 KiB) plus slack;
# file uploads stream and set their own limit.
MAX_JSON_BODY = 1024 * 1024
# A header value (a token) or request line up to this size reaches the app, which answers a JSON 4xx;
# aiohttp refuses a larger one itself, in plain text (logged without a traceback).
MAX_HEADER_FIELD = 128 * 1024


def create_app(settings: Settings) -> web.Application:
    # The admin guard sits inside request_context, so its 401/403 get the JSON error body.
    # Request metrics outermost: they count the status the client gets.
    app = web.Application(
        middlewares=[metrics.count_requests, cors, request_context, admin.admins_only],
        client_max_size=MAX_JSON_BODY,
        handler_args={"max_field_size": MAX_HEADER_FIELD, "max_line_size": MAX_HEADER_FIELD},
    )
    app.on_response_prepare.append(security_headers)
    app.on_startup.append(remember_plain_paths)
    quiet_malformed_requests()
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = create_metrics("web")  # one registry per app, never a module global
    app[keys.JWT_KEY] = settings.jwt_key()
    security.configure_hashing(settings.password_hash_threads)  # argon2 off the event loop
    app[keys.HEALTH_CHECKS] = {}
    app[keys.PUBLIC_PAGES] = PublicPageCache()
    app.cleanup_ctx.extend([resources.database, resources.redis, resources.processes, resources.http_session])
    app.cleanup_ctx.append(pages.view_counting)  # flushes buffered views before the database closes
    app.cleanup_ctx.extend(admin.CLEANUP_CONTEXTS)
    files.attach(app)  # storage (cleanup context), /api/file routes, /files when stored locally
    payments.attach(app)  # PortOne provider (or the embedded sandbox), payment routes
    chat.attach(app)  # Socket.IO at /socket.io and /chat; its cleanup context after the resources
    for table in (
        health.routes,
        auth.routes,
        docs.routes,
        *admin.ROUTE_TABLES,
        agent_endpoint.routes,
        pages.routes,
        *guests.ROUTE_TABLES,
        invitations.routes,
        metrics.routes,
    ):
        app.router.add_routes(table)
    app.on_startup.extend([admin.check_admin_routes, docs.build_on_startup])
    return app
