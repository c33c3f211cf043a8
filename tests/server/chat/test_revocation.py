"""Issue 12, defects 2 and 8 (rooms): revoked admin rights take effect on open sockets at
once, and a room name is its owner's (embedded mode, SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from aiohttp.test_utils import TestClient

from mochung.domain.models import ChatSession
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import bearer, new_account, token_for, user_with_token
from tests.support.waiting import eventually


async def _change(client: TestClient, user_id: str, **changes: bool) -> None:
    admin = await new_account(admin=True)
    response = await client.patch(f"/api/admin/users/{user_id}", json=changes, headers=bearer(token_for(admin)))
    assert response.status == 200, await response.text()


async def _owner_in_room(sockets: Callable[..., ChatClient]) -> tuple[ChatClient, str, str, str]:
    """A couple connected and in a new room of theirs: (socket, user id, room, session id)."""
    owner_id, owner_token = await user_with_token()
    owner = sockets()
    await owner.connect(owner_token)
    room = new_room()
    return owner, owner_id, room, (await owner.join(room, owner_id))["session_id"]


async def test_a_demoted_admin_can_no_longer_join_another_users_room(
    client: TestClient, sockets: Callable[..., ChatClient]
) -> None:
    owner, owner_id, room, owner_session = await _owner_in_room(sockets)
    await owner.answer(await owner.send(owner_session, room, owner_id, "계좌번호는 비밀"))

    b = await new_account(admin=True)
    socket_b = sockets("namespace")
    await socket_b.connect(token_for(b))  # connected while an admin
    await _change(client, b["id"], isAdmin=False)
    joined = await socket_b.join(room, b["id"])
    assert joined["session_id"] != owner_session  # a room of B's own, not the owner's
    assert socket_b.events["roomHistory"][-1] == []


async def test_a_demoted_and_deactivated_admin_stops_receiving_a_watched_room(
    client: TestClient, sockets: Callable[..., ChatClient]
) -> None:
    owner, owner_id, room, session_id = await _owner_in_room(sockets)
    demoted, deactivated = await new_account(admin=True), await new_account(admin=True)
    watchers = {}
    for admin in (demoted, deactivated):
        watchers[admin["id"]] = watcher = sockets("namespace")
        await watcher.connect(token_for(admin))
        assert (await watcher.join(room, admin["id"]))["session_id"] == session_id
    first = await owner.send(session_id, room, owner_id, "하나")
    for watcher in watchers.values():
        await watcher.wait_for("newMessage", message_id=first, role="assistant")

    # Silent sockets are told at once (no waiting for the periodic re-check): the one demoted
    # stops watching and stays connected; the one demoted and deactivated is closed.
    await _change(client, demoted["id"], isAdmin=False)
    await _change(client, deactivated["id"], isAdmin=False, isActive=False)
    notice = await watchers[demoted["id"]].wait_for("message-error", error="forbidden")
    assert "watching stopped" in notice[0]["details"]
    closed = watchers[deactivated["id"]]
    await eventually(lambda: not closed.sio.connected, "the server to close the deactivated admin's socket")
    assert closed.events["message-error"][-1]["error"] in ("forbidden", "unauthorized")
    seen = {admin_id: len(watcher.order) for admin_id, watcher in watchers.items()}

    second = await owner.send(session_id, room, owner_id, "둘: 신한 110-123-456789")
    await owner.answer(second)
    await watchers[demoted["id"]].settle()
    for admin_id, watcher in watchers.items():  # nothing of the room's since: no account number
        assert [name for name, _ in watcher.order[seen[admin_id] :]] in ([], ["pong"]), watcher.order[seen[admin_id] :]


async def test_a_deactivated_socket_is_refused_and_dropped_on_its_next_event(
    client: TestClient, sockets: Callable[..., ChatClient]
) -> None:
    user_id, token = await user_with_token()
    chat_client = sockets()
    await chat_client.connect(token)
    await chat_client.emit("ping")
    await chat_client.wait_for("pong")  # the web process has the account cached now
    await _change(client, user_id, isActive=False)
    await chat_client.emit("ping")
    assert (await chat_client.wait_for("message-error"))[0]["error"] == "unauthorized"
    await eventually(lambda: not chat_client.sio.connected, "the server to close the socket")


async def test_a_room_name_cannot_be_squatted_by_another_user(sockets: Callable[..., ChatClient]) -> None:
    owner_id, owner_token = await user_with_token()
    squatter_id, squatter_token = await user_with_token()
    room = f"page-{uuid.uuid4()}"  # a page id is public
    squatter = sockets()
    await squatter.connect(squatter_token)
    taken = (await squatter.join(room, squatter_id))["session_id"]

    owner = sockets("namespace")
    await owner.connect(owner_token)
    mine = (await owner.join(room, owner_id))["session_id"]  # not "forbidden"
    assert mine != taken
    message_id = await owner.send(mine, room, owner_id, "안녕하세요")
    assert await owner.answer(message_id)
    assert owner.events["message-error"] == []
    # each finds their own session again under the same name
    assert (await owner.join(room, owner_id))["session_id"] == mine
    assert (await squatter.join(room, squatter_id))["session_id"] == taken
    # and the scoped name cannot be taken either
    scoped = (await ChatSession.get(id=mine)).room
    assert (await squatter.join(scoped, squatter_id))["session_id"] not in (mine, taken)


async def test_new_chat_rooms_are_rate_limited_per_user(
    aiohttp_client: object, make_settings: Callable[..., object]
) -> None:
    from mochung.server.app import create_app

    app_client = await aiohttp_client(create_app(make_settings(chat_sessions_per_hour=3)))  # type: ignore[operator]
    user_id, token = await user_with_token()
    chat_client = ChatClient(str(app_client.make_url("")).rstrip("/"))
    try:
        await chat_client.connect(token)
        rooms = [new_room() for _ in range(4)]
        for room in rooms[:3]:
            await chat_client.join(room, user_id)
        await chat_client.emit("joinRoom", {"room": rooms[3], "userId": user_id})
        error = (await chat_client.wait_for("message-error"))[0]
        assert error["error"] == "rate_limited" and error["retry_after"] > 0
        await chat_client.join(rooms[0], user_id)  # an existing room is still fine
        assert await ChatSession.filter(user_id=user_id).count() == 3
    finally:
        await chat_client.close()
