"""The admin API beside live sockets: a socket in a room shows in the stats and in its
session's row, and a message hidden by an admin is gone from the room's history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.server.admin import seed
from tests.server.chat.helpers import ChatClient
from tests.support.users import user_with_headers


@pytest.fixture
async def sockets(client) -> AsyncIterator[Callable[[], ChatClient]]:
    made: list[ChatClient] = []
    base_url = str(client.make_url("")).rstrip("/")

    def make() -> ChatClient:
        made.append(ChatClient(base_url))
        return made[-1]

    yield make
    for socket in made:
        await socket.close()


async def test_live_sockets_and_hidden_history(client, sockets) -> None:
    _, admin_headers = await user_with_headers(admin=True)
    owner, owner_headers = await user_with_headers()
    token = owner_headers["Authorization"].removeprefix("Bearer ")
    chat = await seed.session(owner["id"])
    asked, answered = await seed.turn(chat, "전화번호 010-1234-5678로 연락주세요", "네, 알겠습니다.")

    watcher = sockets()
    await watcher.connect(token)
    await watcher.join(chat.room, owner["id"])
    stats = await (await client.get("/api/admin/stats", headers=admin_headers)).json()
    assert stats["liveSockets"] == 1
    sessions = await (await client.get("/api/admin/sessions", headers=admin_headers)).json()
    assert [(s["id"], s["liveSockets"]) for s in sessions["items"]] == [(str(chat.id), 1)]

    response = await client.post(
        f"/api/admin/chats/{asked.id}/hide", json={"reason": "개인정보 노출"}, headers=admin_headers
    )
    assert response.status == 200
    latecomer = sockets()
    await latecomer.connect(token)
    await latecomer.join(chat.room, owner["id"])
    history = latecomer.events["roomHistory"][-1]
    assert [item["id"] for item in history] == [str(answered.id)]
