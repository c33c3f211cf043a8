"""One chat turn through the whole agent graph with the offline model: what the couple sees
(streamed chunks, the answer, components) and what the run records (trajectory, timings)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mochung.agents import AgentRuntime, TurnInput
from mochung.domain.components import chat_component
from mochung.domain.ports import Place
from tests.agents.helpers import answer, collect, components, kinds


async def test_venue_question_streams_an_answer_with_directions(runtime: AgentRuntime, wedding: dict[str, Any]) -> None:
    turn = runtime.turn(TurnInput(text="예식장이 어디예요?", wedding=wedding))
    events = await collect(turn)

    assert kinds(events) == ["chunk*", "text", "done"]
    chunks = [event.content for event in events if event.type == "chunk"]
    assert len(chunks) >= 2  # streamed: the first token at once, the rest coalesced (runtime.Limits)
    text = answer(events)
    assert "".join(chunks).strip() == text
    assert "더채플앳청담 3층 그랜드홀" in text
    assert "서울 강남구 선릉로 757" in text
    assert "https://map.kakao.com/link/to/" in text and ",37.5226,127.0398" in text
    assert "tmap://route?goalname=" in text and "goalx=127.0398" in text
    assert "https://map.naver.com/p/search/" in text
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert [(step["agent"], step["tool"]) for step in turn.trajectory] == [
        ("main", "call_context_agent"),
        ("context", "get_wedding_info"),
        ("main", "call_map_agent"),
        ("map", "search_place"),
        ("map", "get_place_details"),
    ]
    assert turn.trajectory[3]["args"] == {"query": "더채플앳청담"}
    assert all(step["ms"] >= 0 for step in turn.trajectory)
    assert turn.timings["total_ms"] is not None and turn.timings["first_token_ms"] is not None
    assert turn.timings["first_token_ms"] <= turn.timings["total_ms"]


async def test_english_question_gets_an_english_answer(runtime: AgentRuntime, wedding: dict[str, Any]) -> None:
    events = await collect(runtime.turn(TurnInput(text="When is the wedding?", wedding=wedding)))
    assert answer(events) == "The wedding is on Saturday, May 16, 2026 at 12:30 PM."


@pytest.mark.parametrize(
    ("text", "component_type", "tool"),
    [
        ("커버 만들어줘", "Cover", "make_cover"),
        ("인사말 써줘", "Invitation", "make_invitation"),
        ("달력 추가해줘", "Calendar", "make_calendar"),
        ("지도 넣어줘", "Location", "make_location"),
        ("계좌 섹션 만들어줘", "Account", "make_account"),
        ("What can you do?", "AgentSuggestMessage", "make_suggestions"),
    ],
)
async def test_requests_for_a_section_end_with_a_valid_component(
    runtime: AgentRuntime, wedding: dict[str, Any], text: str, component_type: str, tool: str
) -> None:
    turn = runtime.turn(TurnInput(text=text, wedding=wedding))
    events = await collect(turn)

    assert kinds(events) == ["chunk*", "text", "component", "done"]
    [component] = components(events)
    assert component["type"] == component_type
    assert chat_component(component["type"], component["props"]) == component  # valid per the schema
    assert ("output", tool) in [(step["agent"], step["tool"]) for step in turn.trajectory]


async def test_cover_carries_the_couple_from_the_page(runtime: AgentRuntime, wedding: dict[str, Any]) -> None:
    events = await collect(runtime.turn(TurnInput(text="커버 만들어줘", wedding=wedding)))
    [cover] = components(events)
    assert cover["props"]["groomName"] == "김민수"
    assert cover["props"]["brideName"] == "이지은"
    assert cover["props"]["place"] == "더채플앳청담"
    assert cover["props"]["mainPhoto"] == "https://files.example.com/minsu-jieun/main.jpg"
    assert "커버를 만들었어요" in answer(events)


async def test_rewrite_follow_up_uses_the_history(runtime: AgentRuntime, wedding: dict[str, Any]) -> None:
    current = wedding["componentData"]["components"][1]["props"]["text"]
    history = [{"role": "user", "content": "인사말 써줘"}, {"role": "assistant", "content": "인사말을 써 봤어요"}]
    events = await collect(runtime.turn(TurnInput(text="다시 써줘", history=history, wedding=wedding)))

    [invitation] = components(events)
    assert invitation["type"] == "Invitation"
    assert current.splitlines()[0] not in invitation["props"]["text"]  # a rewrite, not the same greeting
    assert invitation["props"]["groomParents"] == "김철수 · 박영희의 장남"
    assert answer(events).startswith("인사말을 다시 써 봤어요")


async def test_without_a_page_the_answer_says_so(runtime: AgentRuntime) -> None:
    events = await collect(runtime.turn(TurnInput(text="결혼식 언제예요?")))
    assert kinds(events) == ["chunk*", "text", "done"]
    assert "청첩장이 연결되어 있지 않아요" in answer(events)


async def test_unknown_component_types_on_the_page_are_accepted(runtime: AgentRuntime, wedding: dict[str, Any]) -> None:
    page = {
        **wedding,
        "componentData": {
            "components": [
                *wedding["componentData"]["components"],
                {"type": "VideoInvitation", "id": "v1", "props": {"anything": ["goes"]}},
            ]
        },
    }
    events = await collect(runtime.turn(TurnInput(text="축의금 계좌 알려줘", wedding=page)))
    assert "신한은행 110-123-456789" in answer(events)


@pytest.mark.parametrize(
    ("turn_input", "message"),
    [
        (TurnInput(text=""), "the message is empty"),
        (TurnInput(text="   \n "), "the message is empty"),
        (TurnInput(text="가" * 10_000), "the message is too long (10000 characters; at most 4000)"),
        (
            TurnInput(text="예식장이 어디예요?", wedding={"componentData": {"components": "nope"}}),
            "the wedding page has a malformed component: componentData.components must be a list",
        ),
        (
            TurnInput(
                text="예식장이 어디예요?",
                wedding={"componentData": {"components": [{"type": "Location", "props": {"lat": "north"}}]}},
            ),
            "the wedding page has a malformed component: component #1 (Location lat: Input should be a valid number",
        ),
        (
            TurnInput(text="안녕", wedding={"componentData": {"components": [{"props": {}}]}}),
            "the wedding page has a malformed component: component #1 has no type",
        ),
        (
            TurnInput(
                text="안녕",
                wedding={
                    "componentData": {
                        "components": [
                            {"type": "Gallery", "props": {"photos": ["https://files.example.com/" + "x" * 1000] * 300}}
                        ]
                    }
                },
            ),
            "the wedding page is too large (more than 256 KiB)",
        ),
        (TurnInput(text="안녕", history="not a list"), "the chat history must be a list of {role, content} messages"),
    ],
)
async def test_bad_input_is_an_error_event_not_an_exception(
    runtime: AgentRuntime, turn_input: TurnInput, message: str
) -> None:
    turn = runtime.turn(turn_input)
    events = await collect(turn)
    assert [event.type for event in events] == ["error", "done"]
    assert (events[0].content or "").startswith(message)
    assert turn.trajectory == []


class HangingMapSearch:
    """A map provider that never answers (until cancelled): the run is mid-flight in a tool."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    async def search(self, query: str, *, limit: int = 5) -> list[Place]:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return []

    async def details(self, name: str) -> Place | None:
        return None


def _leftovers(before: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()]


async def test_cancelling_the_consumer_stops_the_run(runtime: AgentRuntime, wedding: dict[str, Any]) -> None:
    maps = HangingMapSearch()
    hanging = AgentRuntime(runtime.model, runtime.limits, map_search=maps)
    before = asyncio.all_tasks()
    seen: list[str] = []

    async def consume() -> None:
        async for event in hanging.turn(TurnInput(text="예식장이 어디예요?", wedding=wedding)).events():
            seen.append(event.type)

    task = asyncio.create_task(consume())
    await maps.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert maps.cancelled  # the tool call in flight was cancelled, not left running
    assert seen == []
    assert _leftovers(before) == []


async def test_history_entries_other_than_user_and_assistant_are_left_out(
    runtime: AgentRuntime, wedding: dict[str, Any]
) -> None:
    history = [
        {"role": "system", "content": "커버 만들어줘"},
        {"role": "user", "content": None},
        {"role": "assistant", "content": "무엇을 도와드릴까요?"},
    ]
    turn = runtime.turn(TurnInput(text="다시 해줘", history=history, wedding=wedding))
    events = await collect(turn)
    assert kinds(events) == ["chunk*", "text", "component", "done"]
    assert components(events)[0]["type"] == "AgentSuggestMessage"  # no earlier request to repeat
