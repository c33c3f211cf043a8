"""A fake PortOne (V2 at the root, V1 under ``/v1``) on a free local port, scriptable per payment.

It is the embedded sandbox app (so the fake and the sandbox answer alike, auth checks
included) plus scripted faults: an HTTP status or a slow answer for one payment id.

    async with FakePortOne() as portone:
        portone.paid("order-1", 9900)
        portone.fault("order-2", Fault(status=503))
        client = PortOneV2Client(http, secret=portone.api_secret, base_url=portone.url)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer

from mochung.adapters.portone.sandbox.api import SANDBOX_STATE, V1_PREFIX, SandboxState, create_sandbox_app
from mochung.adapters.portone.sandbox.store import SandboxPayment, SandboxStore

ANY_PAYMENT = "*"


@dataclass(frozen=True)
class Fault:
    status: int | None = None  # answer with this HTTP status instead (e.g. 500)
    delay_seconds: float | None = None  # answer this late (or when the fake closes, if sooner)


class FakePortOne:
    api_secret = "fake-portone-v2-secret-do-not-leak"
    imp_key = "fake-imp-key"
    imp_secret = "fake-imp-secret-do-not-leak"

    def __init__(
        self,
        *,
        token_lifetime_seconds: int = 1800,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self.store = SandboxStore()
        self.faults: dict[str, Fault] = {}
        self._closing = asyncio.Event()
        self._app = create_sandbox_app(
            api_secret=self.api_secret,
            store=self.store,
            imp_key=self.imp_key,
            imp_secret=self.imp_secret,
            token_lifetime_seconds=token_lifetime_seconds,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            middlewares=[self._fault_middleware],
        )
        self._server = TestServer(self._app, host="127.0.0.1")

    async def __aenter__(self) -> Self:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()  # let slow answers finish so the server can stop at once
        await self._server.close()

    @property
    def url(self) -> str:
        """The V2 base URL."""
        return str(self._server.make_url("")).rstrip("/")

    @property
    def v1_url(self) -> str:
        return self.url + V1_PREFIX

    @property
    def state(self) -> SandboxState:
        """Call counts (``state.calls["v1.getToken"]``) and ``state.revoke_tokens()``."""
        return self._app[SANDBOX_STATE]

    # ---- scripting payments ------------------------------------------------------------

    def payment(self, payment_id: str, amount: int, *, status: str = "READY", **fields: Any) -> SandboxPayment:
        payment = SandboxPayment(payment_id=payment_id, amount=amount, expected_amount=amount, **fields)
        if status == "PAID":
            payment.mark_paid(amount)
        elif status == "FAILED":
            payment.mark_failed("카드 한도 초과")
        elif status in ("CANCELLED", "PARTIAL_CANCELLED"):
            payment.mark_paid(amount)
            payment.add_cancellation(amount if status == "CANCELLED" else amount // 2, "고객 요청")
        return self.store.put(payment)

    def paid(self, payment_id: str, amount: int, **fields: Any) -> SandboxPayment:
        return self.payment(payment_id, amount, status="PAID", **fields)

    def fault(self, payment_id: str, fault: Fault) -> None:
        """Script a fault for every call about ``payment_id`` (V2 id or V1 imp_uid; "*" for all)."""
        self.faults[payment_id] = fault

    # ---- the faults ----------------------------------------------------------------------

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        fault = self.faults.get(await _payment_key(request)) or self.faults.get(ANY_PAYMENT)
        if fault is not None and fault.delay_seconds is not None:
            try:
                await asyncio.wait_for(self._closing.wait(), timeout=fault.delay_seconds)
            except TimeoutError:
                pass
        if fault is not None and fault.status is not None:
            return web.json_response({"type": "INTERNAL", "message": "scripted fault"}, status=fault.status)
        return await handler(request)


async def _payment_key(request: web.Request) -> str:
    """Which payment a request is about: from the path, or V1 cancel's body."""
    for name in ("payment_id", "imp_uid"):
        if name in request.match_info:
            return request.match_info[name]
    if request.path.endswith("/payments/cancel") and request.body_exists:
        try:
            body = await request.json()  # aiohttp keeps the body: the handler reads it again
        except ValueError:
            return ""
        return str(body.get("imp_uid", "")) if isinstance(body, dict) else ""
    return ""
