"""The application factory: ``create_app(settings)`` wires every resource and route."""

from __future__ import annotations

from aiohttp import web

from mochung.domain import security
from mochung.server import admin, auth, chat, files, invitations, keys, pages, payments, resources
from mochung.server.chat import agent_endpoint
from mochung.server.http import docs, health
from mochung.server.http.middlewares import cors, request_context
from mochung.server.public_pages import PublicPageCache
from mochung.settings import Settings

# Room for a JSON body with a full page (componentData is capped at 256 KiB) plus slack;
# file uploads stream and set their own limit.
MAX_JSON_BODY = 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    # The admin guard sits inside request_context, so its 401/403 get the JSON error body.
    app = web.Application(middlewares=[cors, request_context, admin.admins_only], client_max_size=MAX_JSON_BODY)
    app[keys.SETTINGS] = settings
    app[keys.JWT_KEY] = settings.jwt_key()
    security.configure_hashing(settings.password_hash_threads)  # argon2 off the event loop
    app[keys.HEALTH_CHECKS] = {}
    app[keys.PUBLIC_PAGES] = PublicPageCache()
    app.cleanup_ctx.extend([resources.database, resources.redis, resources.http_session])
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
        invitations.routes,
    ):
        app.router.add_routes(table)
    app.on_startup.extend([admin.check_admin_routes, docs.build_on_startup])
    return app
