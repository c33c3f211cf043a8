"""Create and verify over HTTP, with PortOne V1 and V2 fakes: paid only when PortOne says so."""

from __future__ import annotations

import pytest

from mochung.domain.models import AuditEntry, Payment
from tests.server.payments.shop import Shop, new_shop
from tests.support import Api
from tests.support.fakes.portone_server import FakePortOne, Fault


@pytest.mark.parametrize("portone_api", ["v2"])  # no PortOne call: one API version is enough
async def test_plans_are_the_servers(api: Api) -> None:
    response = await api.client.get("/api/payment/plans")

    assert response.status == 200
    plans = await response.json()
    assert {"id": "basic", "name": "기본 (Basic)", "amount": 9900, "currency": "KRW"} in plans


async def test_create_stores_a_ready_payment_and_preregisters_it(shop: Shop, portone: FakePortOne) -> None:
    created = await shop.create(9900, planId="basic")

    assert created["status"] == "ready"
    assert (created["amount"], created["currency"], created["planId"]) == (9900, "KRW", "basic")
    assert created["pageId"] == shop.page_id and created["merchantUid"].startswith("mochung-")
    registered = portone.store.by_merchant_uid(created["merchantUid"])
    assert registered is not None and registered.expected_amount == 9900


@pytest.mark.parametrize("portone_api", ["v2"])  # no PortOne call: one API version is enough
async def test_create_refuses_a_price_that_is_not_the_plans(shop: Shop) -> None:
    wrong = await shop.api.client.post(
        "/api/payment/create",
        json={"amount": 100, "pageId": shop.page_id, "customerName": "김신랑", "planId": "premium"},
        headers=shop.headers,
    )
    no_plan = await shop.api.client.post(
        "/api/payment/create",
        json={"amount": 12345, "pageId": shop.page_id, "customerName": "김신랑"},
        headers=shop.headers,
    )

    assert wrong.status == 400 and "29900" in (await wrong.json())["message"]
    assert no_plan.status == 400
    assert await shop.mine() == []


@pytest.mark.parametrize("portone_api", ["v2"])  # no PortOne call: one API version is enough
async def test_create_needs_a_login_and_your_own_page(shop: Shop, api: Api, portone: FakePortOne) -> None:
    other = await new_shop(api, portone, shop.portone_api)
    body = {"amount": 9900, "pageId": other.page_id, "customerName": "김신랑"}

    anonymous = await api.client.post("/api/payment/create", json=body)
    someone_elses_page = await api.client.post("/api/payment/create", json=body, headers=shop.headers)

    assert anonymous.status == 401
    assert someone_elses_page.status == 404


async def test_a_paid_payment_verifies_and_the_page_gets_the_plan(shop: Shop) -> None:
    created = await shop.create(29900, planId="premium")
    imp_uid = shop.pay(created)

    response = await shop.verify(created, imp_uid)

    assert response.status == 200, await response.text()
    paid = await response.json()
    assert (paid["status"], paid["amount"], paid["providerPaymentId"]) == ("paid", 29900, imp_uid)
    assert paid["paidAt"] is not None
    page = await shop.api.client.get(f"/api/page/{shop.page_id}", headers=shop.headers)
    assert (await page.json())["plan"] == "premium"
    again = await shop.verify(created, imp_uid)  # idempotent
    assert again.status == 200 and (await again.json())["paidAt"] == paid["paidAt"]
    assert [p["status"] for p in await shop.mine()] == ["paid"]


async def test_a_tampered_amount_fails_is_flagged_and_cancelled_at_portone(shop: Shop, portone: FakePortOne) -> None:
    for paid_amount in (100, 99900):  # lower and higher than the price
        created = await shop.create(9900)
        imp_uid = shop.pay(created, amount=paid_amount)

        response = await shop.verify(created, imp_uid)

        assert response.status == 422
        body = await response.json()
        assert body["reason"] == "amount_mismatch" and body["payment"]["status"] == "failed"
        record = portone.store.get(created["merchantUid"])
        assert record is not None and record.status == "CANCELLED" and record.cancelled == paid_amount
        assert body["payment"]["refundedAmount"] == paid_amount
        stored = await Payment.get(id=created["id"])
        assert stored.flagged and stored.failure_reason == "amount_mismatch"
        assert await AuditEntry.filter(action="payment.auto_cancel", target=f"payment:{created['id']}").count() == 1
        # asking again changes nothing and cancels nothing more
        again = await shop.verify(created, imp_uid)
        assert again.status == 422 and (await again.json())["reason"] == "amount_mismatch"
    assert portone.state.calls["v2.cancel"] + portone.state.calls["v1.cancel"] == 2


async def test_failed_cancelled_and_unknown_payments_fail_verification(shop: Shop) -> None:
    cases = [("FAILED", "provider_failed"), ("CANCELLED", "provider_cancelled"), (None, "provider_payment_not_found")]
    for scripted, reason in cases:
        created = await shop.create(9900)
        imp_uid = shop.pay(created, status=scripted) if scripted else "imp_does_not_exist"

        response = await shop.verify(created, imp_uid)

        assert response.status == 422
        body = await response.json()
        assert (body["reason"], body["payment"]["status"]) == (reason, "failed")
        assert (await Payment.get(id=created["id"])).flagged


async def test_an_unpaid_payment_stays_ready(shop: Shop) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created, status="READY")

    response = await shop.verify(created, imp_uid)

    assert response.status == 422
    body = await response.json()
    assert (body["reason"], body["payment"]["status"]) == ("not_paid_yet", "ready")


async def test_a_payment_of_another_order_does_not_pay_this_one(shop: Shop) -> None:
    first = await shop.create(9900)
    second = await shop.create(9900)
    imp_uid_of_first = shop.pay(first)

    response = await shop.verify(second, imp_uid_of_first)

    assert response.status == 422
    assert (await response.json())["reason"] == "merchant_uid_mismatch"


async def test_portone_down_changes_nothing_and_says_so(shop: Shop, portone: FakePortOne) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)
    portone.fault(imp_uid, Fault(status=502))

    response = await shop.verify(created, imp_uid)

    assert response.status == 503
    assert "PortOne" in (await response.json())["message"]
    assert [p["status"] for p in await shop.mine()] == ["ready"]


@pytest.mark.parametrize("portone_api", ["v2"])  # no PortOne call: one API version is enough
async def test_another_users_payment_is_not_found(shop: Shop, api: Api, portone: FakePortOne) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)
    other = await new_shop(api, portone, shop.portone_api)

    response = await shop.verify(created, imp_uid, headers=other.headers)

    assert response.status == 404
    assert await other.mine() == []
    assert [p["status"] for p in await shop.mine()] == ["ready"]


@pytest.mark.parametrize("portone_api", ["v2"])
async def test_a_failed_attempt_can_still_be_paid_or_cancelled_later(shop: Shop, portone: FakePortOne) -> None:
    honest = await shop.create(9900)
    assert (await shop.verify(honest, "imp_typo")).status == 422  # not found: failed, flagged
    forged = await shop.create(9900)
    assert (await shop.verify(forged, "imp_typo")).status == 422

    paid = await shop.verify(honest, shop.pay(honest))  # PortOne's word about the real payment wins
    tampered = await shop.verify(forged, shop.pay(forged, amount=100))

    assert paid.status == 200 and (await paid.json())["failureReason"] is None
    assert tampered.status == 422 and (await tampered.json())["reason"] == "amount_mismatch"
    record = portone.store.get(forged["merchantUid"])
    assert record is not None and record.status == "CANCELLED"  # the money went back


@pytest.mark.parametrize("portone_api", ["v2"])
async def test_a_refund_made_in_portones_console_arrives_by_webhook(shop: Shop, portone: FakePortOne) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)
    assert (await shop.verify(created, imp_uid)).status == 200
    record = portone.store.get(created["merchantUid"])
    assert record is not None
    record.add_cancellation(9900, "콘솔에서 환불")

    response = await shop.webhook(created, imp_uid)

    assert response.status == 200
    mine = await shop.mine()
    assert (mine[0]["status"], mine[0]["refundedAmount"]) == ("refunded", 9900)
