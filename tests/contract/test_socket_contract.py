"""The Socket.IO half of PROTOCOL.md: event names and payload keys, through both ways the
frontend connects (``io(URL, {path: '/chat'})`` and ``io(URL + '/chat')``), against the app
served on a local port with the offline agents (SQLite and PostgreSQL).

Payload keys are checked against ``tests/contract/contract.py``: every documented key
present, extra keys only in snake_case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from tests.contract import contract as c
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token

STYLES = ["path", "namespace"]
OTHER = {"path": "namespace", "namespace": "path"}


@pytest.fixture
async def sockets(client: TestClient) -> AsyncIterator[Callable[[str], ChatClient]]:
    """Socket.IO clients of the test server, closed at the end."""
    base_url = str(client.make_url("")).rstrip("/")
    made: list[ChatClient] = []

    def make(style: str) -> ChatClient:
        made.append(ChatClient(base_url, style))
        return made[-1]

    yield make
    for chat in made:
        await chat.close()


def check_new_message(message: Any, where: str) -> dict[str, Any]:
    c.socket_shape(message, c.NEW_MESSAGE, where)
    assert message["type"] in ("text", "component"), f"{where}: type {message['type']!r}"
    assert isinstance(message["timestamp"], int) and message["timestamp"] > 1_600_000_000_000, "epoch ms"
    if message["type"] == "text":
        assert isinstance(message["content"], str), f"{where}: a text message without content"
    else:
        assert isinstance(message["component"], dict) and "type" in message["component"], f"{where}: component"
    return message


@pytest.mark.parametrize("style", STYLES)
async def test_a_bad_token_is_refused_with_unauthorized(sockets: Callable[[str], ChatClient], style: str) -> None:
    for token in (None, "not-a-jwt"):
        chat = sockets(style)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await chat.connect(token)
        assert chat.connect_error == {"message": "Unauthorized"}


@pytest.mark.parametrize("style", STYLES)
async def test_every_event_of_a_chat_turn_has_protocol_keys(
    client: TestClient, sockets: Callable[[str], ChatClient], style: str
) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets(style)
    await chat.connect(token)

    await chat.emit("ping")
    assert len(await chat.wait_for("pong")) == 1
    await chat.emit("health")
    health = c.socket_shape((await chat.wait_for("health"))[0], c.SOCKET_HEALTH, "health")
    assert health["status"] == "ok" and health["connections"] >= 1

    info = c.socket_shape(await chat.join(room, user_id), c.SESSION_INFO, "session-info")
    session_id = info["session_id"]
    assert c.UUID.match(session_id) and info["wedding_id"] is None
    assert chat.events["roomHistory"] == [[]]

    # another socket of the same user in the room, connected the other way
    watcher = sockets(OTHER[style])
    await watcher.connect(token, via="query")
    assert (await watcher.join(room, user_id))["session_id"] == session_id

    message_id = await chat.send(session_id, room, user_id, "안녕하세요, 청첩장을 만들고 싶어요")
    accepted = c.socket_shape(chat.events["message-accepted"][0], c.MESSAGE_ACCEPTED, "message-accepted")
    assert accepted == {**accepted, "message_id": message_id, "session_id": session_id}
    mine = (await watcher.wait_for("newMessage", message_id=message_id, role="user"))[0]
    assert check_new_message(mine, "newMessage (user)")["content"] == "안녕하세요, 청첩장을 만들고 싶어요"

    # the offline agents greet with text, then suggestions as a component
    suggested = (await chat.wait_for("newMessage", message_id=message_id, type="component"))[0]
    c.socket_shape(suggested["component"], {"type", "props"}, "newMessage.component")
    assert suggested["component"]["type"] == "AgentSuggestMessage"
    for suggestion in suggested["component"]["props"]["suggestions"]:
        assert set(suggestion) == {"displayText", "value"}, suggestion
    answers = await chat.answer(message_id, count=2)
    assert [a["type"] for a in answers] == ["text", "component"]
    for answer in answers:
        check_new_message(answer, "newMessage (assistant)")
        assert answer["session_id"] == session_id
    chunks = chat.chunks(message_id)
    assert chunks, "an answer streams as message-chunk"
    for chunk in chunks:
        c.socket_shape(chunk, c.MESSAGE_CHUNK, "message-chunk")
        assert isinstance(chunk["seq"], int) and isinstance(chunk["delta"], str)
    assert not [m for m in chat.events["newMessage"] if m["role"] == "user"], "the sender gets its own message back"

    # a clicked suggestion is a turn like a chat-message
    suggestion = suggested["component"]["props"]["suggestions"][0]
    await chat.emit("component-message", {"component": suggestion, "session_id": session_id})
    second = (await chat.wait_for("message-accepted", count=2))[1]
    c.socket_shape(second, c.MESSAGE_ACCEPTED, "message-accepted (component-message)")
    await chat.answer(second["message_id"])
    await chat.emit("cancel-message", {"message_id": second["message_id"]})  # finished: nothing to cancel

    # bad payloads: message-error, and the socket stays up
    await chat.emit("chat-message", "not an object")
    await chat.emit("chat-message", {"text": "", "session_id": session_id, "room": room, "userId": user_id})
    errors = await chat.wait_for("message-error", count=2)
    for error in errors:
        c.socket_shape(error, c.MESSAGE_ERROR, "message-error")
        assert isinstance(error["error"], str) and isinstance(error["details"], str)
        assert "message_id" not in error or isinstance(error["message_id"], str)
    await chat.settle()

    await chat.emit("leaveRoom", {"room": room, "userId": user_id})
    await chat.settle()
    await chat.close()

    # a fresh connection gets the room's history, oldest first; wedding_id names the page
    page = await client.post("/api/page/publish", json={"title": "t"}, headers={"Authorization": f"Bearer {token}"})
    page_id = (await page.json())["id"]
    again = sockets(style)
    await again.connect(token)
    info = await again.join(room, user_id, wedding_id=page_id)
    assert c.socket_shape(info, c.SESSION_INFO, "session-info") == {"session_id": session_id, "wedding_id": page_id}
    history = again.events["roomHistory"][0]
    assert [(m["role"], m["message_id"]) for m in history][:2] == [("user", message_id), ("assistant", message_id)]
    for item in history:
        c.socket_shape(item, c.HISTORY_ITEM, "roomHistory[]")
        assert c.ISO_UTC_Z.match(item["created_at"]), item["created_at"]
    assert [m["created_at"] for m in history] == sorted(m["created_at"] for m in history)


@pytest.mark.parametrize("style", STYLES)
async def test_a_browser_starting_with_long_polling_connects(sockets: Callable[[str], ChatClient], style: str) -> None:
    """socket.io-client starts with HTTP long-polling from the frontend's origin, then upgrades."""
    _, token = await user_with_token()
    chat = sockets(style)
    await chat.sio.connect(
        chat.base_url,
        auth={"token": token},
        headers={"Origin": "http://localhost:3000"},
        namespaces=[chat.namespace],
        socketio_path="chat" if style == "path" else "socket.io",
        transports=["polling", "websocket"],
        wait_timeout=10,
    )
    await chat.emit("health")
    c.socket_shape((await chat.wait_for("health"))[0], c.SOCKET_HEALTH, "health")
