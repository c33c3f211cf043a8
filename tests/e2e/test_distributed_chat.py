"""The chat across real processes (distributed mode): ``mochung serve`` ×2 and ``mochung
worker`` on PostgreSQL and Redis, driven by python-socketio clients like the frontend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.stack import Stack, register
from tests.server.chat.helpers import ChatClient, new_room

pytestmark = pytest.mark.e2e


async def test_full_flow_both_styles_and_two_web_processes_share_a_room(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    first_url, second_url = stack.up(web=2, workers=1)
    health = stack.wait_healthy(first_url)
    assert health["services"]["broker"] == "redis" and health["services"]["queue"].isdigit()

    user_id, token = register(first_url)
    sockets: list[ChatClient] = []
    try:
        for style in ("path", "namespace"):
            room = new_room()
            on_a = ChatClient(first_url, style)
            on_b = ChatClient(second_url, "namespace" if style == "path" else "path")
            sockets += [on_a, on_b]
            await on_a.connect(token)
            await on_b.connect(token)
            session_id = (await on_a.join(room, user_id))["session_id"]
            assert (await on_b.join(room, user_id))["session_id"] == session_id

            text = "안녕하세요! 청첩장 만들어 주세요"
            message_id = await on_a.send(session_id, room, user_id, text)
            # the other process's socket sees the user's message; the sender does not
            mine = await on_b.wait_for("newMessage", message_id=message_id, role="user")
            assert mine[0]["content"] == text
            answer_a = await on_a.wait_for("newMessage", message_id=message_id, role="assistant")
            answer_b = await on_b.wait_for("newMessage", message_id=message_id, role="assistant")
            assert answer_a[0]["content"] and answer_a[0] == answer_b[0]
            for chat in (on_a, on_b):
                await chat.settle()
                chunks = chat.chunks(message_id)
                assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1)), "each chunk exactly once"
                assert len([a for a in chat.answers(message_id) if a["type"] == "text"]) == 1, "answer exactly once"
            assert not [m for m in on_a.events["newMessage"] if m["role"] == "user"]

            await on_a.close()
            again = ChatClient(first_url, style)
            sockets.append(again)
            await again.connect(token)
            await again.join(room, user_id)
            history = again.events["roomHistory"][0]
            assert [(m["role"], m["message_id"]) for m in history][:2] == [
                ("user", message_id),
                ("assistant", message_id),
            ]
            assert history[1]["content"] == answer_a[0]["content"]
    finally:
        for chat in sockets:
            await chat.close()
