"""Request id, access log, CORS, and the one place where errors become the JSON error body."""

from __future__ import annotations

import http
import logging
import re
import time
import uuid
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from mochung.adapters.outages import OUTAGE_MESSAGE, is_outage
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
    extra: dict[str, Any] | None = {"code": error.code} if error.code else None
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


async def remember_plain_paths(app: web.Application) -> None:
    """Each fixed path (no ``{…}`` in it) and its methods, once the routes are final.
    ``/api/file/my-files`` is also a match of ``/api/file/{id}``, and aiohttp would let that
    route's methods answer for it (a 404, or an ``Allow`` with DELETE)."""
    methods: dict[str, set[str]] = {}
    for route in app.router.routes():
        resource = route.resource
        if isinstance(resource, web.PlainResource):
            methods.setdefault(resource.canonical, set()).add(route.method)
    app[keys.PLAIN_PATHS] = {path: frozenset(names) for path, names in methods.items()}


def _method_not_allowed(request: web.Request) -> web.Response | None:
    """405 with exactly the path's own methods, for a fixed path asked with another method."""
    allowed = request.app.get(keys.PLAIN_PATHS, {}).get(request.path)
    if allowed is None or request.method in allowed or "*" in allowed:
        return None
    return error_response(405, "Method Not Allowed", headers={"Allow": ",".join(sorted(allowed))})


async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    refused = _method_not_allowed(request)
    if refused is not None:
        return refused
    try:
        return await handler(request)
    except errors.DomainError as error:
        return _from_domain(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _from_http(error)
    except Exception as error:
        if is_outage(error):  # the database or Redis is down (restarting): 503, not 500
            log.warning("%s %s: %s (%s)", request.method, request.path, OUTAGE_MESSAGE, type(error).__name__)
            return error_response(503, OUTAGE_MESSAGE, headers={"Retry-After": "1"})
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
    if permitted and origin is not None and not response.prepared:  # permitted has an Origin; mypy cannot tell
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After"
        response.headers["Vary"] = "Origin"
    return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response (errors, files and streams included, as it is sent): browsers must
    not guess a content type other than the one declared."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


class QuietMalformedRequests(logging.Filter):
    """aiohttp refuses a request it cannot parse (a header over its size limit, say) before
    the app sees it, and logs that at ERROR with a traceback. A client's malformed request is
    not a server error: one WARNING line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BadHttpMessage):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.msg}: {type(error).__name__} (status {error.code})"
            record.exc_info = record.exc_text = None
        return True


def quiet_malformed_requests() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(existing, QuietMalformedRequests) for existing in server_log.filters):
        server_log.addFilter(QuietMalformedRequests())
