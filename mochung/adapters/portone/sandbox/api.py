"""A PortOne-compatible sandbox: the V2 API (and V1 under ``/v1``) for the calls mochung makes.

With no PortOne keys the embedded server mounts this app at :data:`SANDBOX_MOUNT_PATH` and
points the real V2 client at it, so verification runs the same code with no account. The
browser SDK's part (paying) is played by one extension that PortOne does not have:
``POST /payments/{paymentId}/complete {amount?, status?}``, called by
``mochung pay sandbox-complete`` through :func:`complete_sandbox_payment`. Like PortOne, the
sandbox then sends a signed webhook when a URL is configured.

The test suite's fake PortOne server is this app plus scripted faults.
"""

from __future__ import annotations

import functools
import hmac
import json
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import quote

import aiohttp
from aiohttp import web

from mochung.adapters.portone.common import PortOneHttp
from mochung.adapters.portone.sandbox.store import SANDBOX_STORE_ID, SandboxPayment, SandboxStore, iso_now
from mochung.adapters.portone.webhooks import sign_webhook
from mochung.domain.ports import ProviderAuthError, ProviderRejected

SANDBOX_MOUNT_PATH = "/sandbox/portone"
V1_PREFIX = "/v1"

WEBHOOK_TYPES = {
    "PAID": "Transaction.Paid",
    "FAILED": "Transaction.Failed",
    "CANCELLED": "Transaction.Cancelled",
    "PARTIAL_CANCELLED": "Transaction.PartialCancelled",
}


@dataclass
class SandboxState:
    store: SandboxStore
    api_secret: str
    imp_key: str | None = None
    imp_secret: str | None = None
    token_lifetime_seconds: int = 1800
    webhook_url: str | None = None  # a full URL, or a path on the calling server's origin
    webhook_secret: str | None = None
    tokens: dict[str, float] = field(default_factory=dict)  # V1 access token -> expiry (unix time)
    calls: Counter[str] = field(default_factory=Counter)  # e.g. calls["v1.getToken"], for tests

    def revoke_tokens(self) -> None:
        self.tokens.clear()


SANDBOX_STATE = web.AppKey("portone_sandbox_state", SandboxState)
Handler = Callable[[web.Request], Awaitable[web.Response]]
StateHandler = Callable[[web.Request, SandboxState], Awaitable[web.Response]]


def create_sandbox_app(
    *,
    api_secret: str,
    store: SandboxStore | None = None,
    imp_key: str | None = None,
    imp_secret: str | None = None,
    token_lifetime_seconds: int = 1800,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    middlewares: Iterable[Any] = (),
) -> web.Application:
    """The sandbox app. V1 routes answer only when ``imp_key``/``imp_secret`` are given."""
    app = web.Application(middlewares=list(middlewares))
    app[SANDBOX_STATE] = SandboxState(
        store=store or SandboxStore(),
        api_secret=api_secret,
        imp_key=imp_key,
        imp_secret=imp_secret,
        token_lifetime_seconds=token_lifetime_seconds,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    app.router.add_get("/payments/{payment_id}", v2_get_payment)
    app.router.add_post("/payments/{payment_id}/pre-register", v2_pre_register)
    app.router.add_post("/payments/{payment_id}/cancel", v2_cancel)
    app.router.add_post("/payments/{payment_id}/complete", sandbox_complete)
    app.router.add_post(V1_PREFIX + "/users/getToken", v1_get_token)
    app.router.add_post(V1_PREFIX + "/payments/prepare", v1_prepare)
    app.router.add_post(V1_PREFIX + "/payments/cancel", v1_cancel)
    app.router.add_get(V1_PREFIX + "/payments/{imp_uid}", v1_get_payment)
    return app


# ---- V2 ---------------------------------------------------------------------------------


def _v2_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"type": error_type, "message": message}, status=status)


def _v2_authorised(request: web.Request) -> bool:
    expected = f"PortOne {request.app[SANDBOX_STATE].api_secret}"
    return hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected.encode())


def _route(
    call: str, authorised: Callable[[web.Request], bool], refusal: Callable[[], web.Response]
) -> Callable[[StateHandler], Handler]:
    """A sandbox handler that counts its ``call`` and answers ``refusal()`` to a caller who is
    not ``authorised``; the handler gets the sandbox state."""

    def wrap(handler: StateHandler) -> Handler:
        @functools.wraps(handler)
        async def route(request: web.Request) -> web.Response:
            state = request.app[SANDBOX_STATE]
            state.calls[call] += 1
            if not authorised(request):
                return refusal()
            return await handler(request, state)

        return route

    return wrap


def _v2_route(call: str) -> Callable[[StateHandler], Handler]:
    return _route(call, _v2_authorised, lambda: _v2_error(401, "UNAUTHORIZED", "올바르지 않은 인증 정보입니다."))


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json() if request.body_exists else {}
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _positive_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@_v2_route("v2.getPayment")
async def v2_get_payment(request: web.Request, state: SandboxState) -> web.Response:
    payment = state.store.get(request.match_info["payment_id"])
    if payment is None:
        return _v2_error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    return web.json_response(payment.as_v2())


@_v2_route("v2.preRegister")
async def v2_pre_register(request: web.Request, state: SandboxState) -> web.Response:
    body = await _json_body(request)
    if body is None or not _positive_int(body.get("totalAmount")):
        return _v2_error(400, "INVALID_REQUEST", "totalAmount must be a positive integer")
    payment_id = request.match_info["payment_id"]
    payment = state.store.get(payment_id)
    if payment is not None and payment.status != "READY":
        return _v2_error(409, "ALREADY_PAID", "이미 결제된 건입니다.")
    payment = payment or SandboxPayment(payment_id=payment_id, amount=body["totalAmount"])
    payment.amount = payment.expected_amount = body["totalAmount"]
    payment.currency = str(body.get("currency") or payment.currency)
    state.store.put(payment)
    return web.json_response({})


def _cancel_refusal(payment: SandboxPayment, amount: int, checksum: object) -> tuple[int, str, str] | None:
    """Why PortOne would refuse this cancel, as (HTTP status, V2 type, message), or None."""
    if payment.status == "CANCELLED":
        return 409, "PAYMENT_ALREADY_CANCELLED", "이미 취소된 결제 건입니다."
    if payment.status not in ("PAID", "PARTIAL_CANCELLED"):
        return 409, "PAYMENT_NOT_PAID", "결제가 완료되지 않은 건입니다."
    if checksum is not None and checksum != payment.cancellable:
        return 409, "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN", "취소 가능 잔액 검증에 실패했습니다."
    if amount <= 0 or amount > payment.cancellable:
        return 400, "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT", "취소 금액이 취소 가능 금액을 초과합니다."
    return None


@_v2_route("v2.cancel")
async def v2_cancel(request: web.Request, state: SandboxState) -> web.Response:
    body = await _json_body(request)
    if body is None or not isinstance(body.get("reason"), str) or not body["reason"].strip():
        return _v2_error(400, "INVALID_REQUEST", "reason is required")
    if "amount" in body and not _positive_int(body["amount"]):
        return _v2_error(400, "INVALID_REQUEST", "amount must be a positive integer")
    payment = state.store.get(request.match_info["payment_id"])
    if payment is None:
        return _v2_error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    amount = body.get("amount", payment.cancellable)
    refusal = _cancel_refusal(payment, amount, body.get("currentCancellableAmount"))
    if refusal is not None:
        return _v2_error(*refusal)
    cancellation = payment.add_cancellation(amount, body["reason"])
    state.store.save()
    await _send_webhook(request, payment)
    return web.json_response({"cancellation": cancellation})


@_v2_route("sandbox.complete")
async def sandbox_complete(request: web.Request, state: SandboxState) -> web.Response:
    """Sandbox only: the customer pays (or the payment fails) as the browser SDK would."""
    body = await _json_body(request)
    if body is None:
        return _v2_error(400, "INVALID_REQUEST", "the body must be a JSON object")
    outcome = body.get("status", "PAID")
    if outcome not in ("PAID", "FAILED"):
        return _v2_error(400, "INVALID_REQUEST", "status must be PAID or FAILED")
    if "amount" in body and not _positive_int(body["amount"]):
        return _v2_error(400, "INVALID_REQUEST", "amount must be a positive integer")
    payment_id = request.match_info["payment_id"]
    payment = state.store.get(payment_id)
    if payment is not None and payment.status not in ("READY", "FAILED"):
        return _v2_error(409, "ALREADY_PAID", "이미 결제된 건입니다.")
    amount = body.get("amount") or (payment.expected_amount if payment else None)
    if amount is None:
        return _v2_error(400, "INVALID_REQUEST", "unknown payment: pass amount (or pre-register it)")
    payment = payment or SandboxPayment(payment_id=payment_id, amount=amount)
    if outcome == "PAID":
        payment.mark_paid(amount)
    else:
        payment.amount = amount
        payment.mark_failed(str(body.get("reason") or "sandbox: payment declined"))
    state.store.put(payment)
    completed = payment.as_v2()
    webhook_status = await _send_webhook(request, payment)
    # the server may have acted on the webhook (e.g. cancelled a wrong amount): show both
    return web.json_response(
        {"payment": completed, "impUid": payment.imp_uid, "webhookStatus": webhook_status, "now": payment.as_v2()}
    )


async def _send_webhook(request: web.Request, payment: SandboxPayment) -> int | None:
    """POST a signed V2 webhook, as PortOne does; the HTTP status, or None if none was delivered.

    A webhook URL that is a path ("/api/payment/webhook") is on the server that called us.
    """
    state = request.app[SANDBOX_STATE]
    if not state.webhook_url or not state.webhook_secret or payment.status not in WEBHOOK_TYPES:
        return None
    url = state.webhook_url
    if url.startswith("/"):
        url = str(request.url.origin().with_path(url))
    body = json.dumps(
        {
            "type": WEBHOOK_TYPES[payment.status],
            "timestamp": iso_now(),
            "data": {"paymentId": payment.payment_id, "storeId": SANDBOX_STORE_ID, "transactionId": payment.imp_uid},
        }
    )
    headers = {"Content-Type": "application/json", **sign_webhook(state.webhook_secret, body)}
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as sent,
        ):
            return sent.status
    except (aiohttp.ClientError, TimeoutError):
        return None


# ---- V1 (iamport) ------------------------------------------------------------------------


def _v1(status: int, code: int, message: str | None, response: Any = None) -> web.Response:
    return web.json_response({"code": code, "message": message, "response": response}, status=status)


def _v1_authorised(request: web.Request) -> bool:
    state = request.app[SANDBOX_STATE]
    header = request.headers.get("Authorization") or request.headers.get("X-ImpTokenHeader") or ""
    token = header.removeprefix("Bearer ").strip()
    expires = state.tokens.get(token)
    return expires is not None and expires > time.time()


def _v1_route(call: str) -> Callable[[StateHandler], Handler]:
    return _route(call, _v1_authorised, lambda: _v1(401, -1, "Unauthorized"))


async def v1_get_token(request: web.Request) -> web.Response:
    state = request.app[SANDBOX_STATE]
    state.calls["v1.getToken"] += 1
    if request.content_type == "application/json":
        body = await _json_body(request) or {}
    else:
        body = dict(await request.post())
    key_ok = state.imp_key is not None and hmac.compare_digest(str(body.get("imp_key", "")), state.imp_key)
    secret_ok = state.imp_secret is not None and hmac.compare_digest(str(body.get("imp_secret", "")), state.imp_secret)
    if not (key_ok and secret_ok):
        return _v1(401, -1, "imp_key, imp_secret 파라미터가 누락되었거나 올바르지 않습니다.")
    now = int(time.time())
    token = secrets.token_hex(20)
    state.tokens[token] = now + state.token_lifetime_seconds
    return _v1(200, 0, None, {"access_token": token, "now": now, "expired_at": now + state.token_lifetime_seconds})


@_v1_route("v1.getPayment")
async def v1_get_payment(request: web.Request, state: SandboxState) -> web.Response:
    payment = state.store.by_imp_uid(request.match_info["imp_uid"])
    if payment is None:
        return _v1(404, -1, "존재하지 않는 결제정보입니다.")
    return _v1(200, 0, None, payment.as_v1())


@_v1_route("v1.prepare")
async def v1_prepare(request: web.Request, state: SandboxState) -> web.Response:
    body = await _json_body(request) or {}
    merchant_uid, amount = body.get("merchant_uid"), body.get("amount")
    if not isinstance(merchant_uid, str) or not merchant_uid or not _positive_int(amount):
        return _v1(400, 1, "merchant_uid와 amount가 필요합니다.")
    if state.store.by_merchant_uid(merchant_uid) is not None:
        return _v1(200, 1, "이미 등록된 merchant_uid입니다.")
    state.store.put(SandboxPayment(payment_id=merchant_uid, amount=amount, expected_amount=amount))
    return _v1(200, 0, None, {"merchant_uid": merchant_uid, "amount": amount})


@_v1_route("v1.cancel")
async def v1_cancel(request: web.Request, state: SandboxState) -> web.Response:
    body = await _json_body(request) or {}
    imp_uid, merchant_uid = body.get("imp_uid"), body.get("merchant_uid")
    payment = (state.store.by_imp_uid(imp_uid) if isinstance(imp_uid, str) else None) or (
        state.store.by_merchant_uid(merchant_uid) if isinstance(merchant_uid, str) else None
    )
    if payment is None:
        return _v1(200, 1, "취소할 결제건이 존재하지 않습니다.")
    if "amount" in body and not _positive_int(body["amount"]):
        return _v1(200, 1, "취소 금액이 올바르지 않습니다.")
    refusal = _cancel_refusal(payment, body.get("amount", payment.cancellable), body.get("checksum"))
    if refusal is not None:
        return _v1(200, 1, refusal[2])
    payment.add_cancellation(body.get("amount", payment.cancellable), str(body.get("reason") or ""))
    state.store.save()
    return _v1(200, 0, None, payment.as_v1())


# ---- the client side of the extension, for the CLI ----------------------------------------


async def complete_sandbox_payment(
    http: aiohttp.ClientSession,
    sandbox_url: str,
    *,
    api_secret: str,
    payment_id: str,
    amount: int | None = None,
    failed: bool = False,
    timeout_seconds: float = 10.0,
) -> dict[str, Any]:
    """Complete (or fail) a sandbox payment on a running server; the sandbox's answer.

    ``amount`` defaults to the pre-registered amount; another amount simulates tampering.
    Raises ProviderAuthError (wrong secret), ProviderRejected (already paid, bad amount, no
    amount for an unknown payment) or ProviderUnavailable (server not running).
    """
    body: dict[str, Any] = {"status": "FAILED" if failed else "PAID"}
    if amount is not None:
        body["amount"] = amount
    sandbox = PortOneHttp(http, base_url=sandbox_url, timeout_seconds=timeout_seconds)
    status, answer = await sandbox.request(
        "POST",
        f"/payments/{quote(payment_id, safe='')}/complete",
        headers={"Authorization": f"PortOne {api_secret}"},
        body=body,
    )
    if status == 200:
        return answer
    if status in (401, 403):
        raise ProviderAuthError("the sandbox refused the sandbox secret: is this the same data directory?")
    raise ProviderRejected(str(answer.get("type") or status), str(answer.get("message") or ""))
