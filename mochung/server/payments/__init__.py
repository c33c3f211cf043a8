"""Payments on the web side: the provider (PortOne or the embedded sandbox) set up at
start-up, the couple's routes and the admin's routes."""

from __future__ import annotations

from aiohttp import web


def attach(app: web.Application) -> None:
    """Everything payments add to the app."""
    # Imported here: ``keys`` imports ``provider`` and so runs this package's __init__ first.
    from mochung.adapters.portone import SANDBOX_MOUNT_PATH, create_embedded_sandbox
    from mochung.server import keys
    from mochung.server.payments import admin_routes, routes
    from mochung.server.payments.provider import WEBHOOK_PATH, payments_context, sandbox_served

    settings = app[keys.SETTINGS]
    if sandbox_served(settings):
        app.add_subapp(SANDBOX_MOUNT_PATH, create_embedded_sandbox(settings, webhook_url=WEBHOOK_PATH))
    app.cleanup_ctx.append(payments_context)
    app.router.add_routes(routes.routes)
    app.router.add_routes(admin_routes.routes)
