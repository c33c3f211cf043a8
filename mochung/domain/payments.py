"""Payments for a plan: create, verify (asked by the client or by a webhook), the user's list.

Money is marked paid only when PortOne itself says paid, for the amount we stored, for our
merchant uid. Every state change is a conditional UPDATE guarded by the current status,
so a verify and a webhook racing for one payment change it once, and only the winner of
a forged payment's ready→failed step cancels it at PortOne.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tortoise.expressions import Q

from mochung.domain import audit
from mochung.domain.errors import Conflict, DependencyDown, Invalid, NotFound
from mochung.domain.listing import Slice, paginate
from mochung.domain.models import Page, Payment, PaymentStatus, User
from mochung.domain.plans import Plan, choose_plan
from mochung.domain.ports import (
    PaymentNotFound,
    PaymentProvider,
    PaymentProviderError,
    ProviderAuthError,
    ProviderPayment,
    ProviderRejected,
    ProviderStatus,
    ProviderUnavailable,
    WebhookEvent,
)

log = logging.getLogger("mochung.payments")

# what the client is told for each machine-readable reason
REASONS = {
    "amount_mismatch": "the amount paid is not the price of the plan; the payment was cancelled",
    "currency_mismatch": "the payment was made in another currency; the payment was cancelled",
    "merchant_uid_mismatch": "that PortOne payment belongs to another order",
    "provider_payment_not_found": "PortOne has no such payment",
    "provider_failed": "PortOne reports the payment as failed",
    "provider_cancelled": "PortOne reports the payment as cancelled",
    "provider_status_unknown": "PortOne reports a status this server does not accept",
    "not_paid_yet": "PortOne does not report the payment as paid yet",
}
CANCEL_REASONS = ("amount_mismatch", "currency_mismatch")  # PortOne took money it should not have
UNPAID_YET = (ProviderStatus.READY, ProviderStatus.PENDING, ProviderStatus.VIRTUAL_ACCOUNT_ISSUED)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Verdict:
    outcome: Literal["paid", "failed", "pending"]
    reason: str | None = None
    cancel: bool = False  # money taken for the wrong amount goes back to the customer

    @property
    def message(self) -> str:
        return REASONS.get(self.reason or "", "the payment is paid")


def judge(payment: Payment, record: ProviderPayment | None) -> Verdict:
    """Compare PortOne's record with ours: the whole rule, with no I/O."""
    if record is None:
        return Verdict("failed", "provider_payment_not_found")
    if record.merchant_uid != payment.merchant_uid:
        return Verdict("failed", "merchant_uid_mismatch")
    if record.status is ProviderStatus.PAID:
        if record.amount != payment.amount:
            return Verdict("failed", "amount_mismatch", cancel=True)
        if record.currency.upper() != payment.currency.upper():
            return Verdict("failed", "currency_mismatch", cancel=True)
        return Verdict("paid")
    if record.status in UNPAID_YET:
        return Verdict("pending", "not_paid_yet")
    if record.status is ProviderStatus.FAILED:
        return Verdict("failed", "provider_failed")
    if record.status in (ProviderStatus.CANCELLED, ProviderStatus.PARTIAL_CANCELLED):
        return Verdict("failed", "provider_cancelled")
    return Verdict("failed", "provider_status_unknown")


# ---- create and read ----------------------------------------------------------------------


def new_merchant_uid() -> str:
    """Our id for the order, sent to PortOne (V2 paymentId / V1 merchant_uid): unguessable."""
    return f"mochung-{_now():%Y%m%d}-{secrets.token_hex(10)}"


async def create_payment(
    provider: PaymentProvider | None,
    user: User,
    plans: Sequence[Plan],
    *,
    amount: int,
    page_id: uuid.UUID,
    customer_name: str,
    plan_id: str | None,
) -> Payment:
    """A ``ready`` payment for one of the user's pages, pre-registered at PortOne when possible."""
    plan = choose_plan(plans, plan_id, amount)
    page = await Page.filter(id=page_id, user_id=user.id).first()
    if page is None:
        raise NotFound("page not found")
    name = customer_name.strip()
    if not name:
        raise Invalid("must not be blank", field="customerName")
    payment = await Payment.create(
        user=user,
        page=page,
        plan_id=plan.id,
        merchant_uid=new_merchant_uid(),
        amount=plan.amount,
        currency=plan.currency,
        customer_name=name,
    )
    if provider is not None:
        try:  # PortOne's guide: pre-register the amount, so a tampered browser amount fails at the PG
            await provider.prepare(payment.merchant_uid, amount=payment.amount, currency=payment.currency)
        except PaymentProviderError as error:  # the verification after payment still protects us
            log.warning("pre-registration of %s failed: %s", payment.merchant_uid, error)
    return payment


async def own_payment(user: User, reference: str) -> Payment:
    """The user's payment by our id or its merchant uid; another user's is 404 like a missing one."""
    try:
        query = Payment.filter(id=uuid.UUID(reference))
    except ValueError:
        query = Payment.filter(merchant_uid=reference)
    payment = await query.filter(user_id=user.id).first()
    if payment is None:
        raise NotFound("payment not found")
    return payment


async def list_own_payments(user: User, limit: int = 100) -> list[Payment]:
    return await Payment.filter(user_id=user.id).order_by("-created_at", "-id").limit(limit)


# ---- verify ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    payment: Payment  # as stored after the verification
    verdict: Verdict

    @property
    def paid(self) -> bool:
        return self.payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)


async def fetch_record(provider: PaymentProvider, provider_payment_id: str) -> ProviderPayment | None:
    try:
        return await provider.fetch(provider_payment_id)
    except PaymentNotFound:
        return None
    except (ProviderUnavailable, ProviderAuthError, ProviderRejected) as error:
        log.warning("PortOne fetch of %s failed: %s", provider_payment_id, error)
        raise DependencyDown("PortOne did not answer; try again in a moment") from error


async def verify_payment(
    provider: PaymentProvider, payment: Payment, provider_payment_id: str, *, from_webhook: bool = False
) -> Verification:
    """Settle ``payment`` from PortOne's record of ``provider_payment_id``; safe to repeat and to race.

    ``from_webhook``: the id came from a webhook body, which anyone could have sent (V1
    webhooks are unsigned), so a record that is missing or belongs to another order
    changes nothing instead of failing the payment.
    """
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        if not from_webhook:  # already settled: no need to ask PortOne again
            return Verification(payment, Verdict("paid"))
        return await _sync_refunds(provider, payment)  # e.g. a refund made in PortOne's console
    if payment.status is PaymentStatus.CANCELLED:
        return Verification(payment, Verdict("failed", "provider_cancelled"))
    record = await fetch_record(provider, provider_payment_id)
    verdict = judge(payment, record)
    if from_webhook and verdict.reason in ("provider_payment_not_found", "merchant_uid_mismatch"):
        return Verification(payment, Verdict("pending", verdict.reason))
    won = await _apply(payment, verdict, record, provider_payment_id)
    if won and verdict.cancel and record is not None:
        await _cancel_forged(provider, payment, record, verdict)
    fresh = await Payment.get(id=payment.id)
    if fresh.status is PaymentStatus.FAILED and fresh.failure_reason and verdict.outcome != "paid":
        # a payment that already failed keeps its first reason (e.g. amount_mismatch, then cancelled)
        verdict = Verdict("failed", fresh.failure_reason)
    if fresh.status is PaymentStatus.PAID:
        verdict = Verdict("paid")
    return Verification(fresh, verdict)


async def _apply(payment: Payment, verdict: Verdict, record: ProviderPayment | None, provider_id: str) -> bool:
    """One conditional UPDATE; True when this call made the change."""
    raw = record.raw if record is not None else None
    if verdict.outcome == "paid":
        # a failed payment may still become paid: PortOne's word about a fresh attempt wins
        changed = await Payment.filter(id=payment.id, status__in=[PaymentStatus.READY, PaymentStatus.FAILED]).update(
            status=PaymentStatus.PAID, paid_at=_now(), provider_payment_id=provider_id, provider_record=raw,
            failure_reason=None,
        )  # fmt: skip
        if changed and payment.page_id is not None:
            await Page.filter(id=payment.page_id).update(plan=payment.plan_id)
        return bool(changed)
    if verdict.outcome == "failed":
        query = Payment.filter(id=payment.id, status=PaymentStatus.READY)
        if verdict.cancel:
            # money taken for a wrong amount must go back even when an earlier attempt had
            # failed for another reason; moving to a cancel reason happens once, so one cancel
            query = Payment.filter(
                Q(status=PaymentStatus.READY)
                | Q(status=PaymentStatus.FAILED, failure_reason__not_in=list(CANCEL_REASONS))
                | Q(status=PaymentStatus.FAILED, failure_reason=None),
                id=payment.id,
            )
        changed = await query.update(
            status=PaymentStatus.FAILED, failure_reason=verdict.reason, flagged=True,
            provider_payment_id=provider_id if record is not None else None, provider_record=raw,
        )  # fmt: skip
        if changed:
            log.warning("payment %s failed verification: %s", payment.merchant_uid, verdict.reason)
        return bool(changed)
    return False  # pending: nothing to record until PortOne says more


async def _cancel_forged(
    provider: PaymentProvider, payment: Payment, record: ProviderPayment, verdict: Verdict
) -> None:
    target = f"payment:{payment.id}"
    details = {"reason": verdict.reason, "providerPaymentId": record.id, "paidAmount": record.amount}
    try:
        after = await provider.cancel(
            record.id,
            amount=None,
            reason=f"자동 취소: 결제 검증 실패 ({verdict.reason})",
            current_cancellable_amount=record.cancellable_amount,
        )
    except PaymentProviderError as error:  # flagged already: an admin refunds by hand
        log.error("automatic cancel of %s failed: %s", payment.merchant_uid, error)
        await audit.record(None, "payment.auto_cancel_failed", target, {**details, "error": str(error)})
        return
    await Payment.filter(id=payment.id).update(refunded_amount=after.cancelled_amount, provider_record=after.raw)
    await audit.record(None, "payment.auto_cancel", target, {**details, "cancelledAmount": after.cancelled_amount})


async def _sync_refunds(provider: PaymentProvider, payment: Payment) -> Verification:
    """A paid payment: nothing to verify, but a refund made in PortOne's console is recorded."""
    if payment.provider_payment_id is None:
        return Verification(payment, Verdict("paid"))
    record = await fetch_record(provider, payment.provider_payment_id)
    if record is not None and record.merchant_uid == payment.merchant_uid:
        refunded = min(record.cancelled_amount, payment.amount)
        if refunded > payment.refunded_amount:
            status = PaymentStatus.REFUNDED if refunded >= payment.amount else PaymentStatus.PAID
            await Payment.filter(id=payment.id, refunded_amount__lt=refunded).update(
                refunded_amount=refunded, status=status, provider_record=record.raw
            )
    return Verification(await Payment.get(id=payment.id), Verdict("paid"))


async def payment_for_webhook(event: WebhookEvent) -> tuple[Payment, str] | None:
    """Our payment a webhook is about and the id to fetch it with; None when it is not ours."""
    merchant_uid = event.merchant_uid if event.merchant_uid is not None else event.payment_id
    column = Payment._meta.fields_map["merchant_uid"]
    if len(merchant_uid) > column.max_length:  # type: ignore[attr-defined]  # a CharField; the base Field has no max_length
        return None  # longer than any merchant uid: not ours
    # V1: imp_uid to fetch, merchant_uid to find; V2: the paymentId is our merchant uid
    payment = await Payment.filter(merchant_uid=merchant_uid).first()
    return (payment, event.payment_id) if payment is not None else None


# ---- admin: the list, refunds through PortOne (full or partial), reviews -----------------

REVIEW_DECISIONS = ("approve", "reject")


async def list_payments(status: str | None, flagged: bool | None, limit: int, cursor: str | None) -> Slice[Payment]:
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
    provider: PaymentProvider, admin: User, payment_id: uuid.UUID, *, reason: str, amount: int | None
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
        after = await provider.cancel(
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
