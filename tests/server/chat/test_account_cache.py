"""The per-process cache of active accounts behind the sockets' per-event check
(``users.AccountCache``) and what a join tells the gateway (``rooms.join_session``).

A change of an account's rights is announced: the web process that made it forgets its
cached copy at once, and in distributed mode tells the other web processes over Redis
(``ACCOUNTS_CHANNEL``), so an open socket on any process is refused on its next event."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from mochung.adapters.bus import ACCOUNTS_CHANNEL
from mochung.domain import rooms, users
from mochung.domain.models import ChatSession, User
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import bearer, new_account, token_for, user_with_token
from tests.support.waiting import eventually


@pytest.fixture
async def web(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis_url: str, namespace: str
) -> TestClient:
    """A web process in distributed mode (no worker: nothing here runs a turn)."""
    return await aiohttp_client(create_app(make_settings(redis_url=redis_url, broker_namespace=namespace)))


@pytest.fixture
async def distributed_socket(web: TestClient) -> AsyncIterator[ChatClient]:
    chat_client = ChatClient(str(web.make_url("")).rstrip("/"))
    yield chat_client
    await chat_client.close()


async def _announced_elsewhere(redis: Redis, user_id: str) -> None:
    """What another web process does after changing the account."""
    await redis.publish(ACCOUNTS_CHANNEL, json.dumps({"type": "account", "user_id": user_id}))


async def test_a_deactivation_on_another_web_process_refuses_the_open_socket_on_its_next_event(
    redis: Redis, distributed_socket: ChatClient
) -> None:
    user_id, token = await user_with_token()
    await distributed_socket.connect(token)
    await distributed_socket.join(new_room(), user_id)
    # The other process's change, in the database; until it is announced this process
    # answers a ping from its cache (no query per event) ...
    await User.filter(id=user_id).update(is_active=False)
    await distributed_socket.emit("ping")
    await distributed_socket.wait_for("pong")
    # ... and once announced over the bus, the next event is refused and the socket dropped.
    await _announced_elsewhere(redis, user_id)
    await asyncio.sleep(0.2)
    await distributed_socket.emit("ping")
    assert (await distributed_socket.wait_for("message-error"))[0]["error"] == "unauthorized"
    await eventually(lambda: not distributed_socket.sio.connected, "the server to close the socket")


async def test_a_demotion_on_another_web_process_stops_the_open_socket_watching_at_once(
    redis: Redis, web: TestClient, distributed_socket: ChatClient
) -> None:
    owner_id, owner_token = await user_with_token()
    owner = ChatClient(str(web.make_url("")).rstrip("/"), "namespace")
    try:
        await owner.connect(owner_token)
        room = new_room()
        session_id = (await owner.join(room, owner_id))["session_id"]
        admin = await new_account(admin=True)
        await distributed_socket.connect(token_for(admin))
        assert (await distributed_socket.join(room, admin["id"]))["session_id"] == session_id

        await User.filter(id=admin["id"]).update(is_admin=False)
        await _announced_elsewhere(redis, admin["id"])
        notice = (await distributed_socket.wait_for("message-error"))[0]
        assert notice["error"] == "forbidden"  # told at once, not at the next second's re-check
        other_room = new_room()
        joined = await distributed_socket.join(room, admin["id"])  # no longer watching: a room of its own
        assert joined["session_id"] != session_id
        assert (await distributed_socket.join(other_room, admin["id"]))["session_id"] != session_id
    finally:
        await owner.close()


async def test_an_admin_change_is_announced_to_the_other_web_processes(redis: Redis, web: TestClient) -> None:
    user_id, _ = await user_with_token()
    admin = await new_account(admin=True)
    pubsub = redis.pubsub()
    await pubsub.subscribe(ACCOUNTS_CHANNEL)
    try:
        response = await web.patch(
            f"/api/admin/users/{user_id}", json={"isActive": False}, headers=bearer(token_for(admin))
        )
        assert response.status == 200, await response.text()
        heard: list[dict[str, Any]] = []
        for _ in range(50):
            raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if raw is not None:
                heard.append(json.loads(raw["data"]))
                break
        assert heard == [{"type": "account", "user_id": user_id}]
    finally:
        await pubsub.aclose()


async def test_the_cache_keeps_nothing_while_changes_could_be_missed(client: TestClient) -> None:
    user_id, _ = await user_with_token()
    account = uuid.UUID(user_id)
    untrusted = users.AccountCache(trusted=False)
    assert (await untrusted.active(account)) is not None
    assert untrusted.cached(account) is None  # the bus is not heard: every check is a query

    cache = users.AccountCache()
    assert (await cache.active(account)) is not None
    assert cache.cached(account) is not None
    cache.trust(False)  # the bus connection was lost
    assert cache.cached(account) is None


async def test_a_read_overlapping_a_change_is_not_kept(client: TestClient) -> None:
    user_id, _ = await user_with_token()
    account = uuid.UUID(user_id)
    cache = users.AccountCache()
    reading = asyncio.ensure_future(cache.fresh(account))
    await asyncio.sleep(0)  # the read is in flight
    cache.forget(account)  # a change announced meanwhile: the read may predate it
    assert (await reading) is not None
    assert cache.cached(account) is None


@pytest.mark.parametrize("together", [False, True], ids=["alone", "batched"])
async def test_concurrent_joins_keep_rooms_their_owners_and_say_who_made_the_session(
    client: TestClient, together: bool
) -> None:
    """Alone: each join its own queries; batched: the gateway's RoomJoins, where joins made
    at once share one SELECT and one INSERT (a name somebody has must still not be lost)."""
    join = rooms.RoomJoins().join if together else rooms.join_session
    one = await User.get(id=(await user_with_token())[0])
    two = await User.get(id=(await user_with_token())[0])
    shared = new_room()
    names = [new_room() for _ in range(30)]
    joins = [join(one, room) for room in names]
    joins += [join(one, shared), join(two, shared), join(one, names[0])]
    opened = await asyncio.gather(*joins)
    assert all(o.created for o in opened[1:30]) and len({o.session.id for o in opened[:30]}) == 30
    # names[0] twice at once: one session; alone, made by exactly one of the two joins;
    # batched, both joins went in the one INSERT that made it, and both know it is empty
    assert opened[-1].session.id == opened[0].session.id
    made = [opened[0].created, opened[-1].created]
    assert all(made) if together else made.count(True) == 1
    mine, theirs = opened[30].session, opened[31].session
    assert mine.id != theirs.id and {mine.user_id, theirs.user_id} == {one.id, two.id}
    assert {mine.room, theirs.room} in (
        {shared, rooms.scoped_room(two.id, shared)},
        {shared, rooms.scoped_room(one.id, shared)},
    )
    again = await join(one, names[1])
    assert again.session.id == opened[1].session.id and not again.created
    assert await ChatSession.filter(user_id=one.id).count() == 31
    assert all(o.session.created_at is not None for o in opened)
