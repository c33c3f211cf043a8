"""The offline chat model on its own: tool binding, tool calls, token streaming, determinism."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool

from mochung.agents.offline import OfflineChatModel


@tool
def call_context_agent(request: str) -> str:
    """Ask the context agent."""
    return request


@tool
def call_map_agent(request: str) -> str:
    """Ask the map agent."""
    return request


@tool
def call_output_agent(request: str) -> str:
    """Ask the output agent."""
    return request


MAIN_TOOLS = [call_context_agent, call_map_agent, call_output_agent]


async def test_bound_tools_make_it_call_the_context_agent_first() -> None:
    model = OfflineChatModel().bind_tools(MAIN_TOOLS)
    message = await model.ainvoke([HumanMessage("When is the wedding?")])
    assert isinstance(message, AIMessage) and message.content == ""
    [call] = message.tool_calls
    assert call["name"] == "call_context_agent"
    assert call["args"] == {"request": "Look up on the wedding page: the wedding date and time."}


async def test_streamed_tool_calls_add_up_to_the_same_call() -> None:
    model = OfflineChatModel().bind_tools(MAIN_TOOLS)
    messages = [HumanMessage("예식장이 어디예요?")]
    chunks = [chunk async for chunk in model.astream(messages)]
    assert len(chunks) > 2 and all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.tool_calls == (await model.ainvoke(messages)).tool_calls


async def test_final_answer_streams_word_by_word() -> None:
    model = OfflineChatModel().bind_tools(MAIN_TOOLS)
    context = '{"get_calendar_info": {"wedding_date": "2026-05-16", "wedding_time": "12:30", "weekday_en": "Saturday"}}'
    messages = [
        HumanMessage("When is the wedding?"),
        AIMessage("", tool_calls=[{"name": "call_context_agent", "args": {"request": "date"}, "id": "c1"}]),
        ToolMessage(context, tool_call_id="c1", name="call_context_agent"),
    ]
    chunks = [chunk.content async for chunk in model.astream(messages)]
    assert len([chunk for chunk in chunks if chunk]) >= 5
    assert "".join(chunks) == "The wedding is on Saturday, May 16, 2026 at 12:30 PM."
    assert model.invoke(messages).content == "".join(chunks)  # deterministic, sync path too


def test_without_tools_it_answers_with_what_it_can_do() -> None:
    answer = OfflineChatModel().invoke([HumanMessage("안녕하세요")]).content
    assert isinstance(answer, str) and answer.startswith("저는 모청의 청첩장 도우미예요.")
