"""The verdict on a payment: PortOne's record against ours, the whole rule and no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest

from mochung.domain.models import Payment
from mochung.domain.payments import Verdict, judge
from mochung.domain.ports import ProviderPayment, ProviderStatus

NOT_YET = "PortOne does not report the payment as paid yet"


@dataclass
class Stored:
    """The fields of our Payment row the verdict reads."""

    merchant_uid: str = "mochung-20270501-abc"
    amount: int = 9900
    currency: str = "KRW"


def ours(**fields: Any) -> Payment:
    return cast(Payment, Stored(**fields))


def record(status: ProviderStatus = ProviderStatus.PAID, **fields: Any) -> ProviderPayment:
    values: dict[str, Any] = {
        "id": "imp_1",
        "merchant_uid": "mochung-20270501-abc",
        "status": status,
        "amount": 9900,
        "cancelled_amount": 0,
        "currency": "KRW",
        "raw": {},
    }
    return ProviderPayment(**(values | fields))


def test_paid_for_our_order_amount_and_currency_is_paid() -> None:
    verdict = judge(ours(), record())

    assert verdict == Verdict("paid")
    assert verdict.message == "the payment is paid"


def test_the_currency_is_compared_without_case() -> None:
    assert judge(ours(currency="krw"), record(currency="KRW")).outcome == "paid"


@pytest.mark.parametrize(
    ("provider", "outcome", "reason", "cancel", "message"),
    [
        (None, "failed", "provider_payment_not_found", False, "PortOne has no such payment"),
        (
            record(merchant_uid="someone-elses-order"),
            "failed",
            "merchant_uid_mismatch",
            False,
            "that PortOne payment belongs to another order",
        ),
        (
            record(amount=100),
            "failed",
            "amount_mismatch",
            True,
            "the amount paid is not the price of the plan; the payment was cancelled",
        ),
        (
            record(currency="USD"),
            "failed",
            "currency_mismatch",
            True,
            "the payment was made in another currency; the payment was cancelled",
        ),
        (record(ProviderStatus.READY), "pending", "not_paid_yet", False, NOT_YET),
        (record(ProviderStatus.PENDING), "pending", "not_paid_yet", False, NOT_YET),
        (
            record(ProviderStatus.VIRTUAL_ACCOUNT_ISSUED),
            "pending",
            "not_paid_yet",
            False,
            NOT_YET,
        ),
        (record(ProviderStatus.FAILED), "failed", "provider_failed", False, "PortOne reports the payment as failed"),
        (
            record(ProviderStatus.CANCELLED),
            "failed",
            "provider_cancelled",
            False,
            "PortOne reports the payment as cancelled",
        ),
        (
            record(ProviderStatus.PARTIAL_CANCELLED),
            "failed",
            "provider_cancelled",
            False,
            "PortOne reports the payment as cancelled",
        ),
    ],
)
def test_every_other_record_is_not_paid_and_says_why(
    provider: ProviderPayment | None, outcome: str, reason: str, cancel: bool, message: str
) -> None:
    verdict = judge(ours(), provider)

    assert (verdict.outcome, verdict.reason, verdict.cancel, verdict.message) == (outcome, reason, cancel, message)


def test_another_orders_record_is_refused_even_when_it_was_not_paid() -> None:
    assert judge(ours(), record(ProviderStatus.READY, merchant_uid="other")).reason == "merchant_uid_mismatch"


def test_a_status_this_server_does_not_know_is_refused() -> None:
    verdict = judge(ours(), record(ProviderStatus.UNKNOWN))

    assert (verdict.outcome, verdict.reason, verdict.cancel) == ("failed", "provider_status_unknown", False)
    assert verdict.message == "PortOne reports a status this server does not accept"
