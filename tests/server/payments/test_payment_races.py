"""Verify and webhooks racing for one payment: one state change, at most one cancel.

Runs on SQLite and PostgreSQL (the ``database_url`` fixture); PostgreSQL is the one where
the requests truly run in parallel transactions.
"""

from __future__ import annotations

import asyncio

from mochung.domain.models import AuditEntry, Payment
from tests.server.payments.shop import Shop
from tests.support.fakes.portone_server import FakePortOne, Fault

RACERS = 4


async def test_verify_and_webhooks_racing_mark_a_payment_paid_once(shop: Shop, portone: FakePortOne) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created)
    portone.fault(imp_uid, Fault(delay_seconds=0.3))  # every fetch answers together, after all have asked

    verifies = [shop.verify(created, imp_uid) for _ in range(RACERS)]
    webhooks = [shop.webhook(created, imp_uid) for _ in range(RACERS)]
    responses = await asyncio.gather(*verifies, *webhooks)

    assert [r.status for r in responses] == [200] * (2 * RACERS)
    paid_at = {(await r.json())["paidAt"] for r in responses[:RACERS]}
    assert len(paid_at) == 1  # one transition: every caller sees the same paid row
    stored = await Payment.get(id=created["id"])
    assert (stored.status.value, stored.flagged, stored.failure_reason) == ("paid", False, None)


async def test_racing_on_a_forged_payment_cancels_it_once(shop: Shop, portone: FakePortOne) -> None:
    created = await shop.create(9900)
    imp_uid = shop.pay(created, amount=100)
    portone.fault(imp_uid, Fault(delay_seconds=0.3))

    verifies = [shop.verify(created, imp_uid) for _ in range(RACERS)]
    webhooks = [shop.webhook(created, imp_uid) for _ in range(RACERS)]
    responses = await asyncio.gather(*verifies, *webhooks)

    assert [r.status for r in responses] == [422] * RACERS + [200] * RACERS
    assert {(await r.json())["reason"] for r in responses[:RACERS]} == {"amount_mismatch"}
    assert portone.state.calls["v2.cancel"] + portone.state.calls["v1.cancel"] == 1
    assert await AuditEntry.filter(action="payment.auto_cancel").count() == 1
    stored = await Payment.get(id=created["id"])
    assert (stored.status.value, stored.failure_reason, stored.refunded_amount) == ("failed", "amount_mismatch", 100)
