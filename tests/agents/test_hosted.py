"""The hosted-model path: ``MOCHUNG_LLM=openai:…`` goes through ``init_chat_model`` to
``langchain-openai``'s ``ChatOpenAI``, pointed at a local OpenAI-compatible fake server that
streams tool calls over SSE. The whole graph (main and the three sub-agents) runs through it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from mochung.agents import TurnInput, build_runtime
from mochung.agents.models import chat_model_from_settings
from mochung.settings import SettingsError, load_settings
from tests.agents.helpers import answer, collect, components, kinds
from tests.support.fakes.openai_server import FakeOpenAI

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


async def test_whole_graph_runs_through_chat_openai(openai: FakeOpenAI, wedding: dict[str, Any]) -> None:
    settings = load_settings(llm="openai:gpt-4o-mini", kakao_rest_api_key=None)
    runtime = build_runtime(settings)
    assert isinstance(runtime.model, ChatOpenAI)

    turn = runtime.turn(TurnInput(text="예식장이 어디예요?", wedding=wedding))
    events = await collect(turn)

    assert kinds(events) == ["chunk*", "text", "component", "done"]
    assert len([event for event in events if event.type == "chunk"]) >= 2  # the first token at once, the rest coalesced
    kakao_link = "https://map.kakao.com/link/to/%EB%8D%94%EC%B1%84%ED%94%8C%EC%95%B3%EC%B2%AD%EB%8B%B4,37.5226,127.0398"
    assert answer(events) == f"예식장은 더채플앳청담입니다. 카카오맵: {kakao_link}"
    # only the main agent's tokens are streamed, not the sub-agents' answers
    assert "".join(event.content or "" for event in events if event.type == "chunk") == answer(events)
    [suggestions] = components(events)
    assert suggestions == {
        "type": "AgentSuggestMessage",
        "props": {
            "suggestions": [
                {"displayText": "주차 안내", "value": "주차할 수 있어요?"},
                {"displayText": "예식 시간", "value": "몇 시에 시작해요?"},
            ]
        },
    }
    assert [(step["agent"], step["tool"]) for step in turn.trajectory] == [
        ("main", "call_context_agent"),
        ("context", "get_wedding_info"),
        ("main", "call_map_agent"),
        ("map", "search_place"),
        ("main", "call_output_agent"),
        ("output", "make_suggestions"),
    ]
    assert turn.trajectory[3]["args"] == {"query": "더채플앳청담"}  # streamed arguments reassembled
    # The model saw the tools of each agent, streamed, with the system prompts.
    offered = [sorted(tool["function"]["name"] for tool in request["tools"]) for request in openai.requests]
    assert ["call_context_agent", "call_map_agent", "call_output_agent"] in offered
    context_tools = [
        "get_account_info",
        "get_calendar_info",
        "get_guestbook_entries",
        "get_invitation_text",
        "get_rsvp_summary",
        "get_wedding_info",
    ]
    assert context_tools in offered
    assert ["get_place_details", "search_place"] in offered
    main_requests = [r for r in openai.requests if "call_context_agent" in {t["function"]["name"] for t in r["tools"]}]
    assert all(request["stream"] for request in main_requests)
    assert main_requests[0]["messages"][0]["role"] == "system"
    assert main_requests[0]["messages"][-1] == {"role": "user", "content": "예식장이 어디예요?"}


def test_unknown_model_setting_is_a_clear_settings_error() -> None:
    with pytest.raises(SettingsError, match="use 'offline' or 'provider:model'"):
        chat_model_from_settings(load_settings(llm="gpt-4o"))
    with pytest.raises(SettingsError, match=r"cannot be used|needs the provider"):
        chat_model_from_settings(load_settings(llm="nosuchprovider:model"))


async def test_one_model_answers_on_every_event_loop(openai: FakeOpenAI) -> None:
    """A process calls the model from more than one loop (the web loop's evaluations, the
    embedded worker's turns, each ``asyncio.run``): every loop gets its own connections, so
    a loop that has closed leaves nothing behind for the next (langchain-openai's shared
    client would reuse its connection: ``RuntimeError: Event loop is closed``)."""
    model = chat_model_from_settings(load_settings(llm="openai:gpt-4o-mini", kakao_rest_api_key=None))
    other = chat_model_from_settings(load_settings(llm="openai:gpt-4o-mini", kakao_rest_api_key=None))
    assert isinstance(model, ChatOpenAI) and isinstance(other, ChatOpenAI)
    assert model.http_async_client is other.http_async_client

    async def ask(chat: BaseChatModel) -> str:
        return str((await chat.ainvoke("안녕하세요")).content)

    # on a loop of its own in another thread, which then closes; then on this test's loop
    # (a connection of the closed loop must not be reused), then on yet another loop
    first = await asyncio.to_thread(asyncio.run, ask(model))
    here = await ask(other)
    last = await asyncio.to_thread(asyncio.run, ask(model))
    assert first and first == here == last
    assert openai.calls == 3
