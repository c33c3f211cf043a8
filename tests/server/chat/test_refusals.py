"""Bad input on the socket: each refused with the documented event, nothing stored, and the
connection stays up (embedded mode, SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import socketio

from mochung.domain.models import AgentRun, ChatMessage, ChatSession, Page
from tests.server.chat.helpers import ChatClient, new_room
from tests.support import TEST_SECRET
from tests.support.users import user_with_token
from tests.support.waiting import eventually


async def _nothing_stored() -> None:
    assert await ChatMessage.all().count() == 0
    assert await AgentRun.all().count() == 0


@pytest.mark.parametrize("style", ["path", "namespace"])
@pytest.mark.parametrize("token", [None, "not-a-jwt", "forged"])
async def test_connection_without_a_valid_token_is_refused(
    sockets: Callable[..., ChatClient], style: str, token: str | None
) -> None:
    if token == "forged":  # right shape, wrong key
        import jwt

        token = jwt.encode({"sub": str(uuid.uuid4()), "iat": 0, "exp": 4102444800}, TEST_SECRET[::-1], "HS256")
    chat = sockets(style)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await chat.connect(token)
    assert chat.connect_error == {"message": "Unauthorized"}


@pytest.mark.parametrize("via", ["auth", "query", "header"])
async def test_the_token_may_come_from_auth_query_or_header(sockets: Callable[..., ChatClient], via: str) -> None:
    _, token = await user_with_token()
    chat = sockets()
    await chat.connect(token, via=via)
    await chat.emit("health")
    health = await chat.wait_for("health")
    assert health[0]["status"] == "ok" and health[0]["connections"] >= 1


async def test_another_users_room_and_session_are_refused(sockets: Callable[..., ChatClient]) -> None:
    owner_id, owner_token = await user_with_token()
    intruder_id, intruder_token = await user_with_token()
    room = new_room()
    owner = sockets()
    await owner.connect(owner_token)
    session_id = (await owner.join(room, owner_id))["session_id"]

    intruder = sockets("namespace")
    await intruder.connect(intruder_token)
    # Room names are the user's own: the same name is another (empty) session of theirs.
    own = await intruder.join(room, intruder_id)
    assert own["session_id"] != session_id and intruder.events["roomHistory"] == [[]]
    await intruder.emit("chat-message", {"text": "hi", "session_id": session_id, "room": room, "userId": intruder_id})
    assert (await intruder.wait_for("message-error", count=1))[0]["error"] == "not_found"
    await intruder.emit("chat-message", {"text": "hi", "session_id": session_id, "room": room, "userId": owner_id})
    assert (await intruder.wait_for("message-error", count=2))[1]["error"] == "forbidden"  # someone else's userId
    assert intruder.events["message-accepted"] == []
    await owner.settle()
    assert [m for m in owner.events["newMessage"]] == []
    await _nothing_stored()


async def test_a_wedding_id_that_is_not_the_users_page_is_refused(sockets: Callable[..., ChatClient]) -> None:
    other_id, _ = await user_with_token()
    page = await Page.create(user_id=other_id, title="남의 청첩장", slug=f"other-{uuid.uuid4().hex[:8]}")
    user_id, token = await user_with_token()
    chat = sockets()
    await chat.connect(token)
    room = new_room()
    for wedding_id in (str(page.id), "not-a-uuid"):
        before = len(chat.events["message-error"])
        await chat.emit("joinRoom", {"room": room, "userId": user_id, "wedding_id": wedding_id})
        error = (await chat.wait_for("message-error", count=before + 1))[-1]
        assert error["error"] in ("not_found", "invalid")
    assert not await ChatSession.filter(room=room).exists()

    session_id = (await chat.join(room, user_id))["session_id"]
    await chat.emit(
        "chat-message",
        {"text": "hi", "session_id": session_id, "room": room, "userId": user_id, "wedding_id": str(page.id)},
    )
    assert (await chat.wait_for("message-error", count=3))[-1]["error"] == "not_found"
    await _nothing_stored()


@pytest.mark.parametrize("text", ["", "   ", "가" * 4001, 42, None])
async def test_empty_oversized_or_non_text_messages_are_refused(sockets: Callable[..., ChatClient], text: Any) -> None:
    user_id, token = await user_with_token()
    chat = sockets()
    await chat.connect(token)
    room = new_room()
    session_id = (await chat.join(room, user_id))["session_id"]
    await chat.emit("chat-message", {"text": text, "session_id": session_id, "room": room, "userId": user_id})
    error = (await chat.wait_for("message-error"))[0]
    assert error["error"] == "invalid" and "text" in error["details"]
    await _nothing_stored()


@pytest.mark.parametrize("payload", ["just a string", ["a", "list"], 7, None])
async def test_non_object_payloads_get_message_error_and_the_socket_stays_up(
    sockets: Callable[..., ChatClient], payload: Any
) -> None:
    _, token = await user_with_token()
    chat = sockets()
    await chat.connect(token)
    events = ("joinRoom", "leaveRoom", "chat-message", "component-message", "cancel-message")
    for event in events:
        await chat.emit(event, payload)
    errors = await chat.wait_for("message-error", count=len(events))
    assert {e["error"] for e in errors} == {"invalid_payload"}
    await chat.settle()  # ping → pong: still connected
    assert chat.sio.connected
    await _nothing_stored()


async def test_messages_are_rate_limited_per_user(aiohttp_client: Any, make_settings: Callable[..., Any]) -> None:
    from mochung.server.app import create_app

    client = await aiohttp_client(create_app(make_settings(chat_messages_per_minute=2)))
    user_id, token = await user_with_token()
    chat = ChatClient(str(client.make_url("")).rstrip("/"))
    try:
        await chat.connect(token)
        room = new_room()
        session_id = (await chat.join(room, user_id))["session_id"]
        for text in ("one", "two", "three"):
            await chat.emit("chat-message", {"text": text, "session_id": session_id, "room": room, "userId": user_id})
        error = (await chat.wait_for("message-error"))[0]
        assert error["error"] == "rate_limited" and error["retry_after"] > 0
        await chat.settle()
        assert len(chat.events["message-accepted"]) == 2
        assert await ChatMessage.filter(role="user").count() == 2
    finally:
        await chat.close()


@pytest.mark.parametrize(
    "resume",
    [{"message_id": "nope", "after_seq": 0}, {"message_id": str(uuid.uuid4()), "after_seq": 0}, {"after_seq": -1}],
)
async def test_a_refused_resume_still_joins_the_room(sockets: Callable[..., ChatClient], resume: Any) -> None:
    user_id, token = await user_with_token()
    chat = sockets()
    await chat.connect(token)
    room = new_room()
    session_id = (await chat.join(room, user_id, resume=resume))["session_id"]
    assert (await chat.wait_for("message-error"))[0]["error"] in ("invalid", "not_found")
    message_id = await chat.send(session_id, room, user_id, "안녕하세요")
    assert await chat.answer(message_id)


async def test_a_deactivated_account_can_no_longer_act_on_its_open_socket(sockets: Callable[..., ChatClient]) -> None:
    from mochung.domain.models import User

    user_id, token = await user_with_token()
    chat = sockets()
    await chat.connect(token)
    room = new_room()
    session_id = (await chat.join(room, user_id))["session_id"]
    await User.filter(id=user_id).update(is_active=False)

    await chat.emit("chat-message", {"text": "안녕하세요", "session_id": session_id, "room": room, "userId": user_id})

    error = (await chat.wait_for("message-error"))[0]
    assert error["error"] == "unauthorized"
    await eventually(lambda: not chat.sio.connected, "the server to close the socket")
    await _nothing_stored()
