"""Admin side of payments: the list, refunds through PortOne (full or partial), reviews. Each
state change writes an audit entry."""

from __future__ import annotations

import uuid

from mochung.domain import audit
from mochung.domain.errors import Conflict, DependencyDown, Invalid, NotFound
from mochung.domain.listing import Page, paginate
from mochung.domain.models import Payment, PaymentStatus, User
from mochung.domain.ports import (
    PaymentNotFound,
    PaymentProvider,
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
)

REVIEW_DECISIONS = ("approve", "reject")


async def list_payments(status: str | None, flagged: bool | None, limit: int, cursor: str | None) -> Page[Payment]:
    query = Payment.all().select_related("user")
    if status:
        if status not in {s.value for s in PaymentStatus}:
            raise Invalid(f"must be one of {', '.join(s.value for s in PaymentStatus)}", field="status")
        query = query.filter(status=status)
    if flagged is not None:
        query = query.filter(flagged=flagged)
    return await paginate(query, limit=limit, cursor=cursor)


async def _payment(payment_id: uuid.UUID) -> Payment:
    payment = await Payment.filter(id=payment_id).select_related("user").first()
    if payment is None:
        raise NotFound("payment not found")
    return payment


async def refund_payment(
    gateway: PaymentProvider, admin: User, payment_id: uuid.UUID, *, reason: str, amount: int | None
) -> Payment:
    """Give back ``amount`` (default: all that is left) through PortOne, then record what PortOne says.

    PortOne is told the balance we believe is refundable, so two refunds racing for one
    payment cannot both go through: the second is refused (409).
    """
    reason = reason.strip()
    if not reason:
        raise Invalid("must not be blank", field="reason")
    payment = await _payment(payment_id)
    if payment.status is PaymentStatus.REFUNDED:
        raise Conflict("the payment is already refunded in full")
    if payment.status is not PaymentStatus.PAID or payment.provider_payment_id is None:
        raise Conflict(f"only paid payments can be refunded (this one is {payment.status.value})")
    refundable = payment.amount - payment.refunded_amount
    if amount is not None and amount > refundable:
        raise Invalid(f"at most {refundable} {payment.currency} is left to refund", field="amount")
    try:
        after = await gateway.cancel(
            payment.provider_payment_id, amount=amount, reason=reason, current_cancellable_amount=refundable
        )
    except (ProviderRejected, PaymentNotFound) as error:
        raise Conflict(f"PortOne refused the refund: {error}") from error
    except (ProviderUnavailable, ProviderAuthError) as error:
        raise DependencyDown(
            "PortOne did not answer; the refund may not have happened, check before retrying"
        ) from error
    refunded = min(after.cancelled_amount, payment.amount)
    status = PaymentStatus.REFUNDED if refunded >= payment.amount else PaymentStatus.PAID
    await Payment.filter(id=payment.id, refunded_amount__lt=refunded).update(
        refunded_amount=refunded, status=status, provider_record=after.raw
    )
    await audit.record(
        admin.id,
        "payment.refund",
        f"payment:{payment.id}",
        {
            "amount": refunded - payment.refunded_amount,
            "refundedTotal": refunded,
            "reason": reason,
            "merchantUid": payment.merchant_uid,
        },
    )
    return await _payment(payment.id)


async def review_payment(admin: User, payment_id: uuid.UUID, *, decision: str, note: str) -> Payment:
    """An admin's decision on a payment (typically a flagged one). It never changes whether the
    payment counts as paid: only PortOne's record does that."""
    if decision not in REVIEW_DECISIONS:
        raise Invalid(f"must be one of {', '.join(REVIEW_DECISIONS)}", field="decision")
    payment = await _payment(payment_id)
    await Payment.filter(id=payment.id).update(review_decision=decision, review_note=note.strip() or None)
    await audit.record(
        admin.id,
        "payment.review",
        f"payment:{payment.id}",
        {"decision": decision, "note": note.strip(), "status": payment.status.value, "flagged": payment.flagged},
    )
    return await _payment(payment.id)
