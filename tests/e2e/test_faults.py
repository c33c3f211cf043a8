"""Fault tests across real processes (distributed mode).

- A slow model (a fake OpenAI-compatible server streaming one word every few hundred ms;
  the agents themselves are real) keeps a turn in flight long enough to resume it from
  another web process, and to kill the worker in the middle of it.
- A private redis-server is restarted under a running web process and worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import asyncpg
import pytest

from tests.e2e.stack import RedisServer, Stack, register
from tests.server.chat.fake_llm import MODEL_NAME, FakeLlm
from tests.server.chat.helpers import ChatClient, new_room

pytestmark = pytest.mark.e2e


async def _stored(database_url: str, message_id: str) -> tuple[list[str], str, int]:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        answers = await connection.fetch(
            "SELECT content FROM chat_messages WHERE message_id = $1 AND role = 'assistant' AND type = 'text'",
            uuid.UUID(message_id),
        )
        run = await connection.fetchrow(
            "SELECT status, attempts FROM agent_runs WHERE message_id = $1", uuid.UUID(message_id)
        )
    finally:
        await connection.close()
    return [row["content"] for row in answers], run["status"], run["attempts"]


def _seqs_and_text(*clients_chunks: list[dict]) -> tuple[list[int], str]:
    chunks = [chunk for chunks in clients_chunks for chunk in chunks]
    return [c["seq"] for c in chunks], "".join(c["delta"] for c in chunks).strip()


async def test_resume_on_another_process_then_worker_killed_mid_turn(
    make_stack: Callable[..., Stack], fake_llm: tuple[FakeLlm, str]
) -> None:
    fake, llm_url = fake_llm
    stack = make_stack(
        MOCHUNG_BROKER_HEARTBEAT_TIMEOUT_MS="2000",
        MOCHUNG_LLM=MODEL_NAME,
        OPENAI_BASE_URL=llm_url,
        OPENAI_API_KEY="test-key-not-secret",
    )
    first_url, second_url = stack.up(web=2, workers=1)
    worker = next(p for p in stack.processes if p.name == "worker-0")
    user_id, token = register(first_url)
    room = new_room()
    clients: list[ChatClient] = []
    try:
        # 1. the client drops mid-answer and resumes on the other web process
        first = ChatClient(first_url)
        clients.append(first)
        await first.connect(token)
        session_id = (await first.join(room, user_id))["session_id"]
        message_id = await first.send(session_id, room, user_id, "hello")
        seen = await first.wait_for("message-chunk", count=3, message_id=message_id)
        await first.close()
        resumed = ChatClient(second_url, "namespace")
        clients.append(resumed)
        await resumed.connect(token)
        await resumed.join(room, user_id, resume={"message_id": message_id, "after_seq": seen[-1]["seq"]})
        answers = await resumed.answer(message_id)
        seqs, text = _seqs_and_text(seen, resumed.chunks(message_id))
        assert seqs == list(range(1, len(seqs) + 1)) and text == fake.answer
        assert [a["content"] for a in answers if a["type"] == "text"] == [fake.answer]

        # 2. the worker dies mid-turn: the message is redelivered to a new worker, and the
        #    client gets the rest of the answer, then the answer, once
        message_id = await resumed.send(session_id, room, user_id, "hello again")
        await resumed.wait_for("message-chunk", count=3, message_id=message_id)
        worker.kill()
        stack.wait_worker(stack.start_worker("worker-replacement"))
        answers = await resumed.answer(message_id)
        seqs, text = _seqs_and_text(resumed.chunks(message_id))
        assert seqs == list(range(1, len(seqs) + 1)), "no chunk twice, none missing"
        assert text == fake.answer
        assert [a["content"] for a in answers if a["type"] == "text"] == [fake.answer]
        stored, status, attempts = await _stored(stack.database_url, message_id)
        assert stored == [fake.answer] and status == "done" and attempts == 2
    finally:
        for chat in clients:
            await chat.close()


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


async def test_a_turn_after_a_redis_restart_is_delivered(
    make_stack: Callable[..., Stack], private_redis: RedisServer
) -> None:
    stack = make_stack(redis_url=private_redis.url)
    (url,) = stack.up(web=1, workers=1)
    user_id, token = register(url)
    room = new_room()
    chat = ChatClient(url)
    try:
        await chat.connect(token)
        session_id = (await chat.join(room, user_id))["session_id"]
        before = await chat.answer(await chat.send(session_id, room, user_id, "안녕하세요"))
        assert before

        private_redis.stop()
        private_redis.start()
        health = stack.wait_healthy(url)  # waits for 200: Redis reachable, relay resubscribed
        assert health["services"]["relay"] == "ok"

        message_id = await chat.send(session_id, room, user_id, "다시 안녕하세요")
        answers = await chat.answer(message_id)
        assert len([a for a in answers if a["type"] == "text"]) == 1
        assert chat.sio.connected
    finally:
        await chat.close()
