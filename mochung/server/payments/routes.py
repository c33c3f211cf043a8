"""Payments REST (PROTOCOL.md "Payments"): plans, create, verify, webhook, my-payments."""

from __future__ import annotations

import functools
import logging
import uuid

from aiohttp import web
from pydantic import Field

from mochung.adapters.portone import InvalidWebhook, parse_webhook_event, verify_webhook
from mochung.domain import payments as rules
from mochung.domain.errors import Invalid, PaymentVerificationFailed
from mochung.domain.models import Payment, User
from mochung.server import keys
from mochung.server.http.replies import filled
from mochung.server.http.wire import HAS_TEXT, PositiveJsonInt, UtcDatetime, WireModel, endpoint, respond
from mochung.server.payments.provider import WEBHOOK_PATH

routes = web.RouteTableDef()
log = logging.getLogger("mochung.payments")
TAG = "payments"
# a logged-in user's routes; the 401 without a valid token follows from ``auth`` (docs.py)
_users_endpoint = functools.partial(endpoint, tag=TAG, auth="user")


class PlanOut(WireModel):
    id: str
    name: str
    amount: int
    currency: str


class CreateBody(WireModel):
    amount: PositiveJsonInt
    page_id: uuid.UUID
    customer_name: str = Field(min_length=1, max_length=100, pattern=HAS_TEXT)
    plan_id: str | None = Field(default=None, max_length=50)


class VerifyBody(WireModel):
    payment_id: str = Field(min_length=1, max_length=100, description="our payment id (or its merchantUid)")
    imp_uid: str | None = Field(
        default=None, min_length=1, max_length=200, description="PortOne's id: V1 imp_uid, V2 paymentId"
    )


class PaymentOut(WireModel):
    id: uuid.UUID
    merchant_uid: str
    amount: int
    currency: str
    status: str
    page_id: uuid.UUID | None
    plan_id: str
    customer_name: str
    failure_reason: str | None
    refunded_amount: int
    provider_payment_id: str | None
    paid_at: UtcDatetime | None
    created_at: UtcDatetime


def payment_out(payment: Payment) -> PaymentOut:
    return filled(PaymentOut, payment, status=payment.status.value)


def _count_payment(request: web.Request, status: str) -> None:
    metrics = request.app[keys.METRICS]
    metrics.child(metrics.payments, status=status).inc()


@routes.get("/api/payment/plans")
@endpoint(summary="The plans and their prices (the price is the server's)", tag=TAG, response=list[PlanOut])
async def plans(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    return respond([PlanOut(id=p.id, name=p.name, amount=p.amount, currency=p.currency) for p in settings.plans])


@routes.post("/api/payment/create")
@_users_endpoint(
    summary="Start paying for a plan: a ready payment with a fresh merchantUid",
    body=CreateBody,
    response=PaymentOut,
    status=201,
    errors=(400, 404),
)
async def create(request: web.Request, caller: User, body: CreateBody) -> web.Response:
    payments = request.app[keys.PAYMENTS]
    payment = await rules.create_payment(
        payments.provider_for(request),
        caller,
        request.app[keys.SETTINGS].plans,
        amount=body.amount,
        page_id=body.page_id,
        customer_name=body.customer_name,
        plan_id=body.plan_id,
    )
    _count_payment(request, "created")
    return respond(payment_out(payment), status=201)


@routes.post("/api/payment/verify")
@_users_endpoint(
    summary="Check the payment with PortOne: paid only if PortOne says paid for the right amount and order",
    body=VerifyBody,
    response=PaymentOut,
    errors=(400, 404, 422, 503),
)
async def verify(request: web.Request, caller: User, body: VerifyBody) -> web.Response:
    payment = await rules.own_payment(caller, body.payment_id)
    provider = request.app[keys.PAYMENTS].provider_for(request)
    provider_id = body.imp_uid or payment.provider_payment_id
    if provider_id is None:
        if not provider.pays_by_merchant_uid:
            raise Invalid("impUid is required", details=[("impUid", "PortOne's imp_uid")])
        provider_id = payment.merchant_uid  # V2: the browser paid with paymentId = our merchant uid
    result = await rules.verify_payment(provider, payment, provider_id)
    _count_payment(request, result.payment.status.value)
    if result.paid:
        return respond(payment_out(result.payment))
    raise PaymentVerificationFailed(
        result.verdict.message,
        reason=result.verdict.reason or "unknown",
        payment=payment_out(result.payment).model_dump(by_alias=True, mode="json"),
    )


@routes.post(WEBHOOK_PATH)
@endpoint(
    summary="PortOne webhook: signature checked, body never trusted, the payment re-fetched and verified",
    tag=TAG,
    auth="provider",
    errors=(400, 503),
    extra={
        "description": "Signed as Standard Webhooks (PortOne V2): a request without the three headers, or "
        "whose signature does not verify with MOCHUNG_PORTONE_WEBHOOK_SECRET, is refused (400).",
        "parameters": [
            {"name": name, "in": "header", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        ],
    },
)
async def webhook(request: web.Request) -> web.Response:
    payments = request.app[keys.PAYMENTS]
    provider = payments.provider_for(request)
    metrics = request.app[keys.METRICS]
    body = await request.read()
    if provider.signs_webhooks:
        if payments.webhook_secret is None:
            metrics.child(metrics.payment_webhooks, outcome="not_configured").inc()
            raise Invalid("webhooks are not configured (MOCHUNG_PORTONE_WEBHOOK_SECRET)")
        try:
            verify_webhook(payments.webhook_secret, request.headers, body)
        except InvalidWebhook as error:
            metrics.child(metrics.payment_webhooks, outcome="bad_signature").inc()
            log.warning("webhook refused: %s", error.reason)
            raise Invalid(f"invalid webhook: {error.reason}") from error
    event = parse_webhook_event(body)
    found = await rules.payment_for_webhook(event) if event is not None else None
    if found is None:  # not about one of our payments: acknowledge so PortOne stops retrying
        metrics.child(metrics.payment_webhooks, outcome="ignored").inc()
        return respond({"received": True})
    payment, provider_id = found
    try:
        result = await rules.verify_payment(provider, payment, provider_id, from_webhook=True)
    except Exception:
        metrics.child(metrics.payment_webhooks, outcome="error").inc()
        raise
    metrics.child(metrics.payment_webhooks, outcome=result.payment.status.value).inc()
    _count_payment(request, result.payment.status.value)
    log.info("webhook %s for %s: %s", event.type if event else "?", payment.merchant_uid, result.payment.status.value)
    return respond({"received": True, "status": result.payment.status.value})


@routes.get("/api/payment/my-payments")
@_users_endpoint(summary="The caller's payments, newest first", response=list[PaymentOut])
async def my_payments(request: web.Request, caller: User) -> web.Response:
    return respond([payment_out(p) for p in await rules.list_own_payments(caller)])
