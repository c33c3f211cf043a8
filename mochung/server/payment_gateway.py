"""Which payment gateway this server uses, set up at start-up; the embedded sandbox mount.

``attach(app)`` (called by ``create_app``) mounts the PortOne sandbox in embedded mode
with no keys, adds the payment routes, and a cleanup context that builds the gateway,
logs "payments: …" and adds the ``payments`` health check.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from mochung.adapters.payments import (
    SANDBOX_MOUNT_PATH,
    create_embedded_sandbox,
    make_payment_gateway,
    payment_webhook_secret,
)
from mochung.server import keys
from mochung.server.payment_services import Payments
from mochung.settings import Settings

log = logging.getLogger("mochung.payments")
WEBHOOK_PATH = "/api/payment/webhook"


def sandbox_served(settings: Settings) -> bool:
    """The sandbox runs inside embedded servers only: a distributed deployment needs real keys."""
    return settings.payments_sandbox and not settings.distributed


async def payments_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    payments = Payments(settings=settings, http=app[keys.HTTP], sandbox=sandbox_served(settings))
    if not payments.sandbox and not settings.payments_sandbox:
        payments.gateway = make_payment_gateway(settings, app[keys.HTTP])
    payments.webhook_secret = payment_webhook_secret(settings) if (payments.sandbox or payments.gateway) else None
    app[keys.PAYMENTS] = payments
    if payments.mode == "unconfigured":
        log.warning("payments: unconfigured (no PortOne keys in distributed mode): payment routes answer 503")
    else:
        log.info("payments: %s", payments.mode)
    if payments.gateway is not None and payments.gateway.name == "portone-v2" and payments.webhook_secret is None:
        log.warning("payments: MOCHUNG_PORTONE_WEBHOOK_SECRET is unset: PortOne webhooks will be refused")

    async def check() -> str:
        return payments.mode

    app[keys.HEALTH_CHECKS]["payments"] = check
    yield


def attach(app: web.Application) -> None:
    """Everything payments add to the app."""
    from mochung.server import admin_payments, payments

    settings = app[keys.SETTINGS]
    if sandbox_served(settings):
        app.add_subapp(SANDBOX_MOUNT_PATH, create_embedded_sandbox(settings, webhook_url=WEBHOOK_PATH))
    app.cleanup_ctx.append(payments_context)
    app.router.add_routes(payments.routes)
    app.router.add_routes(admin_payments.routes)
