"""What the payment routes reach through ``keys.PAYMENTS``: the gateway, or in sandbox
mode what builds it once the server's own address is known."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from mochung.adapters.payments import SANDBOX_MOUNT_PATH, PaymentGateway, make_payment_gateway
from mochung.domain.errors import DependencyDown
from mochung.settings import Settings


@dataclass
class Payments:
    """The gateway, or in sandbox mode what builds it once the server's own address is known."""

    settings: Settings
    http: aiohttp.ClientSession
    gateway: PaymentGateway | None = None
    webhook_secret: str | None = None
    sandbox: bool = False
    _sandbox_gateways: dict[str, PaymentGateway] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        if self.sandbox:
            return "sandbox"
        return self.gateway.name if self.gateway is not None else "unconfigured"

    def gateway_for(self, request: web.Request) -> PaymentGateway:
        """The gateway; in sandbox mode the real V2 client, pointed at this very server.

        The sandbox URL comes from the socket the request arrived on, never from the Host
        header: a forged Host must not make the server ask another machine whether a
        payment is paid.
        """
        if self.gateway is not None:
            return self.gateway
        if not self.sandbox:
            raise DependencyDown(
                "payments are not configured: set MOCHUNG_PORTONE_API_SECRET (V2) "
                "or MOCHUNG_PORTONE_IMP_KEY/MOCHUNG_PORTONE_IMP_SECRET (V1)"
            )
        url = _own_url(request, self.settings.port) + SANDBOX_MOUNT_PATH
        if url not in self._sandbox_gateways:
            self._sandbox_gateways[url] = make_payment_gateway(self.settings, self.http, sandbox_url=url)
        return self._sandbox_gateways[url]


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
