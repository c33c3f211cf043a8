"""The full chat flow of PROTOCOL.md through both connection styles, embedded mode
(in-process Dramatiq worker, in-memory bus) on SQLite and PostgreSQL, with the real
offline agents."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mochung.domain.models import AgentRun, ChatMessage, RunStatus
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token


@pytest.mark.parametrize("style", ["path", "namespace"])
async def test_full_turn_then_history_after_reconnect(sockets: Callable[..., ChatClient], style: str) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    first = sockets(style)
    await first.connect(token)
    info = await first.join(room, user_id)
    session_id = info["session_id"]
    assert info["wedding_id"] is None
    assert first.events["roomHistory"][0] == []

    message_id = await first.send(session_id, room, user_id, "안녕하세요, 청첩장을 만들고 싶어요")
    await first.wait_for("newMessage", message_id=message_id, role="assistant")
    stored = await ChatMessage.filter(message_id=message_id, role="assistant").order_by("position")
    answers = await first.answer(message_id, count=len(stored))
    assert [(a["type"], a["content"], a["id"]) for a in answers] == [(m.type, m.content, str(m.id)) for m in stored]

    chunks = first.chunks(message_id)
    assert chunks, "the answer streams as message-chunk events before newMessage"
    assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert all(c["session_id"] == session_id for c in chunks)
    assert answers[0]["type"] == "text" and answers[0]["content"]
    assert answers[0]["session_id"] == session_id and isinstance(answers[0]["timestamp"], int)
    names = [name for name, _ in first.order]
    assert names.index("message-accepted") < names.index("message-chunk") < names.index("newMessage")
    # the sender does not get its own message back
    assert not [m for m in first.events["newMessage"] if m["role"] == "user"]

    await first.close()
    again = sockets(style)
    await again.connect(token)
    await again.join(room, user_id)
    history = again.events["roomHistory"][0]
    assert [(m["role"], m["message_id"]) for m in history][:2] == [("user", message_id), ("assistant", message_id)]
    assert history[0]["content"] == "안녕하세요, 청첩장을 만들고 싶어요"
    assert history[1]["content"] == answers[0]["content"]
    assert {"id", "message_id", "role", "type", "content", "component", "created_at"} <= set(history[0])

    run = await AgentRun.get(message_id=message_id)
    assert run.status == RunStatus.DONE and run.attempts == 1
    assert run.timings.get("turn_ms") is not None
