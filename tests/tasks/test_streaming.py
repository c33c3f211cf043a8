"""Streamed tokens are coalesced into chunks before they are published, and a client that
resumes mid-answer still finds every chunk once: seqs are contiguous per published chunk,
and what the turn store keeps is exactly what was published."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from redis.asyncio import Redis

from mochung.adapters.turns import RedisTurnStore
from mochung.agents import AgentRuntime, TurnInput
from mochung.agents.evaluation.cases import load_fixture
from mochung.agents.offline import OfflineChatModel
from mochung.agents.offline.model import TOKEN
from mochung.agents.runtime import Limits
from mochung.settings import Settings
from tests.tasks.conftest import WorkerFactory, store_turns

QUESTION = "예식장이 어디예요?"


class SteadyModel(OfflineChatModel):
    """The offline model, streaming one token every ``token_gap`` seconds."""

    token_gap: float = 0.005

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk
            await asyncio.sleep(self.token_gap)


def make_runtime(token_gap: float, interval: float = 0.05, max_chars: int = 400) -> AgentRuntime:
    limits = Limits(
        max_chars=4000,
        history_limit=20,
        turn_timeout_seconds=60,
        chunk_interval_seconds=interval,
        chunk_max_chars=max_chars,
    )
    return AgentRuntime(SteadyModel(token_gap=token_gap), limits)


async def stream(runtime: AgentRuntime, wedding: dict[str, Any]) -> tuple[list[str], str]:
    chunks: list[str] = []
    text = ""
    async for event in runtime.turn(TurnInput(text=QUESTION, wedding=wedding)).events():
        if event.type == "chunk":
            chunks.append(event.content or "")
        elif event.type == "text":
            text = event.content or ""
    return chunks, text


@pytest.fixture
def wedding() -> dict[str, Any]:
    return load_fixture("minsu-jieun")


async def test_tokens_are_coalesced_and_the_first_goes_out_at_once(wedding: dict[str, Any]) -> None:
    chunks, text = await stream(make_runtime(token_gap=0.005), wedding)

    tokens = TOKEN.findall(text)
    assert len(tokens) > 20
    assert "".join(chunks).strip() == text, "nothing lost, nothing repeated"
    assert chunks[0].strip() == tokens[0].strip(), "the first token is not held back"
    assert 2 <= len(chunks) <= len(tokens) / 3, f"{len(chunks)} chunks for {len(tokens)} tokens"


async def test_a_chunk_is_cut_at_the_size_limit(wedding: dict[str, Any]) -> None:
    chunks, text = await stream(make_runtime(token_gap=0.0, interval=10.0, max_chars=20), wedding)

    longest_token = max(len(token) for token in TOKEN.findall(text))
    assert "".join(chunks).strip() == text
    assert len(chunks) > 3
    assert all(len(chunk) < 20 + longest_token for chunk in chunks)


async def test_slow_tokens_are_each_sent_when_they_come(wedding: dict[str, Any]) -> None:
    chunks, text = await stream(make_runtime(token_gap=0.0, interval=0.0), wedding)

    assert "".join(chunks).strip() == text
    assert len(chunks) >= len(TOKEN.findall(text)) / 2


@pytest.mark.parametrize("bus", ["memory", "redis"])
async def test_resume_after_coalescing_has_no_gap_and_no_duplicate(
    bus: str,
    make_settings: Callable[..., Settings],
    start_worker: WorkerFactory,
    wedding: dict[str, Any],
    request: pytest.FixtureRequest,
) -> None:
    overrides: dict[str, Any] = {}
    if bus == "redis":
        redis_url = request.getfixturevalue("redis_url")
        overrides = {"redis_url": redis_url, "broker_namespace": f"test-tasks-{uuid.uuid4().hex[:8]}"}
    settings = make_settings(**overrides)
    turns = await store_turns(3, QUESTION)
    worker, events = await start_worker(settings, make_runtime(token_gap=0.003), turns)
    # Read the kept chunks as the web process does (the worker's store lives on its loop).
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    store = RedisTurnStore(redis, 60) if redis is not None else worker.resources.turns
    assert store is not None

    for message_id in turns.messages:
        worker.actors.process_chat_message.send(message_id)
    await events.all_done(turns.messages)

    for message_id in turns.messages:
        published = events.of(message_id, "chunk")
        seqs = [chunk["metadata"]["seq"] for chunk in published]
        assert seqs == list(range(1, len(seqs) + 1)), "contiguous, each once"
        text = events.of(message_id, "text")[0]["content"]
        assert "".join(chunk["content"] for chunk in published).strip() == text
        assert len(published) <= max(2, len(TOKEN.findall(text)) / 3), "coalesced"
        kept = [{"seq": chunk["metadata"]["seq"], "delta": chunk["content"]} for chunk in published]
        for after_seq in range(len(kept) + 1):  # a client that has seen up to after_seq
            assert await store.chunks_after(message_id, after_seq) == kept[after_seq:]
    if redis is not None:
        await redis.aclose()
