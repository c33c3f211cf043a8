"""What every PortOne client shares: the normalised payment record, the errors, one HTTP call.

The flows only ever see :class:`ProviderPayment` and the exceptions below, whichever API
(V1 iamport, V2, or the embedded sandbox speaking V2) answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import aiohttp


class ProviderStatus(StrEnum):
    """A payment's state as the provider reports it, the same words for V1 and V2."""

    READY = "ready"  # created, not paid (V2 READY, V1 ready)
    PENDING = "pending"  # the PG is still confirming (V2 PAY_PENDING)
    VIRTUAL_ACCOUNT_ISSUED = "virtual_account_issued"  # waiting for a bank deposit
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"  # fully cancelled (refunded in full)
    PARTIAL_CANCELLED = "partial_cancelled"
    UNKNOWN = "unknown"  # a status this code does not know: never treated as paid


class PaymentGatewayError(Exception):
    """Base of every gateway failure. Messages never contain secrets or tokens."""


class PaymentNotFound(PaymentGatewayError):
    def __init__(self, provider_payment_id: str) -> None:
        super().__init__(f"the payment provider has no payment {provider_payment_id!r}")
        self.provider_payment_id = provider_payment_id


class GatewayUnavailable(PaymentGatewayError):
    """The provider could not answer: timeout, refused connection, 5xx, unreadable body.

    The outcome of the call is unknown; retrying later is the right move.
    """


class GatewayAuthError(PaymentGatewayError):
    """The provider refused our credentials (401/403): a configuration problem."""


class GatewayRejected(PaymentGatewayError):
    """The provider understood the request and refused it (already cancelled, amount too large, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"the payment provider refused the request ({code}): {message}")
        self.code = code
        self.provider_message = message


@dataclass(frozen=True)
class ProviderPayment:
    """One payment as the provider knows it.

    ``id`` is the id the gateway is asked with (V2 paymentId, V1 imp_uid); ``merchant_uid``
    is the merchant's own id for it (V2: the paymentId itself, which the merchant chose;
    V1: merchant_uid). Compare ``merchant_uid`` with the stored one before trusting it.
    """

    id: str
    merchant_uid: str
    status: ProviderStatus
    amount: int  # the total charged
    cancelled_amount: int
    currency: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    failure_reason: str | None = None  # the provider's words when status is failed

    @property
    def is_paid(self) -> bool:
        return self.status is ProviderStatus.PAID

    @property
    def cancellable_amount(self) -> int:
        return max(self.amount - self.cancelled_amount, 0)


class PaymentGateway(Protocol):
    """What the payment flows need from PortOne (any API version, or the sandbox)."""

    name: str  # "portone-v2", "portone-v1" or "sandbox"
    # V2 webhooks are signed (Standard Webhooks) and the browser pays with paymentId = our
    # merchant uid; V1 (iamport) webhooks are unsigned and payments are known by imp_uid.
    signs_webhooks: bool
    pays_by_merchant_uid: bool

    async def prepare(self, merchant_uid: str, *, amount: int, currency: str) -> None:
        """Register the expected amount before the browser pays (PortOne's pre-registration).

        PortOne then refuses a payment for this merchant uid with any other amount. Best
        effort: the server still verifies the amount itself after payment.
        """
        ...

    async def fetch(self, provider_payment_id: str) -> ProviderPayment:
        """The provider's current record; raises PaymentNotFound for an unknown id."""
        ...

    async def cancel(
        self,
        provider_payment_id: str,
        *,
        amount: int | None,
        reason: str,
        current_cancellable_amount: int | None = None,
    ) -> ProviderPayment:
        """Cancel in full (``amount=None``) or in part; returns the record after the cancel.

        ``current_cancellable_amount`` makes the provider refuse the cancel when the
        cancellable balance is not what we believe it is, so two concurrent refunds can
        never both go through.
        """
        ...


def as_int(value: object) -> int:
    """An amount from a provider record; absent or malformed reads as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return 0


async def call_json(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    timeout_seconds: float,
    headers: dict[str, str],
    json_body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One request: the status and the JSON object body, or GatewayUnavailable.

    5xx, timeouts, connection failures and non-JSON bodies all become GatewayUnavailable;
    other statuses are returned for the caller to interpret.
    """
    try:
        async with http.request(
            method,
            url,
            headers=headers,
            json=json_body,
            params=params,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            allow_redirects=False,
        ) as response:
            status = response.status
            text = await response.text()
    except TimeoutError as error:
        raise GatewayUnavailable(f"the payment provider did not answer within {timeout_seconds:g}s") from error
    except aiohttp.ClientError as error:
        raise GatewayUnavailable(f"could not reach the payment provider: {type(error).__name__}") from error
    if status >= 500:
        raise GatewayUnavailable(f"the payment provider failed with HTTP {status}")
    try:
        body = json.loads(text) if text else {}
    except ValueError as error:
        raise GatewayUnavailable(f"the payment provider answered HTTP {status} with a body that is not JSON") from error
    if not isinstance(body, dict):
        raise GatewayUnavailable(f"the payment provider answered HTTP {status} with an unexpected body")
    return status, body
