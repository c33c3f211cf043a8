"""Admins watching rooms, clicked suggestions, the agent endpoint, health, idempotent
redelivery and the live sockets registry (embedded mode, SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp.test_utils import TestClient

from mochung.domain.models import AgentRun, ChatMessage, ChatSession
from mochung.server import keys
from mochung.tasks.broker import CHAT_QUEUE
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token
from tests.support.waiting import eventually


async def test_an_admin_may_watch_any_room_but_not_talk_in_it(sockets: Callable[..., ChatClient]) -> None:
    owner_id, owner_token = await user_with_token()
    admin_id, admin_token = await user_with_token(admin=True)
    room = new_room()
    owner = sockets()
    await owner.connect(owner_token)
    session_id = (await owner.join(room, owner_id))["session_id"]
    watcher = sockets("namespace")
    await watcher.connect(admin_token)
    assert (await watcher.join(room, admin_id))["session_id"] == session_id

    message_id = await owner.send(session_id, room, owner_id, "안녕하세요")
    user_message = await watcher.wait_for("newMessage", message_id=message_id, role="user")
    assert user_message[0]["content"] == "안녕하세요"
    watched = await watcher.wait_for("newMessage", message_id=message_id, role="assistant")
    assert watched[0]["content"] == (await owner.answer(message_id))[0]["content"]

    await watcher.emit("chat-message", {"text": "관리자입니다", "session_id": session_id, "room": room})
    assert (await watcher.wait_for("message-error"))[0]["error"] == "not_found"
    assert await ChatMessage.filter(session_id=session_id, role="user").count() == 1


async def test_a_clicked_suggestion_is_a_turn_with_its_value(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets()
    await chat.connect(token)
    session_id = (await chat.join(room, user_id))["session_id"]
    await chat.emit(
        "component-message",
        {"component": {"displayText": "예식 날짜", "value": "예식 날짜를 알려 주세요"}, "session_id": session_id},
    )
    accepted = await chat.wait_for("message-accepted")
    message_id = accepted[0]["message_id"]
    assert await chat.answer(message_id)
    stored = await ChatMessage.get(message_id=message_id, role="user")
    assert stored.content == "예식 날짜를 알려 주세요"


async def test_the_agent_endpoint_hands_a_turn_to_the_agents(
    client: TestClient, sockets: Callable[..., ChatClient]
) -> None:
    admin_id, admin_token = await user_with_token(admin=True)
    _, user_token = await user_with_token()
    import uuid

    session_id = str(uuid.uuid4())
    body = {"message": "안녕하세요", "session_id": session_id}
    refused = await client.post("/api/agent/chat", json=body, headers={"Authorization": f"Bearer {user_token}"})
    assert refused.status == 403
    assert (await client.post("/api/agent/chat", json=body)).status == 401
    bad = await client.post(
        "/api/agent/chat", json={"message": "", "session_id": "x"}, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert bad.status == 400 and (await bad.json())["details"]

    # an admin's socket in the session's room sees the turn the endpoint hands over
    first = await client.post("/api/agent/chat", json=body, headers={"Authorization": f"Bearer {admin_token}"})
    assert first.status == 202
    room = (await ChatSession.get(id=session_id)).room
    watcher = sockets()
    await watcher.connect(admin_token)
    await watcher.join(room, admin_id)
    second = await client.post(
        "/api/agent/chat", json={**body, "message": "날짜 알려 줘"}, headers={"Authorization": f"Bearer {admin_token}"}
    )
    accepted = await second.json()
    assert second.status == 202 and accepted["status"] == "accepted"
    assert await watcher.wait_for("newMessage", message_id=accepted["message_id"], role="assistant")


async def test_health_reports_the_broker_and_the_queue(client: TestClient) -> None:
    response = await client.get("/api/health")
    services = (await response.json())["services"]
    assert response.status == 200
    assert services["broker"] == "stub" and services["queue"] == "0" and services["relay"] == "ok"


async def test_a_redelivered_turn_is_not_answered_twice(client: TestClient, sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets()
    await chat.connect(token)
    session_id = (await chat.join(room, user_id))["session_id"]
    message_id = await chat.send(session_id, room, user_id, "안녕하세요")
    await chat.answer(message_id)
    stored = await ChatMessage.filter(message_id=message_id, role="assistant").count()
    first = await chat.answer(message_id, count=stored)

    services = client.app[keys.CHAT]
    import uuid

    await services.enqueue(uuid.UUID(message_id))  # as if the broker delivered it again
    await asyncio.to_thread(services.broker.join, CHAT_QUEUE, timeout=30_000)
    await chat.settle()
    assert chat.answers(message_id) == first
    assert await ChatMessage.filter(message_id=message_id, role="assistant").count() == len(first)
    assert (await AgentRun.get(message_id=message_id)).attempts == 1


async def test_live_sockets_registry_follows_joins_and_leaves(
    client: TestClient, sockets: Callable[..., ChatClient]
) -> None:
    registry = client.app[keys.LIVE_SOCKETS]
    user_id, token = await user_with_token()
    room = new_room()
    one, two = sockets(), sockets("namespace")
    for chat in (one, two):
        await chat.connect(token)
    session_id = (await one.join(room, user_id))["session_id"]
    await two.join(room, user_id)
    assert registry.live_sockets(session_id) == 2 and registry.total() == 2
    assert registry.per_room() == {room: 2}

    await one.emit("leaveRoom", {"room": room, "userId": user_id})
    await one.settle()
    assert registry.live_sockets(session_id) == 1
    await two.close()
    await eventually(lambda: registry.live_sockets(session_id) == 0, "the disconnect to be seen")
    assert registry.per_room() == {} and registry.total() == 0
