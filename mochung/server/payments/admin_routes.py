"""Admin payments: list (status, flagged), refund through PortOne, review."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from mochung.domain import payments
from mochung.domain.listing import Slice
from mochung.domain.models import Payment, PaymentStatus, User
from mochung.server import keys
from mochung.server.admin.kit import AdminRoutes, admin_endpoint, mapped
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import filled
from mochung.server.http.wire import HAS_TEXT, PositiveJsonInt, WireModel, respond
from mochung.server.payments.routes import PaymentOut

routes = AdminRoutes()


class AdminPaymentOut(PaymentOut):
    user_id: uuid.UUID
    user_email: str | None
    flagged: bool
    review_decision: str | None
    review_note: str | None
    provider_record: dict[str, Any] | None = Field(description="PortOne's own record, as last fetched")


class PaymentsQuery(SliceQuery):
    status: PaymentStatus | None = None
    flagged: bool | None = None


class RefundBody(WireModel):
    reason: str = Field(min_length=1, max_length=500, pattern=HAS_TEXT)
    amount: PositiveJsonInt | None = Field(default=None, description="omit to refund everything left")


class ReviewBody(WireModel):
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=2000)


def admin_payment_out(payment: Payment) -> AdminPaymentOut:
    record = payment.provider_record
    return filled(
        AdminPaymentOut,
        payment,
        status=payment.status.value,
        user_email=payment.user.email if payment.user is not None else None,
        provider_record=record if isinstance(record, dict) else None,
    )


@routes.listing(
    "/api/admin/payments", PaymentsQuery, AdminPaymentOut, summary="Payments, newest first, by status and flag"
)
async def list_payments(request: web.Request, query: PaymentsQuery) -> Slice[AdminPaymentOut]:
    return mapped(
        await payments.list_payments(query.status, query.flagged, query.limit, query.cursor), admin_payment_out
    )


@routes.post("/api/admin/payments/{id}/refund")
@admin_endpoint(
    summary="Refund in full or in part through PortOne",
    body=RefundBody,
    response=AdminPaymentOut,
    errors=(400, 404, 409, 503),
)
async def refund(request: web.Request, caller: User, path_id: uuid.UUID, body: RefundBody) -> web.Response:
    provider = request.app[keys.PAYMENTS].provider_for(request)
    payment = await payments.refund_payment(provider, caller, path_id, reason=body.reason, amount=body.amount)
    return respond(admin_payment_out(payment))


@routes.post("/api/admin/payments/{id}/review")
@admin_endpoint(
    summary="Record a review decision (approve or reject) with a note",
    body=ReviewBody,
    response=AdminPaymentOut,
    errors=(400, 404),
)
async def review(request: web.Request, caller: User, path_id: uuid.UUID, body: ReviewBody) -> web.Response:
    payment = await payments.review_payment(caller, path_id, decision=body.decision, note=body.note)
    return respond(admin_payment_out(payment))
