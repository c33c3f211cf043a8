"""Cancelling a running turn, and resuming mid-answer, in embedded mode. The agents are
the real ones; their model is a fake OpenAI-compatible server that streams slowly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from mochung.domain.models import AgentRun, ChatMessage, RunStatus
from mochung.settings import Settings
from tests.server.chat.fake_llm import MODEL_NAME, FakeLlm, llm_env, start_fake_llm
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token


@pytest.fixture
def fake_llm() -> FakeLlm:
    return FakeLlm(delay_seconds=0.2)


@pytest.fixture
async def llm_server(fake_llm: FakeLlm) -> AsyncIterator[TestServer]:
    server = await start_fake_llm(fake_llm)
    yield server
    await server.close()


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], llm_server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    for name, value in llm_env(llm_server).items():
        monkeypatch.setenv(name, value)
    return make_settings(llm=MODEL_NAME)


async def test_cancel_stops_a_running_turn(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets()
    await chat.connect(token)
    session_id = (await chat.join(room, user_id))["session_id"]
    message_id = await chat.send(session_id, room, user_id, "hello")
    await chat.wait_for("message-chunk", message_id=message_id)

    await chat.emit("cancel-message", {"message_id": message_id})

    errors = await chat.wait_for("message-error", message_id=message_id)
    assert errors[0]["error"] == "cancelled"
    await chat.settle()
    assert chat.answers(message_id) == []
    run = await AgentRun.get(message_id=message_id)
    assert run.status == RunStatus.CANCELLED and run.cancel_requested
    assert not await ChatMessage.filter(message_id=message_id, role="assistant").exists()


async def test_resume_mid_answer_gets_every_chunk_once(sockets: Callable[..., ChatClient], fake_llm: FakeLlm) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    first = sockets()
    await first.connect(token)
    session_id = (await first.join(room, user_id))["session_id"]
    message_id = await first.send(session_id, room, user_id, "hello")
    seen = await first.wait_for("message-chunk", count=3, message_id=message_id)
    await first.close()  # the connection drops mid-answer
    after_seq = seen[-1]["seq"]

    again = sockets("namespace")
    await again.connect(token)
    await again.join(room, user_id, resume={"message_id": message_id, "after_seq": after_seq})
    answers = await again.answer(message_id)

    deltas = [c["delta"] for c in seen] + [c["delta"] for c in again.chunks(message_id)]
    seqs = [c["seq"] for c in seen] + [c["seq"] for c in again.chunks(message_id)]
    assert seqs == list(range(1, len(seqs) + 1)), "no gap and no duplicate"
    assert "".join(deltas).strip() == fake_llm.answer
    assert [a["content"] for a in answers if a["type"] == "text"] == [fake_llm.answer]
    history: list[Any] = again.events["roomHistory"][0]
    assert [m["role"] for m in history] == ["user"], "the answer was still streaming when the client came back"


async def test_a_failing_model_ends_the_turn_with_an_error(
    sockets: Callable[..., ChatClient], fake_llm: FakeLlm
) -> None:
    fake_llm.failing = True
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets()
    await chat.connect(token)
    session_id = (await chat.join(room, user_id))["session_id"]
    message_id = await chat.send(session_id, room, user_id, "hello")

    error = (await chat.wait_for("message-error", message_id=message_id))[0]
    assert error["error"] == "agent_error" and error["details"]
    await chat.settle()
    assert chat.answers(message_id) == []
    run = await AgentRun.get(message_id=message_id)
    assert run.status == RunStatus.FAILED and run.error
    assert not await ChatMessage.filter(message_id=message_id, role="assistant").exists()
