"""Request id, access log, CORS, and the one place where errors become the JSON error body."""

from __future__ import annotations

import http
import logging
import re
import time
import uuid
from typing import Any

from aiohttp import web

from mochung.adapters.ratelimit import retry_after_header
from mochung.domain import errors
from mochung.logging import request_id_var
from mochung.server import keys
from mochung.server.http.wire import ErrorBody, ErrorDetail, Handler

log = logging.getLogger("mochung.http")

_STATUS_OF: list[tuple[type[errors.DomainError], int]] = [
    (errors.Invalid, 400),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.TooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.PaymentVerificationFailed, 422),
    (errors.RateLimited, 429),
    (errors.DependencyDown, 503),
]
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def error_response(
    status: int,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    body = ErrorBody(
        status_code=status,
        message=message,
        error=http.HTTPStatus(status).phrase,
        request_id=request_id_var.get(),
        details=details or None,
    ).model_dump(by_alias=True, exclude_none=True)
    return web.json_response({**body, **(extra or {})}, status=status, headers=headers)


def _from_domain(error: errors.DomainError) -> web.Response:
    status = next(code for kind, code in _STATUS_OF if isinstance(error, kind))
    headers: dict[str, str] = {}
    details = None
    if isinstance(error, errors.RateLimited):
        headers["Retry-After"] = retry_after_header(error.retry_after)
    if isinstance(error, errors.Invalid) and error.details:
        details = [ErrorDetail(field=name, message=message) for name, message in error.details]
    elif isinstance(error, errors.Invalid) and error.field:
        details = [ErrorDetail(field=error.field, message=error.message)]
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    extra = None
    if isinstance(error, errors.PaymentVerificationFailed):
        extra = {"reason": error.reason, "payment": error.payment}
    return error_response(status, error.message, details, headers, extra)


def _from_http(error: web.HTTPException) -> web.Response:
    status = error.status
    message = error.reason if error.text in (None, "", f"{status}: {error.reason}") else error.text
    if status == 404 and error.reason == "Not Found":
        message = "Not Found"
    headers = {k: v for k, v in error.headers.items() if k in ("Allow", "Retry-After", "Location")}
    return error_response(status, message or http.HTTPStatus(status).phrase, headers=headers)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    response: web.StreamResponse | None = None
    try:
        response = await _errors_as_json(request, handler)
        return response
    finally:
        status = response.status if response is not None else 499
        if response is not None and not response.prepared:
            response.headers["X-Request-Id"] = request_id
        if log.isEnabledFor(logging.INFO):  # the access line costs nothing when it is off
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={"status": status, "ms": round((time.perf_counter() - started) * 1000, 2)},
            )
        request_id_var.reset(token)


async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.DomainError as error:
        return _from_domain(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _from_http(error)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "Internal Server Error")


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    allowed = request.app[keys.SETTINGS].cors_origins
    permitted = origin is not None and (origin in allowed or "*" in allowed)
    if request.method == "OPTIONS" and permitted and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Content-Type"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
    if permitted and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After"
        response.headers["Vary"] = "Origin"
    return response
