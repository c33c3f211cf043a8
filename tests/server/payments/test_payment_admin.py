"""Admin payments over HTTP: list, refund (full, partial, twice) through PortOne, review, audit."""

from __future__ import annotations

from typing import Any

import pytest

from mochung.domain.models import AuditEntry
from tests.server.payments.shop import Shop
from tests.support import Api
from tests.support.fakes.portone_server import FakePortOne
from tests.support.users import user_with_headers


async def paid_payment(shop: Shop, amount: int = 29900) -> dict[str, Any]:
    created = await shop.create(amount)
    response = await shop.verify(created, shop.pay(created))
    assert response.status == 200, await response.text()
    return await response.json()


async def refund(api: Api, headers: dict[str, str], payment_id: str, **body: Any) -> Any:
    return await api.client.post(f"/api/admin/payments/{payment_id}/refund", json=body, headers=headers)


async def test_partial_then_full_refund_then_a_refused_second_full_refund(
    api: Api, shop: Shop, portone: FakePortOne
) -> None:
    _, admin = await user_with_headers(admin=True)
    payment = await paid_payment(shop)

    partial = await refund(api, admin, payment["id"], reason="일부 환불", amount=10000)
    assert partial.status == 200, await partial.text()
    body = await partial.json()
    assert (body["status"], body["refundedAmount"]) == ("paid", 10000)

    rest = await refund(api, admin, payment["id"], reason="나머지 환불")
    assert rest.status == 200
    body = await rest.json()
    assert (body["status"], body["refundedAmount"]) == ("refunded", 29900)
    record = portone.store.get(payment["merchantUid"])
    assert record is not None and (record.status, record.cancelled) == ("CANCELLED", 29900)

    twice = await refund(api, admin, payment["id"], reason="또 환불")
    assert twice.status == 409
    entries = await AuditEntry.filter(action="payment.refund", target=f"payment:{payment['id']}").order_by("created_at")
    assert [(e.details["amount"], e.details["reason"]) for e in entries] == [
        (10000, "일부 환불"),
        (19900, "나머지 환불"),
    ]
    assert [p["refundedAmount"] for p in await shop.mine()] == [29900]


@pytest.mark.parametrize("portone_api", ["v2"])
async def test_a_refund_larger_than_what_is_left_or_of_an_unpaid_payment_is_refused(api: Api, shop: Shop) -> None:
    _, admin = await user_with_headers(admin=True)
    payment = await paid_payment(shop, 9900)
    unpaid = await shop.create(9900)

    too_much = await refund(api, admin, payment["id"], reason="환불", amount=10000)
    not_paid = await refund(api, admin, unpaid["id"], reason="환불")
    no_reason = await refund(api, admin, payment["id"])

    assert too_much.status == 400
    assert not_paid.status == 409
    assert no_reason.status == 400
    assert await AuditEntry.filter(action="payment.refund").count() == 0


@pytest.mark.parametrize("portone_api", ["v2"])
async def test_review_and_the_flagged_list(api: Api, shop: Shop) -> None:
    _, admin = await user_with_headers(admin=True)
    forged = await shop.create(9900)
    await shop.verify(forged, shop.pay(forged, amount=100))
    await paid_payment(shop, 9900)

    flagged = await api.client.get("/api/admin/payments?flagged=true", headers=admin)
    assert flagged.status == 200
    items = (await flagged.json())["items"]
    assert [(p["id"], p["failureReason"], p["userEmail"]) for p in items] == [
        (forged["id"], "amount_mismatch", shop.user["email"])
    ]
    paid = await api.client.get("/api/admin/payments?status=paid", headers=admin)
    assert [p["status"] for p in (await paid.json())["items"]] == ["paid"]
    bad = await api.client.get("/api/admin/payments?status=nonsense", headers=admin)
    assert bad.status == 400

    reviewed = await api.client.post(
        f"/api/admin/payments/{forged['id']}/review", json={"decision": "reject", "note": "위조 시도"}, headers=admin
    )
    assert reviewed.status == 200
    body = await reviewed.json()
    assert (body["reviewDecision"], body["reviewNote"], body["status"]) == ("reject", "위조 시도", "failed")
    entry = await AuditEntry.get(action="payment.review", target=f"payment:{forged['id']}")
    assert entry.details["decision"] == "reject"
    wrong = await api.client.post(
        f"/api/admin/payments/{forged['id']}/review", json={"decision": "maybe", "note": ""}, headers=admin
    )
    assert wrong.status == 400


@pytest.mark.parametrize("portone_api", ["v2"])
async def test_admin_routes_refuse_non_admins(api: Api, shop: Shop) -> None:
    payment = await paid_payment(shop, 9900)
    calls = [
        ("GET", "/api/admin/payments", None),
        ("POST", f"/api/admin/payments/{payment['id']}/refund", {"reason": "x"}),
        ("POST", f"/api/admin/payments/{payment['id']}/review", {"decision": "approve", "note": ""}),
    ]
    for method, path, body in calls:
        as_user = await api.client.request(method, path, json=body, headers=shop.headers)
        anonymous = await api.client.request(method, path, json=body)
        assert (as_user.status, anonymous.status) == (403, 401), path
    assert [p["status"] for p in await shop.mine()] == ["paid"]


@pytest.mark.parametrize("portone_api", ["v2"])
async def test_an_unknown_payment_is_404_for_admins(api: Api) -> None:
    _, admin = await user_with_headers(admin=True)

    missing = await refund(api, admin, "00000000-0000-0000-0000-000000000000", reason="x")
    not_an_id = await refund(api, admin, "nope", reason="x")

    assert (missing.status, not_an_id.status) == (404, 404)
