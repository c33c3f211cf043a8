"""Which payment provider this server uses, set up at start-up: PortOne with real keys,
or the embedded sandbox. ``payments_context`` builds it, logs "payments: …" and adds the
``payments`` health check; handlers reach it through ``keys.PAYMENTS``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from mochung.adapters.portone import SANDBOX_MOUNT_PATH, make_payment_provider, payment_webhook_secret
from mochung.domain.errors import DependencyDown
from mochung.domain.ports import PaymentProvider
from mochung.server import keys
from mochung.settings import Settings


@dataclass
class Payments:
    """The provider, or in sandbox mode what builds it once the server's own address is known."""

    settings: Settings
    http: aiohttp.ClientSession
    provider: PaymentProvider | None = None
    webhook_secret: str | None = None
    sandbox: bool = False
    _sandbox_providers: dict[str, PaymentProvider] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        if self.sandbox:
            return "sandbox"
        return self.provider.name if self.provider is not None else "unconfigured"

    def provider_for(self, request: web.Request) -> PaymentProvider:
        """The provider; in sandbox mode the real V2 client, pointed at this very server.

        The sandbox URL comes from the socket the request arrived on, never from the Host
        header: a forged Host must not make the server ask another machine whether a
        payment is paid.
        """
        if self.provider is not None:
            return self.provider
        if not self.sandbox:
            raise DependencyDown(
                "payments are not configured: set MOCHUNG_PORTONE_API_SECRET (V2) "
                "or MOCHUNG_PORTONE_IMP_KEY/MOCHUNG_PORTONE_IMP_SECRET (V1)"
            )
        url = _own_url(request, self.settings.port) + SANDBOX_MOUNT_PATH
        if url not in self._sandbox_providers:
            self._sandbox_providers[url] = make_payment_provider(self.settings, self.http, sandbox_url=url)
        return self._sandbox_providers[url]


def _own_url(request: web.Request, fallback_port: int) -> str:
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    if not isinstance(sockname, tuple) or len(sockname) < 2:
        return f"http://127.0.0.1:{fallback_port}"
    host, port = str(sockname[0]), int(sockname[1])
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


log = logging.getLogger("mochung.payments")
WEBHOOK_PATH = "/api/payment/webhook"


def sandbox_served(settings: Settings) -> bool:
    """The sandbox runs inside embedded servers only: a distributed deployment needs real keys."""
    return settings.payments_sandbox and not settings.distributed


async def payments_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    payments = Payments(settings=settings, http=app[keys.HTTP], sandbox=sandbox_served(settings))
    if not payments.sandbox and not settings.payments_sandbox:
        payments.provider = make_payment_provider(settings, app[keys.HTTP])
    payments.webhook_secret = payment_webhook_secret(settings) if (payments.sandbox or payments.provider) else None
    app[keys.PAYMENTS] = payments
    if payments.mode == "unconfigured":
        log.warning("payments: unconfigured (no PortOne keys in distributed mode): payment routes answer 503")
    else:
        log.info("payments: %s", payments.mode)
    if payments.provider is not None and payments.provider.name == "portone-v2" and payments.webhook_secret is None:
        log.warning("payments: MOCHUNG_PORTONE_WEBHOOK_SECRET is unset: PortOne webhooks will be refused")

    async def check() -> str:
        return payments.mode

    app[keys.HEALTH_CHECKS]["payments"] = check
    yield
