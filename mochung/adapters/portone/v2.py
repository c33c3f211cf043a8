"""PortOne V2 REST client (``Authorization: PortOne <API secret>``) over our aiohttp session.

Why not ``portone-server-sdk``: it talks through its own httpx clients (one per sub-client,
never closed) with a fixed 60 s timeout, so it could neither share the app's aiohttp session
nor honour ``portone_timeout_seconds``; and it deserialises the full Payment schema
strictly, so a field or status added by PortOne breaks every fetch. We need three calls;
they follow the SDK's URLs, bodies and error ``type`` names exactly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from mochung.adapters.portone.common import PortOneHttp, as_int
from mochung.domain.ports import PaymentNotFound, ProviderAuthError, ProviderPayment, ProviderRejected, ProviderStatus

DEFAULT_BASE_URL = "https://api.portone.io"

V2_STATUSES = {
    "READY": ProviderStatus.READY,
    "PAY_PENDING": ProviderStatus.PENDING,
    "VIRTUAL_ACCOUNT_ISSUED": ProviderStatus.VIRTUAL_ACCOUNT_ISSUED,
    "PAID": ProviderStatus.PAID,
    "FAILED": ProviderStatus.FAILED,
    "CANCELLED": ProviderStatus.CANCELLED,
    "PARTIAL_CANCELLED": ProviderStatus.PARTIAL_CANCELLED,
}


def parse_v2_payment(requested_id: str, record: dict[str, Any]) -> ProviderPayment:
    """A V2 ``Payment`` object as a ProviderPayment (unknown fields kept in ``raw``)."""
    raw_amount, raw_failure = record.get("amount"), record.get("failure")
    amount: dict[str, Any] = raw_amount if isinstance(raw_amount, dict) else {}
    failure: dict[str, Any] = raw_failure if isinstance(raw_failure, dict) else {}
    merchant_uid = record.get("id")
    return ProviderPayment(
        id=requested_id,
        # V2's paymentId *is* the merchant's id; an absent one never matches a stored uid
        merchant_uid=merchant_uid if isinstance(merchant_uid, str) else "",
        status=V2_STATUSES.get(str(record.get("status")), ProviderStatus.UNKNOWN),
        amount=as_int(amount.get("total")),
        cancelled_amount=as_int(amount.get("cancelled")),
        currency=str(record.get("currency") or ""),
        raw=record,
        failure_reason=str(failure.get("reason")) if failure.get("reason") else None,
    )


class PortOneV2Client(PortOneHttp):
    """The PaymentProvider for PortOne V2 (also used, with ``name="sandbox"``, for the sandbox)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        secret: str,
        base_url: str | None = None,
        store_id: str | None = None,
        timeout_seconds: float = 10.0,
        name: str = "portone-v2",
    ) -> None:
        super().__init__(http, base_url=base_url or DEFAULT_BASE_URL, timeout_seconds=timeout_seconds)
        self.name = name
        self.signs_webhooks = True
        self.pays_by_merchant_uid = True
        self._secret = secret
        self._store_id = store_id

    def __repr__(self) -> str:  # never show the secret
        return f"PortOneV2Client(name={self.name!r}, base_url={self._base_url!r})"

    async def prepare(self, merchant_uid: str, *, amount: int, currency: str) -> None:
        body: dict[str, Any] = {"totalAmount": amount, "currency": currency}
        if self._store_id:
            body["storeId"] = self._store_id
        await self._call("POST", f"/payments/{quote(merchant_uid, safe='')}/pre-register", merchant_uid, body)

    async def fetch(self, provider_payment_id: str) -> ProviderPayment:
        params = {"storeId": self._store_id} if self._store_id else None
        record = await self._call(
            "GET", f"/payments/{quote(provider_payment_id, safe='')}", provider_payment_id, params=params
        )
        return parse_v2_payment(provider_payment_id, record)

    async def cancel(
        self,
        provider_payment_id: str,
        *,
        amount: int | None,
        reason: str,
        current_cancellable_amount: int | None = None,
    ) -> ProviderPayment:
        body: dict[str, Any] = {"reason": reason}
        if amount is not None:
            body["amount"] = amount
        if current_cancellable_amount is not None:
            body["currentCancellableAmount"] = current_cancellable_amount
        if self._store_id:
            body["storeId"] = self._store_id
        answer = await self._call(
            "POST", f"/payments/{quote(provider_payment_id, safe='')}/cancel", provider_payment_id, body
        )
        raw_cancellation = answer.get("cancellation")
        cancellation: dict[str, Any] = raw_cancellation if isinstance(raw_cancellation, dict) else {}
        if cancellation.get("status") == "FAILED":
            reason = str(cancellation.get("reason") or "the PG refused the cancel")
            raise ProviderRejected("CANCELLATION_FAILED", reason)
        # the cancel answer only describes the cancellation: read the payment as it is now
        return await self.fetch(provider_payment_id)

    async def _call(
        self,
        method: str,
        path: str,
        payment_id: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"PortOne {self._secret}"}
        status, answer = await self.request(method, path, headers=headers, body=body, params=params)
        if status == 200:
            return answer
        error_type = str(answer.get("type") or f"HTTP_{status}")
        if status in (401, 403):
            raise ProviderAuthError(
                f"PortOne V2 refused the API secret (HTTP {status} {error_type}): check MOCHUNG_PORTONE_API_SECRET"
            )
        if status == 404 or error_type == "PAYMENT_NOT_FOUND":
            raise PaymentNotFound(payment_id)
        raise ProviderRejected(error_type, str(answer.get("message") or f"HTTP {status}"))
