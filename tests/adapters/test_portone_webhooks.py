"""Standard Webhooks signatures as PortOne V2 sends them, and what a webhook is about."""

from __future__ import annotations

import json

import pytest
from multidict import CIMultiDict

from mochung.adapters.portone import InvalidWebhook, parse_webhook_event, sign_webhook, verify_webhook
from mochung.adapters.portone.webhooks import new_webhook_secret

SECRET = new_webhook_secret()
NOW = 1_760_000_000
BODY = json.dumps({"type": "Transaction.Paid", "timestamp": "2025-10-09T00:00:00Z", "data": {"paymentId": "order-1"}})


def test_the_published_standard_webhooks_example_verifies() -> None:
    # the example from the Standard Webhooks reference implementation
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }

    verify_webhook(secret, headers, b'{"test": 2432232314}', now=1614265330)


def test_a_signed_webhook_verifies_with_any_header_case() -> None:
    headers = sign_webhook(SECRET, BODY, timestamp=NOW)
    as_received = CIMultiDict({name.title(): value for name, value in headers.items()})

    verify_webhook(SECRET, as_received, BODY.encode(), now=NOW + 10)
    verify_webhook(SECRET, {k.upper(): v for k, v in headers.items()}, BODY, now=NOW)


def test_one_valid_signature_among_several_is_enough() -> None:
    headers = sign_webhook(SECRET, BODY, timestamp=NOW)
    headers["webhook-signature"] = "v1,bm90LXRoaXMtb25l v2,whatever " + headers["webhook-signature"]

    verify_webhook(SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b.replace("order-1", "order-2")), id="body changed"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_other"}, b), id="id changed"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), id="wrong signature"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1,not base64!"}, b), id="garbage signature"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": h["webhook-signature"][1:]}, b), id="no version"),
    ],
)
def test_a_tampered_webhook_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    headers, body = tamper(sign_webhook(SECRET, BODY, timestamp=NOW), BODY)

    with pytest.raises(InvalidWebhook) as refused:
        verify_webhook(SECRET, headers, body, now=NOW)
    assert refused.value.reason == "bad_signature"


def test_a_webhook_signed_with_another_secret_is_refused() -> None:
    headers = sign_webhook(new_webhook_secret(), BODY, timestamp=NOW)

    with pytest.raises(InvalidWebhook, match="no webhook signature matches"):
        verify_webhook(SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize(
    ("received_at", "reason"),
    [(NOW + 5 * 60 + 1, "timestamp_too_old"), (NOW - 5 * 60 - 1, "timestamp_too_new")],
)
def test_a_replayed_or_future_webhook_is_refused(received_at: int, reason: str) -> None:
    headers = sign_webhook(SECRET, BODY, timestamp=NOW)

    with pytest.raises(InvalidWebhook) as refused:
        verify_webhook(SECRET, headers, BODY, now=received_at)
    assert refused.value.reason == reason


def test_within_five_minutes_is_accepted() -> None:
    headers = sign_webhook(SECRET, BODY, timestamp=NOW)

    verify_webhook(SECRET, headers, BODY, now=NOW + 5 * 60)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_webhook_without_its_headers_is_refused(missing: str) -> None:
    headers = sign_webhook(SECRET, BODY, timestamp=NOW)
    del headers[missing]

    with pytest.raises(InvalidWebhook, match=missing) as refused:
        verify_webhook(SECRET, headers, BODY, now=NOW)
    assert refused.value.reason == "missing_headers"


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    headers = {**sign_webhook(SECRET, BODY, timestamp=NOW), "webhook-timestamp": "yesterday"}

    with pytest.raises(InvalidWebhook) as refused:
        verify_webhook(SECRET, headers, BODY, now=NOW)
    assert refused.value.reason == "bad_timestamp"


def test_a_malformed_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="not base64"):
        verify_webhook("whsec_%%%", sign_webhook(SECRET, BODY, timestamp=NOW), BODY, now=NOW)


def test_the_payment_a_webhook_is_about() -> None:
    v2 = parse_webhook_event(BODY)
    v1 = parse_webhook_event('{"imp_uid": "imp_123", "merchant_uid": "order-1", "status": "paid"}')

    assert v2 is not None and (v2.type, v2.payment_id, v2.merchant_uid) == ("Transaction.Paid", "order-1", None)
    assert v1 is not None and (v1.type, v1.payment_id, v1.merchant_uid) == ("iamport.paid", "imp_123", "order-1")
    assert parse_webhook_event('{"type": "BillingKey.Issued", "data": {"billingKey": "b"}}') is None
    assert parse_webhook_event(b"not json") is None
    assert parse_webhook_event("[1, 2]") is None
