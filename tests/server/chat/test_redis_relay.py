"""The web side of distributed mode in one process (no worker running): the relay
subscribes to ``chat:{session_id}`` only while a local socket is in the room, the queue
depth shows in /api/health, and a queued turn can be cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from mochung.domain.models import AgentRun, RunStatus
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token


@pytest.fixture
def settings(make_settings: Callable[..., Settings], redis_url: str, namespace: str) -> Settings:
    return make_settings(redis_url=redis_url, broker_namespace=namespace)


async def _subscribers(redis: Redis, session_id: str) -> int:
    counts: list[Any] = await redis.pubsub_numsub(f"chat:{session_id}")
    return int(counts[0][1])


async def test_relay_subscribes_per_session_while_a_local_socket_is_in_the_room(
    redis: Redis, sockets: Callable[..., ChatClient]
) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    one, two = sockets(), sockets("namespace")
    for chat in (one, two):
        await chat.connect(token)
    session_id = (await one.join(room, user_id))["session_id"]
    assert await _subscribers(redis, session_id) == 1
    await two.join(room, user_id)
    assert await _subscribers(redis, session_id) == 1, "one subscription per process, not per socket"

    await one.emit("leaveRoom", {"room": room, "userId": user_id})
    await one.settle()
    assert await _subscribers(redis, session_id) == 1
    await two.emit("leaveRoom", {"room": room, "userId": user_id})
    await two.settle()
    assert await _subscribers(redis, session_id) == 0


async def test_a_queued_turn_shows_in_health_and_can_be_cancelled(
    client: TestClient, redis: Redis, sockets: Callable[..., ChatClient]
) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets()
    await chat.connect(token)
    session_id = (await chat.join(room, user_id))["session_id"]
    message_id = await chat.send(session_id, room, user_id, "no worker is running")

    services = (await (await client.get("/api/health")).json())["services"]
    assert services["broker"] == "redis" and services["queue"] == "1" and services["relay"] == "ok"

    await chat.emit("cancel-message", {"message_id": message_id})
    error = await chat.wait_for("message-error", message_id=message_id)
    assert error[0]["error"] == "cancelled"
    run = await AgentRun.get(message_id=message_id)
    assert run.status == RunStatus.CANCELLED
    await chat.emit("cancel-message", {"message_id": message_id})  # twice: refused, nothing else happens
    assert (await chat.wait_for("message-error", count=2))[1]["error"] == "invalid"


async def test_two_app_instances_never_share_state(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis_url: str
) -> None:
    """Building the app twice in one process (tests, several workers) declares the actor on
    each broker without a clash: no global broker is involved."""
    for _ in range(2):
        client = await aiohttp_client(create_app(make_settings(redis_url=redis_url)))
        assert (await client.get("/api/health")).status == 200
        await client.close()
