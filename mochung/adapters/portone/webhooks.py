"""PortOne V2 webhooks: Standard Webhooks signatures, and the payment id a webhook is about.

The signature only proves the call came from PortOne; the body is still never trusted:
the flows re-fetch the payment by the id found here and verify that record.
Same algorithm as ``portone_server_sdk.webhook.verify``, with an injectable clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any, TypeGuard

from mochung.domain import jsonlimits
from mochung.domain.errors import Invalid
from mochung.domain.ports import WebhookEvent

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60
REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class InvalidWebhook(Exception):
    """The webhook cannot be trusted. ``reason`` is machine-readable:
    missing_headers, bad_timestamp, timestamp_too_old, timestamp_too_new, bad_signature.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        raw = secret
    else:
        encoded = secret.removeprefix(SECRET_PREFIX)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("the webhook secret is not base64 (expected whsec_<base64>)") from error
    if not raw:
        raise ValueError("the webhook secret is empty")
    return raw


def _signature(secret: str | bytes, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return hmac.digest(_secret_bytes(secret), signed, hashlib.sha256)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # aiohttp's CIMultiDict is case-insensitive; a plain dict from a test may not be
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def verify_webhook(
    secret: str | bytes, headers: Mapping[str, str], body: bytes | str, now: float | None = None
) -> None:
    """Raise InvalidWebhook unless ``body`` carries a valid, fresh Standard Webhooks signature.

    ``secret`` is ``whsec_<base64>`` (the prefix optional) or the raw key bytes; a malformed
    secret raises ValueError (a configuration error, not the sender's fault).
    """
    raw_body = body.encode() if isinstance(body, str) else body
    values = {name: _header(headers, name) for name in REQUIRED_HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise InvalidWebhook("missing_headers", f"missing webhook header(s): {', '.join(missing)}")
    webhook_id, timestamp, signatures = (str(values[name]) for name in REQUIRED_HEADERS)
    try:
        sent_at = int(timestamp)
    except ValueError as error:
        raise InvalidWebhook("bad_timestamp", "webhook-timestamp is not a unix time") from error
    current = time.time() if now is None else now
    if current - sent_at > TOLERANCE_SECONDS:
        raise InvalidWebhook("timestamp_too_old", "the webhook timestamp is more than 5 minutes old")
    if sent_at - current > TOLERANCE_SECONDS:
        raise InvalidWebhook("timestamp_too_new", "the webhook timestamp is more than 5 minutes in the future")
    expected = _signature(secret, webhook_id, timestamp, raw_body)
    for candidate in signatures.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            received = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(received, expected):
            return
    raise InvalidWebhook("bad_signature", "no webhook signature matches")


def sign_webhook(
    secret: str | bytes, body: bytes | str, *, webhook_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers PortOne would send with ``body`` (for tests and the sandbox)."""
    raw_body = body.encode() if isinstance(body, str) else body
    webhook_id = webhook_id or f"msg_{base64.urlsafe_b64encode(hashlib.sha256(raw_body).digest()[:12]).decode()}"
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = base64.b64encode(_signature(secret, webhook_id, stamp, raw_body)).decode()
    return {"webhook-id": webhook_id, "webhook-timestamp": stamp, "webhook-signature": f"v1,{signature}"}


def new_webhook_secret() -> str:
    """A fresh ``whsec_`` secret (24 random bytes), as PortOne's console issues them."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def parse_webhook_event(body: bytes | str) -> WebhookEvent | None:
    """The payment a V2 (``{type, data: {paymentId}}``) or V1 (``{imp_uid, merchant_uid, status}``)
    webhook is about, or None when it is about no payment (billing keys, tests) or unreadable."""
    try:
        payload: Any = jsonlimits.loads(body)  # never RecursionError, whatever the nesting
    except Invalid:
        return None
    if not isinstance(payload, dict):
        return None
    data = payload.get("data")
    if isinstance(data, dict) and _an_id(data.get("paymentId"), MERCHANT_UID_MAX):  # V2: our merchant uid
        return WebhookEvent(type=str(payload.get("type") or ""), payment_id=data["paymentId"], merchant_uid=None)
    imp_uid = payload.get("imp_uid")
    if _an_id(imp_uid, PROVIDER_ID_MAX):
        merchant_uid = payload.get("merchant_uid")
        return WebhookEvent(
            type=f"iamport.{payload.get('status') or 'unknown'}",
            payment_id=imp_uid,
            merchant_uid=merchant_uid if _an_id(merchant_uid, MERCHANT_UID_MAX) else None,
        )
    return None


# the longest ids a payment can have (the columns' sizes): a longer one names no payment of ours
MERCHANT_UID_MAX = 100
PROVIDER_ID_MAX = 200


def _an_id(value: object, longest: int) -> TypeGuard[str]:
    """An id that can name a payment: text, not empty, not too long, no NUL (PostgreSQL)."""
    return isinstance(value, str) and 0 < len(value) <= longest and jsonlimits.NUL not in value
