"""Webhook signatures as properties: a body signed with the secret verifies; a change to the
body, the timestamp, the id or the secret makes it fail as ``bad_signature``."""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mochung.adapters.portone.webhooks import SECRET_PREFIX, InvalidWebhook, sign_webhook, verify_webhook

NOW = 1_800_000_000
secrets_ = st.binary(min_size=1, max_size=64)
bodies = st.binary(max_size=300) | st.text(max_size=200)
ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
times = st.integers(min_value=NOW - 300, max_value=NOW + 300)  # within the five minutes


def whsec(raw: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def _refused(secret: str, headers: dict[str, str], body: bytes | str) -> str:
    with pytest.raises(InvalidWebhook) as refused:
        verify_webhook(secret, headers, body, now=NOW)
    return refused.value.reason


@settings(max_examples=150, deadline=None)
@given(secret=secrets_, body=bodies, webhook_id=ids, sent=times)
def test_property_a_signed_body_verifies(secret: bytes, body: bytes | str, webhook_id: str, sent: int) -> None:
    headers = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=sent)

    verify_webhook(whsec(secret), headers, body, now=NOW)
    verify_webhook(secret, headers, body, now=NOW)  # the raw key is the same secret
    verify_webhook(whsec(secret).removeprefix(SECRET_PREFIX), headers, body, now=NOW)
    raw = body.encode() if isinstance(body, str) else body
    verify_webhook(whsec(secret), headers, raw, now=NOW)  # text and its UTF-8 bytes are one body


@settings(max_examples=150, deadline=None)
@given(secret=secrets_, body=bodies, other=bodies, webhook_id=ids, sent=times)
def test_property_another_body_fails(
    secret: bytes, body: bytes | str, other: bytes | str, webhook_id: str, sent: int
) -> None:
    as_bytes = [b.encode() if isinstance(b, str) else b for b in (body, other)]
    assume(as_bytes[0] != as_bytes[1])
    headers = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=sent)

    assert _refused(whsec(secret), headers, other) == "bad_signature"


@settings(max_examples=150, deadline=None)
@given(secret=secrets_, body=bodies, webhook_id=ids, sent=times, shift=st.integers(-300, 300).filter(bool))
def test_property_another_timestamp_fails(
    secret: bytes, body: bytes | str, webhook_id: str, sent: int, shift: int
) -> None:
    headers = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=sent)
    moved = {**headers, "webhook-timestamp": str(sent + shift)}

    assert _refused(whsec(secret), moved, body) in ("bad_signature", "timestamp_too_old", "timestamp_too_new")
    if abs(sent + shift - NOW) <= 300:
        assert _refused(whsec(secret), moved, body) == "bad_signature"


@settings(max_examples=150, deadline=None)
@given(secret=secrets_, body=bodies, webhook_id=ids, other_id=ids, sent=times)
def test_property_another_id_fails(secret: bytes, body: bytes | str, webhook_id: str, other_id: str, sent: int) -> None:
    assume(webhook_id != other_id)
    headers = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=sent)

    assert _refused(whsec(secret), {**headers, "webhook-id": other_id}, body) == "bad_signature"


@settings(max_examples=150, deadline=None)
@given(secret=secrets_, other=secrets_, body=bodies, webhook_id=ids, sent=times)
def test_property_another_secret_fails(
    secret: bytes, other: bytes, body: bytes | str, webhook_id: str, sent: int
) -> None:
    assume(secret != other)
    headers = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=sent)

    assert _refused(whsec(other), headers, body) == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(secret=secrets_, body=bodies, webhook_id=ids, sent=times, flip=st.integers(min_value=0))
def test_property_a_changed_signature_fails(
    secret: bytes, body: bytes | str, webhook_id: str, sent: int, flip: int
) -> None:
    headers = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=sent)
    digest = bytearray(base64.b64decode(headers["webhook-signature"].removeprefix("v1,")))
    digest[flip % len(digest)] ^= 0x01
    forged = {**headers, "webhook-signature": "v1," + base64.b64encode(bytes(digest)).decode()}

    assert _refused(whsec(secret), forged, body) == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(secret=secrets_, body=bodies, webhook_id=ids, late=st.integers(min_value=301, max_value=10**6))
def test_property_a_signature_older_or_newer_than_five_minutes_fails(
    secret: bytes, body: bytes | str, webhook_id: str, late: int
) -> None:
    old = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=NOW - late)
    new = sign_webhook(whsec(secret), body, webhook_id=webhook_id, timestamp=NOW + late)

    assert _refused(whsec(secret), old, body) == "timestamp_too_old"
    assert _refused(whsec(secret), new, body) == "timestamp_too_new"
