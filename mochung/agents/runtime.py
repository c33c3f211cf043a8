"""The one entry point of the agents: ``build_runtime(settings)`` once, ``runtime.turn(...)``
per chat message, then ``async for event in turn.events()``.

Events follow the Redis message types of PROTOCOL.md: ``chunk`` (a delta of the answer:
the model's tokens coalesced, the first at once, then at most one chunk every
``MOCHUNG_CHUNK_INTERVAL_MS`` or ``MOCHUNG_CHUNK_MAX_CHARS`` characters), then ``text``
(the whole answer) and one ``component`` per component made, then ``done``; or ``error``
then ``done``. Bad input and every failure of the run become an ``error`` event with a
clear message; only cancellation propagates (``CancelledError``), after the run has been
stopped.

The graph runs in a task of its own feeding a queue, so the consumer can stop waiting at a
deadline and so cancelling the consumer cancels the run with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langgraph.errors import GraphRecursionError

from mochung.adapters.maps import KakaoMapSearch, OfflineMapSearch
from mochung.agents.graph import MAIN_AGENT, build_agent_graph
from mochung.agents.messages import text_of
from mochung.agents.models import chat_model_from_settings
from mochung.agents.tools.turn import TurnContext
from mochung.agents.usage import TurnUsage, UsageRecorder
from mochung.agents.wedding import WeddingContext, detect_language
from mochung.domain.components import ComponentError
from mochung.domain.ports import MapSearch, MapSearchError
from mochung.settings import Settings

log = logging.getLogger("mochung.agents")

EventType = Literal["chunk", "text", "component", "error", "done"]
MAIN_STEPS = 40  # model and tool steps of the main agent before it is considered stuck
# A turn makes several model calls (main, then each sub-agent): allow it a few calls' worth.
TURN_TIMEOUT_FACTOR = 3
MAX_WEDDING_BYTES = 256 * 1024  # the cap of a page's componentData (PROTOCOL.md)


@dataclass(frozen=True)
class TurnInput:
    text: str
    history: list[dict[str, Any]] = field(default_factory=list)
    wedding: dict[str, Any] | None = None


@dataclass(frozen=True)
class AgentEvent:
    type: EventType
    content: str | None = None
    component: dict[str, Any] | None = None
    seq: int = 0


@dataclass(frozen=True)
class Limits:
    max_chars: int
    history_limit: int
    turn_timeout_seconds: float
    # Streamed tokens are coalesced: the first delta of a turn goes out at once, then at most
    # one chunk per ``chunk_interval_seconds`` (or sooner once it holds ``chunk_max_chars``).
    chunk_interval_seconds: float = 0.05
    chunk_max_chars: int = 400


class AgentTurn:
    """One chat turn. ``events()`` may be iterated once; ``trajectory`` and ``timings`` fill in
    as it runs."""

    def __init__(self, runtime: AgentRuntime, turn_input: TurnInput) -> None:
        self._runtime = runtime
        self._input = turn_input
        self._seq = 0
        self.trajectory: list[dict[str, Any]] = []
        self.timings: dict[str, float | None] = {"total_ms": None, "first_token_ms": None}
        self.usage = TurnUsage()  # model calls and tools, filled as the run goes

    def _event(
        self, kind: EventType, content: str | None = None, component: dict[str, Any] | None = None
    ) -> AgentEvent:
        self._seq += 1
        return AgentEvent(type=kind, content=content, component=component, seq=self._seq)

    async def events(self) -> AsyncIterator[AgentEvent]:
        started = time.perf_counter()
        try:
            prepared = self._prepare()
        except ValueError as error:
            yield self._event("error", str(error))
            yield self._event("done")
            self.timings["total_ms"] = _ms_since(started)
            return
        messages, context = prepared
        self.trajectory = context.trajectory
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        producer = asyncio.create_task(self._runtime._run(messages, context, queue, UsageRecorder(self.usage)))
        # If the consumer's task ends while this generator sits unclosed (cancelled in its own
        # code between two events), stop the run with it rather than at garbage collection.
        consumer = asyncio.current_task()
        stop_with_consumer = lambda _: producer.cancel()  # noqa: E731
        if consumer is not None:
            consumer.add_done_callback(stop_with_consumer)
        limits = self._runtime.limits
        deadline = time.monotonic() + limits.turn_timeout_seconds
        final: str | None = None
        pending: tuple[str, Any] | None = None  # read while coalescing, handled next
        next_chunk_at = 0.0  # the first delta goes out at once
        try:
            while True:
                if pending is not None:
                    (kind, value), pending = pending, None
                else:
                    try:
                        async with asyncio.timeout_at(_loop_time(deadline)):
                            kind, value = await queue.get()
                    except TimeoutError:
                        yield self._event("error", "the assistant took too long to answer; please try again")
                        break
                if kind == "chunk":
                    if self.timings["first_token_ms"] is None:
                        self.timings["first_token_ms"] = _ms_since(started)
                    parts = [value]
                    size = len(value)
                    # Coalesce: take what is already queued, and wait for more until the
                    # chunk is due; any other event ends the chunk and is handled next.
                    due = min(max(next_chunk_at, time.monotonic()), deadline)
                    while size < limits.chunk_max_chars:
                        try:
                            if queue.empty():
                                if time.monotonic() >= due:
                                    break
                                async with asyncio.timeout_at(_loop_time(due)):
                                    item = await queue.get()
                            else:
                                item = queue.get_nowait()
                        except TimeoutError:
                            break
                        if item[0] != "chunk":
                            pending = item
                            break
                        parts.append(item[1])
                        size += len(item[1])
                    next_chunk_at = time.monotonic() + limits.chunk_interval_seconds
                    yield self._event("chunk", parts[0] if len(parts) == 1 else "".join(parts))
                elif kind == "error":
                    yield self._event("error", value)
                    break
                else:
                    final = value
                    break
            if final is not None:
                if final.strip() or context.components:
                    if final.strip():  # a turn may answer with components alone
                        yield self._event("text", final.strip())
                    for component in context.components:
                        yield self._event("component", component=component)
                else:
                    yield self._event("error", "the assistant returned an empty answer; please rephrase")
            yield self._event("done")
        finally:
            if consumer is not None:
                consumer.remove_done_callback(stop_with_consumer)
            if not producer.done():
                producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer
            self.timings["total_ms"] = _ms_since(started)

    def _prepare(self) -> tuple[list[BaseMessage], TurnContext]:
        """Validate the input (``ValueError`` with a clear message) and build the run's state."""
        limits = self._runtime.limits
        text = self._input.text if isinstance(self._input.text, str) else ""
        if not text.strip():
            raise ValueError("the message is empty")
        if len(text) > limits.max_chars:
            raise ValueError(f"the message is too long ({len(text)} characters; at most {limits.max_chars})")
        if self._input.wedding is not None and _json_size(self._input.wedding) > MAX_WEDDING_BYTES:
            raise ValueError(f"the wedding page is too large (more than {MAX_WEDDING_BYTES // 1024} KiB)")
        try:
            wedding = WeddingContext.from_data(self._input.wedding) if self._input.wedding is not None else None
        except ComponentError as error:
            raise ValueError(f"the wedding page has a malformed component: {error.message}") from None
        messages = [*_history(self._input.history, limits), HumanMessage(text.strip())]
        context = TurnContext(wedding=wedding, maps=self._runtime._maps(wedding), language=detect_language(text))
        return messages, context


def _history(history: Any, limits: Limits) -> list[BaseMessage]:
    if not isinstance(history, list):
        raise ValueError("the chat history must be a list of {role, content} messages")
    messages: list[BaseMessage] = []
    for entry in history[-limits.history_limit :]:
        role = entry.get("role") if isinstance(entry, dict) else None
        content = entry.get("content") if isinstance(entry, dict) else None
        if role not in ("user", "assistant") or not isinstance(content, str) or not content.strip():
            # Only the couple's and the assistant's own words are context; anything else (a
            # "system" entry above all) is left out rather than trusted or failing the turn.
            continue
        content = content[: limits.max_chars]
        messages.append(HumanMessage(content) if role == "user" else AIMessage(content))
    return messages


def _json_size(value: Any) -> int:
    try:
        return len(json.dumps(value, ensure_ascii=False, default=str).encode())
    except (TypeError, ValueError):  # not JSON at all: let validation name the problem
        return 0


def _loop_time(monotonic_deadline: float) -> float:
    """A ``time.monotonic()`` deadline on the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_deadline - time.monotonic())


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class AgentRuntime:
    """The compiled agents plus what every turn needs; shared by all turns of a process."""

    def __init__(self, model: BaseChatModel, limits: Limits, *, map_search: MapSearch | None = None) -> None:
        """``map_search`` serves every turn (Kakao); without it each turn searches its own page."""
        self.model = model
        self.limits = limits
        self._graph = build_agent_graph(model)
        self._map_search = map_search

    def turn(self, turn_input: TurnInput) -> AgentTurn:
        return AgentTurn(self, turn_input)

    def _maps(self, wedding: WeddingContext | None) -> MapSearch:
        if self._map_search is not None:
            return self._map_search
        return OfflineMapSearch(wedding.places() if wedding else [])

    async def _run(
        self,
        messages: list[BaseMessage],
        context: TurnContext,
        queue: asyncio.Queue[tuple[str, Any]],
        recorder: UsageRecorder | None = None,
    ) -> None:
        """Run the graph, putting ("chunk", delta)… then ("final", text) or ("error", message)."""
        final = ""
        try:
            async for mode, payload in self._graph.astream(
                {"messages": messages},
                context=context,
                stream_mode=["messages", "values"],
                config={"recursion_limit": MAIN_STEPS, "callbacks": [recorder] if recorder is not None else []},
            ):
                if mode == "messages":
                    message, metadata = payload
                    if (
                        isinstance(message, AIMessageChunk)
                        and metadata.get("lc_agent_name") == MAIN_AGENT
                        and (delta := text_of(message))
                    ):
                        queue.put_nowait(("chunk", delta))
                elif payload.get("messages"):
                    last = payload["messages"][-1]
                    final = text_of(last) if isinstance(last, AIMessage) and not last.tool_calls else ""
            queue.put_nowait(("final", final))
        except asyncio.CancelledError:
            raise
        except MapSearchError as error:
            queue.put_nowait(("error", f"map search failed: {error.message}"))
        except GraphRecursionError:
            queue.put_nowait(("error", "the assistant went round in circles; please rephrase your request"))
        except Exception as error:
            log.warning("agent turn failed: %s", type(error).__name__, exc_info=True)
            queue.put_nowait(("error", f"the assistant could not answer right now ({type(error).__name__})"))


def build_runtime(
    settings: Settings, http: aiohttp.ClientSession | None = None, *, model: BaseChatModel | None = None
) -> AgentRuntime:
    """The runtime the settings describe: the model of ``MOCHUNG_LLM`` (or ``model``), and the
    Kakao map search when ``MOCHUNG_KAKAO_REST_API_KEY`` is set (over ``http``, or a session
    per search when none is given), else the offline one (the page's own Location)."""
    kakao = None
    if settings.kakao_rest_api_key is not None:
        kakao = KakaoMapSearch(
            http,
            api_key=settings.kakao_rest_api_key.get_secret_value(),
            base_url=settings.kakao_base_url,
            timeout_seconds=settings.map_timeout_seconds,
        )
    limits = Limits(
        max_chars=settings.chat_max_chars,
        history_limit=settings.chat_history_limit,
        turn_timeout_seconds=settings.llm_timeout_seconds * TURN_TIMEOUT_FACTOR,
        chunk_interval_seconds=settings.chunk_interval_ms / 1000,
        chunk_max_chars=settings.chunk_max_chars,
    )
    return AgentRuntime(model or chat_model_from_settings(settings), limits, map_search=kakao)
