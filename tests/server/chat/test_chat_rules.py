"""Business rules of mochung.domain.chat that the sockets do not show directly: hidden
messages leave the history and the agents' context, and a turn's run moves only forward."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp.test_utils import TestClient

from mochung.domain import chat, rooms
from mochung.domain.models import AgentRun, ChatMessage, ChatSession, RunStatus, User
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token


async def _session() -> tuple[User, ChatSession]:
    user_id, _ = await user_with_token()
    user = await User.get(id=user_id)
    return user, (await rooms.join_session(user, new_room())).session


async def test_hidden_messages_leave_history_and_agent_context(client: TestClient) -> None:
    _, session = await _session()
    first = await chat.accept_user_message(session, "첫 번째")
    secret = await chat.accept_user_message(session, "숨길 메시지")
    last = await chat.accept_user_message(session, "세 번째")
    await ChatMessage.filter(id=secret.message.id).update(is_hidden=True, hidden_reason="spam")

    history = await chat.room_history(session)
    assert [m.content for m in history] == ["첫 번째", "세 번째"]
    turn = await chat.load_turn(last.message.message_id, history_limit=20)
    assert turn is not None and turn.history == [{"role": "user", "content": "첫 번째"}]
    assert (await chat.load_turn(last.message.message_id, history_limit=1)).history == [  # type: ignore[union-attr]
        {"role": "user", "content": "첫 번째"}
    ]
    assert first.run.status == RunStatus.QUEUED


async def test_room_history_is_the_last_ones_oldest_first(client: TestClient) -> None:
    _, session = await _session()
    for index in range(5):
        await chat.accept_user_message(session, f"메시지 {index}")
    assert [m.content for m in await chat.room_history(session, limit=3)] == ["메시지 2", "메시지 3", "메시지 4"]


async def test_a_finished_run_never_starts_or_finishes_again(client: TestClient) -> None:
    _, session = await _session()
    accepted = await chat.accept_user_message(session, "안녕")
    message_id = accepted.message.message_id
    started = await chat.start_run(message_id)
    assert started.run is not None and started.run.attempts == 1
    answers = [chat.Answer("text", "답", None)]
    assert await chat.finish_run(started.run, answers, [], {}) is not None
    assert await chat.finish_run(started.run, answers, [], {}) is None  # a second attempt stores nothing
    assert (await chat.start_run(message_id)).run is None
    assert await ChatMessage.filter(message_id=message_id, role="assistant").count() == 1
    assert (await AgentRun.get(message_id=message_id)).status == RunStatus.DONE


async def test_the_room_history_event_leaves_hidden_messages_out(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat_socket = sockets()
    await chat_socket.connect(token)
    session_id = (await chat_socket.join(room, user_id))["session_id"]
    session = await ChatSession.get(id=session_id)
    kept = await chat.accept_user_message(session, "보이는 메시지")
    hidden = await chat.accept_user_message(session, "숨긴 메시지")
    await ChatMessage.filter(id=hidden.message.id).update(is_hidden=True)
    await chat_socket.join(room, user_id)
    assert [m["id"] for m in chat_socket.events["roomHistory"][-1]] == [str(kept.message.id)]
