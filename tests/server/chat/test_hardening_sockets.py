"""Issue 12, defects 4 and 5 over a real socket (SQLite and PostgreSQL): a packet nested too
deeply and a NUL character in ``joinRoom`` or ``chat-message`` are refused with their own
``message-error`` code, never ``internal``, and nothing is stored. (PostgreSQL cannot hold a
NUL: before the fix these answered ``internal``.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from mochung.domain import jsonlimits
from mochung.domain.models import ChatMessage, ChatSession
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


async def _refusal(chat_client: ChatClient, event: str, data: Any) -> dict[str, Any]:
    before = len(chat_client.events["message-error"])
    await chat_client.emit(event, data)
    errors = await chat_client.wait_for("message-error", count=before + 1)
    refusal: dict[str, Any] = errors[-1]
    return refusal


async def test_nul_and_deep_packets_are_refused_not_internal(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    chat_client = sockets()
    await chat_client.connect(token)

    refusal = await _refusal(chat_client, "joinRoom", {"room": "a\u0000b", "userId": user_id})
    assert refusal["error"] == "invalid" and jsonlimits.NUL_RULE in refusal["details"], refusal
    assert not await ChatSession.filter(user_id=user_id).exists()

    refusal = await _refusal(chat_client, "joinRoom", {"room": new_room(), "userId": user_id, "x": _nested(100)})
    assert refusal["error"] == "invalid_payload" and refusal["details"] == jsonlimits.TOO_DEEP, refusal
    assert not await ChatSession.filter(user_id=user_id).exists()

    room = new_room()
    session_id = (await chat_client.join(room, user_id))["session_id"]
    text = {"text": "안녕\u0000하세요", "session_id": session_id, "room": room, "userId": user_id, "timestamp": 0}
    refusal = await _refusal(chat_client, "chat-message", text)
    assert refusal["error"] == "invalid" and jsonlimits.NUL_RULE in refusal["details"], refusal
    assert not await ChatMessage.filter(session_id=uuid.UUID(session_id)).exists()
    assert chat_client.events["message-accepted"] == []

    # the socket is still good for the next, well-formed event
    assert await chat_client.answer(await chat_client.send(session_id, room, user_id, "안녕하세요"))
    assert not [e for e in chat_client.events["message-error"] if e["error"] == "internal"]
