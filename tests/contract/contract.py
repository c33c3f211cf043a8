"""PROTOCOL.md's shapes, written down once, and the checks the contract tests share.

A shape is the set of keys PROTOCOL.md names. A body must carry every one of them;
it may carry more (documented additions such as a payment's ``customerName``), but an
extra key must still follow the naming convention of its side of the wire, so a field
renamed to snake_case in REST (or camelCase on a socket) shows up as missing.
"""

from __future__ import annotations

import http
import re
from typing import Any

import aiohttp

from tests.support.waiting import eventually

# ---- REST (camelCase, except access_token) -------------------------------------------
REGISTERED = {"id", "email", "name", "isAdmin", "createdAt"}
LOGIN = {"access_token", "user"}
LOGIN_USER = {"id", "email", "name", "isAdmin"}
PROFILE = {"id", "email", "name", "isAdmin", "isActive"}
PAGE = {
    "id",
    "userId",
    "title",
    "slug",
    "markdownPath",
    "markdownUrl",
    "componentData",
    "isPublished",
    "version",
    "viewCount",
    "createdAt",
    "updatedAt",
}
COMPONENT = {"type", "id", "props"}
FILE = {"id", "filename", "url", "mimeType", "size", "createdAt"}
PLAN = {"id", "name", "amount", "currency"}
PAYMENT = {"id", "merchantUid", "amount", "currency", "status", "pageId", "planId"}
INVITATION = {"id", "code", "maxUses", "uses", "expiresAt", "isActive"}
VALIDATION = {"valid", "remainingUses"}
AUDIT_ENTRY = {"id", "adminId", "action", "target", "details", "createdAt"}
LIST_PAGE = {"items", "nextCursor"}
HEALTH = {"status", "timestamp", "services"}
HEALTH_SERVICES = {"database", "redis", "broker", "storage"}
AGENT_ACCEPTED = {"status", "message_id"}
ERROR = {"statusCode", "message", "error", "requestId"}
ERROR_DETAIL = {"field", "message"}

# ---- Socket.IO (snake_case) ------------------------------------------------------------
SESSION_INFO = {"session_id", "wedding_id"}
HISTORY_ITEM = {"id", "message_id", "role", "type", "content", "component", "created_at"}
MESSAGE_ACCEPTED = {"message_id", "session_id"}
MESSAGE_CHUNK = {"message_id", "session_id", "seq", "delta"}
NEW_MESSAGE = {"type", "role", "message_id", "session_id", "timestamp"}  # + content? component?
MESSAGE_ERROR = {"error", "details"}  # + message_id?
SOCKET_HEALTH = {"status", "connections"}

ISO_UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SLUG = re.compile(r"^[a-z0-9-]{3,64}$")
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
REST_EXCEPTIONS = {"access_token", "message_id"}  # PROTOCOL.md's own snake_case REST keys


def rest_shape(body: Any, documented: set[str], where: str) -> dict[str, Any]:
    """``body`` is an object with every documented key; extra keys are camelCase."""
    assert isinstance(body, dict), f"{where}: expected an object, got {body!r}"
    missing = documented - set(body)
    assert not missing, f"{where}: missing {sorted(missing)}; has {sorted(body)}"
    misnamed = [key for key in set(body) - documented if not CAMEL.match(key) and key not in REST_EXCEPTIONS]
    assert not misnamed, f"{where}: keys not in camelCase {misnamed}"
    utc_times(body, *(key for key in body if key.endswith("At") and body[key] is not None))
    return body


def socket_shape(payload: Any, documented: set[str], where: str) -> dict[str, Any]:
    """``payload`` is an object with every documented key; extra keys are snake_case."""
    assert isinstance(payload, dict), f"{where}: expected an object, got {payload!r}"
    missing = documented - set(payload)
    assert not missing, f"{where}: missing {sorted(missing)}; has {sorted(payload)}"
    misnamed = [key for key in set(payload) - documented if not SNAKE.match(key)]
    assert not misnamed, f"{where}: keys not in snake_case {misnamed}"
    return payload


def utc_times(body: dict[str, Any], *keys: str) -> None:
    for key in keys:
        value = body[key]
        assert isinstance(value, str) and ISO_UTC_Z.match(value), f"{key}={value!r} is not ISO-8601 UTC with Z"


async def expect(response: aiohttp.ClientResponse, status: int, where: str) -> Any:
    """The JSON body of a response that must have ``status`` (None for 204)."""
    text = await response.text()
    assert response.status == status, f"{where}: {response.status} instead of {status}: {text[:500]}"
    if status == 204:
        assert text == "", f"{where}: a 204 with a body {text[:200]!r}"
        return None
    assert response.content_type == "application/json", f"{where}: {response.content_type}"
    return await response.json()


async def expect_error(response: aiohttp.ClientResponse, status: int, where: str) -> dict[str, Any]:
    """PROTOCOL.md's error body: JSON, ``{statusCode, message, error, requestId}``, no trace."""
    body = await expect(response, status, where)
    rest_shape(body, ERROR, where)
    assert body["statusCode"] == status, f"{where}: statusCode {body['statusCode']}"
    assert body["error"] == http.HTTPStatus(status).phrase, f"{where}: error {body['error']!r}"
    assert isinstance(body["message"], str) and body["message"], f"{where}: empty message"
    assert body["requestId"] == response.headers.get("X-Request-Id"), f"{where}: requestId not the logged one"
    assert "Traceback" not in str(body) and 'File "' not in str(body), f"{where}: a stack trace"
    if "details" in body:
        assert isinstance(body["details"], list) and body["details"], f"{where}: details {body['details']!r}"
        for detail in body["details"]:
            rest_shape(detail, ERROR_DETAIL, f"{where} details")
    return body


async def turn_finished(message_id: str) -> None:
    """Wait (bounded) until the agents' run of a turn is over.

    The flow waits because of a server bug, not the contract: on SQLite a write from a
    request while the embedded worker writes the turn fails with "database is locked".
    """
    from mochung.domain.models import AgentRun, RunStatus

    over = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)

    async def finished() -> bool:
        return await AgentRun.exists(message_id=message_id, status__in=over)

    await eventually(finished, f"the turn {message_id} to finish", interval=0.05)
