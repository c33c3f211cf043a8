"""Webhooks: signed (V2) or not (V1), never trusted: the server re-fetches and verifies."""

from __future__ import annotations

import time

import pytest

from mochung.adapters.portone.webhooks import new_webhook_secret
from tests.server.payments.shop import Shop
from tests.support.fakes.portone_server import FakePortOne

V2_ONLY = pytest.mark.parametrize("portone_api", ["v2"])  # signatures exist in V2 only


async def test_a_webhook_for_a_paid_payment_marks_it_paid(shop: Shop) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)

    response = await shop.webhook(created, imp_uid)

    assert response.status == 200, await response.text()
    assert [p["status"] for p in await shop.mine()] == ["paid"]
    again = await shop.webhook(created, imp_uid)  # PortOne retries: nothing changes twice
    assert again.status == 200
    verified = await shop.verify(created, imp_uid)  # and the client's verify agrees
    assert verified.status == 200 and (await verified.json())["status"] == "paid"


async def test_a_webhook_claiming_paid_for_an_unpaid_payment_changes_nothing(shop: Shop) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created, status="READY")  # the body says "paid"; PortOne says ready

    response = await shop.webhook(created, imp_uid)

    assert response.status == 200
    assert [p["status"] for p in await shop.mine()] == ["ready"]


async def test_a_webhook_with_a_tampered_amount_fails_and_cancels(shop: Shop, portone: FakePortOne) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created, amount=100)

    response = await shop.webhook(created, imp_uid)

    assert response.status == 200
    mine = await shop.mine()
    assert (mine[0]["status"], mine[0]["failureReason"], mine[0]["refundedAmount"]) == (
        "failed",
        "amount_mismatch",
        100,
    )
    record = portone.store.get(created["merchantUid"])
    assert record is not None and record.status == "CANCELLED"


@V2_ONLY
async def test_a_badly_signed_webhook_is_refused_and_nothing_changes(shop: Shop) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)

    forged = await shop.webhook(created, imp_uid, secret=new_webhook_secret())
    unsigned = await shop.webhook(created, imp_uid, sign=False)

    assert forged.status == 400 and "bad_signature" in (await forged.json())["message"]
    assert unsigned.status == 400 and "missing_headers" in (await unsigned.json())["message"]
    assert [p["status"] for p in await shop.mine()] == ["ready"]


@V2_ONLY
async def test_a_replayed_webhook_is_refused(shop: Shop) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)

    replayed = await shop.webhook(created, imp_uid, timestamp=int(time.time()) - 3600)

    assert replayed.status == 400 and "timestamp_too_old" in (await replayed.json())["message"]
    assert [p["status"] for p in await shop.mine()] == ["ready"]


@pytest.mark.parametrize("portone_api", ["v1"])
async def test_a_v1_webhook_naming_someone_elses_imp_uid_changes_nothing(shop: Shop) -> None:
    # V1 webhooks are unsigned: anyone can post one, so a mismatch must not fail the payment
    victim = await shop.create(9900)
    other = await shop.create(9900)
    other_imp_uid = shop.pay(other)

    response = await shop.webhook(victim, other_imp_uid)

    assert response.status == 200
    statuses = {p["id"]: p["status"] for p in await shop.mine()}
    assert statuses[victim["id"]] == "ready"


@V2_ONLY
async def test_a_webhook_about_an_unknown_payment_is_acknowledged(shop: Shop) -> None:
    response = await shop.webhook({"merchantUid": "not-ours", "id": "x"}, "not-ours")

    assert response.status == 200
