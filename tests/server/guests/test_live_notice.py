"""The ``rsvp-received`` live notice (docs/api-notes.md "Guests"): each of the couple's open
sockets, in both namespaces, gets it when a guest answers or changes an answer; nobody
else's does; it carries no phone and no edit token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from mochung.server.app import create_app
from mochung.settings import Settings
from tests.server.chat.helpers import ChatClient
from tests.server.guests.helpers import answer, publish
from tests.support.users import bearer, user_with_token

NOTICE = "rsvp-received"
FIELDS = {
    "page_id",
    "rsvp_id",
    "side",
    "name",
    "attending",
    "party_size",
    "meal",
    "message",
    "updated",
    "created_at",
    "timestamp",
}


def listening(client: TestClient, style: str) -> ChatClient:
    socket = ChatClient(str(client.make_url("")).rstrip("/"), style)
    socket.sio.on(NOTICE, socket._recorder(NOTICE), namespace=socket.namespace)
    return socket


async def test_the_couples_open_sockets_get_each_answer(client: TestClient) -> None:
    _, couple_token = await user_with_token()
    _, stranger_token = await user_with_token()
    page = await publish(client, bearer(couple_token))
    sockets = [listening(client, "path"), listening(client, "namespace"), listening(client, "path")]
    try:
        for socket, token in zip(sockets, (couple_token, couple_token, stranger_token), strict=True):
            await socket.connect(token)
        mine, other_namespace, strangers = sockets
        path = f"/api/page/public/{page['slug']}/rsvp"
        response = await client.post(path, json=answer(phone="010-1234-5678", message="축하해요!"))
        assert response.status == 201
        created = await response.json()

        for socket in (mine, other_namespace):
            [notice] = await socket.wait_for(NOTICE)
            assert set(notice) == FIELDS  # no phone, no token
            assert notice["page_id"] == page["id"] and notice["rsvp_id"] == created["id"]
            assert (notice["side"], notice["name"], notice["attending"], notice["party_size"]) == (
                "bride",
                "김하늘",
                True,
                2,
            )
            assert notice["meal"] == "yes" and notice["message"] == "축하해요!" and notice["updated"] is False
            assert notice["created_at"].endswith("Z") and notice["timestamp"] > 0

        changed = await client.put(
            f"{path}/{created['id']}",
            json=answer(attending=False),
            headers={"X-RSVP-Token": created["editToken"]},
        )
        assert changed.status == 200
        [_, update] = await mine.wait_for(NOTICE, count=2)
        assert update["updated"] is True and update["attending"] is False and update["party_size"] == 0

        # the stranger's socket is alive and got nothing
        await strangers.settle()
        await mine.settle()
        assert strangers.events[NOTICE] == []
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))


async def test_a_refused_answer_announces_nothing(client: TestClient) -> None:
    _, token = await user_with_token()
    page = await publish(client, bearer(token), settings={"rsvp": {"enabled": False}})
    socket = listening(client, "path")
    try:
        await socket.connect(token)
        response = await client.post(f"/api/page/public/{page['slug']}/rsvp", json=answer())
        assert response.status == 409
        await socket.settle()
        events: list[Any] = socket.events[NOTICE]
        assert events == []
    finally:
        await socket.close()


async def test_in_distributed_mode_the_notice_goes_through_redis(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis_url: str, namespace: str
) -> None:
    """Distributed mode: Socket.IO's Redis manager carries the notice (published to Redis,
    delivered by each web process to its own sockets, as for chat messages), so the couple's
    socket on any process gets it; here the process that stored the answer."""
    web = await aiohttp_client(create_app(make_settings(redis_url=redis_url, broker_namespace=namespace)))
    _, token = await user_with_token()
    page = await publish(web, bearer(token))
    socket = listening(web, "namespace")
    try:
        await socket.connect(token)
        response = await web.post(f"/api/page/public/{page['slug']}/rsvp", json=answer(name="박서연"))
        assert response.status == 201
        [notice] = await socket.wait_for(NOTICE)
        assert notice["rsvp_id"] == (await response.json())["id"] and notice["name"] == "박서연"
        assert set(notice) == FIELDS
    finally:
        await socket.close()
