"""PortOne V1 (iamport) REST client: an access token from the REST API key, cached until it expires.

Every answer is ``{code, message, response}`` with ``code == 0`` on success. No official
Python SDK covers V1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from mochung.adapters.portone.common import PortOneHttp, as_int
from mochung.domain.ports import (
    PaymentNotFound,
    ProviderAuthError,
    ProviderPayment,
    ProviderRejected,
    ProviderStatus,
    ProviderUnavailable,
)

DEFAULT_BASE_URL = "https://api.iamport.kr"
# renew this long before the provider's expiry so a token never dies mid-request
TOKEN_REFRESH_MARGIN_SECONDS = 60.0

V1_STATUSES = {
    "ready": ProviderStatus.READY,
    "paid": ProviderStatus.PAID,
    "failed": ProviderStatus.FAILED,
    "cancelled": ProviderStatus.CANCELLED,
}


def parse_v1_payment(requested_id: str, record: dict[str, Any]) -> ProviderPayment:
    """A V1 payment (``response`` of GET /payments/{imp_uid}) as a ProviderPayment."""
    amount = as_int(record.get("amount"))
    cancelled = as_int(record.get("cancel_amount"))
    status = V1_STATUSES.get(str(record.get("status")), ProviderStatus.UNKNOWN)
    if status is ProviderStatus.PAID and cancelled > 0:
        # V1 keeps "paid" after a partial cancel; V2 and our flows call it partial_cancelled
        status = ProviderStatus.CANCELLED if cancelled >= amount else ProviderStatus.PARTIAL_CANCELLED
    merchant_uid = record.get("merchant_uid")
    return ProviderPayment(
        id=str(record.get("imp_uid") or requested_id),
        merchant_uid=merchant_uid if isinstance(merchant_uid, str) else "",
        status=status,
        amount=amount,
        cancelled_amount=cancelled,
        currency=str(record.get("currency") or ""),
        raw=record,
        failure_reason=str(record["fail_reason"]) if record.get("fail_reason") else None,
    )


@dataclass
class _Token:
    value: str
    renew_at: float  # on the client's clock


class PortOneV1Client(PortOneHttp):
    """The PaymentProvider for PortOne V1 (iamport)."""

    name = "portone-v1"
    signs_webhooks = False
    pays_by_merchant_uid = False

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        imp_key: str,
        imp_secret: str,
        base_url: str | None = None,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(http, base_url=base_url or DEFAULT_BASE_URL, timeout_seconds=timeout_seconds)
        self._imp_key = imp_key
        self._imp_secret = imp_secret
        self._clock = clock
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()  # concurrent calls share one getToken

    def __repr__(self) -> str:  # never show the key, secret or token
        return f"PortOneV1Client(base_url={self._base_url!r})"

    async def prepare(self, merchant_uid: str, *, amount: int, currency: str) -> None:
        # V1 pre-registration knows no currency: iamport payments here are KRW
        await self._call("POST", "/payments/prepare", merchant_uid, {"merchant_uid": merchant_uid, "amount": amount})

    async def fetch(self, provider_payment_id: str) -> ProviderPayment:
        record = await self._call("GET", f"/payments/{quote(provider_payment_id, safe='')}", provider_payment_id)
        return parse_v1_payment(provider_payment_id, record)

    async def cancel(
        self,
        provider_payment_id: str,
        *,
        amount: int | None,
        reason: str,
        current_cancellable_amount: int | None = None,
    ) -> ProviderPayment:
        body: dict[str, Any] = {"imp_uid": provider_payment_id, "reason": reason}
        if amount is not None:
            body["amount"] = amount
        if current_cancellable_amount is not None:
            body["checksum"] = current_cancellable_amount  # iamport's name for the expected balance
        record = await self._call("POST", "/payments/cancel", provider_payment_id, body)
        return parse_v1_payment(provider_payment_id, record)

    async def _call(
        self, method: str, path: str, payment_id: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        token = await self._access_token()
        status, answer = await self._send(method, path, token, body)
        if status == 401:
            # revoked or expired early: one fresh token, one retry
            self._forget(token)
            status, answer = await self._send(method, path, await self._access_token(), body)
        if status in (401, 403):
            raise ProviderAuthError(f"PortOne V1 refused our access token (HTTP {status})")
        if status == 404:
            raise PaymentNotFound(payment_id)
        code = answer.get("code")
        response = answer.get("response")
        if status == 200 and code == 0 and isinstance(response, dict):
            return response
        raise ProviderRejected(str(code if code is not None else f"HTTP_{status}"), str(answer.get("message") or ""))

    async def _send(
        self, method: str, path: str, token: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        return await self.request(method, path, headers={"Authorization": f"Bearer {token}"}, body=body)

    def _forget(self, token: str) -> None:
        if self._token is not None and self._token.value == token:
            self._token = None

    async def _access_token(self) -> str:
        async with self._token_lock:
            if self._token is not None and self._clock() < self._token.renew_at:
                return self._token.value
            self._token = await self._request_token()
            return self._token.value

    async def _request_token(self) -> _Token:
        credentials = {"imp_key": self._imp_key, "imp_secret": self._imp_secret}
        status, answer = await self.request("POST", "/users/getToken", headers={}, body=credentials)
        if status in (401, 403):
            raise ProviderAuthError(
                f"PortOne V1 refused the REST API key (HTTP {status}): "
                "check MOCHUNG_PORTONE_IMP_KEY and MOCHUNG_PORTONE_IMP_SECRET"
            )
        response = answer.get("response")
        if status != 200 or answer.get("code") != 0 or not isinstance(response, dict):
            raise ProviderUnavailable(f"PortOne V1 getToken failed (HTTP {status}, code {answer.get('code')})")
        value = response.get("access_token")
        if not isinstance(value, str) or not value:
            raise ProviderUnavailable("PortOne V1 getToken answered without an access token")
        # the provider's clock may differ from ours: only the lifetime it grants matters
        server_now = as_int(response.get("now")) or int(time.time())
        lifetime = max(as_int(response.get("expired_at")) - server_now, 0)
        margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2)
        return _Token(value=value, renew_at=self._clock() + lifetime - margin)
