"""``OfflineChatModel``: a LangChain chat model that decides with :mod:`.policy` instead of
a network call. It binds tools like a hosted model, answers with tool calls or text, and
streams: text as word-sized chunks, tool calls as ``tool_call_chunks`` (name first, then the
arguments in pieces), so the agent graph, token streaming and trajectories behave exactly
as with a hosted model. Same messages and tools in, same message out.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from mochung.agents.offline.policy import decide

TOKEN = re.compile(r"\S+\s*|\s+")
BOUND_CACHE_SIZE = 64  # tool sets bound at once: one per agent of the graph, a few more in tests


def _tool_names(tools: Sequence[dict[str, Any]] | None) -> list[str]:
    return [tool.get("function", {}).get("name", "") for tool in tools or []]


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class OfflineChatModel(BaseChatModel):
    """Deterministic, keyless, tool-calling chat model (see :mod:`mochung.agents.offline.policy`)."""

    model_name: str = "offline"
    # An agent binds its tools before every model call; the same tools give the same binding,
    # so it is made once per tool set (keyed by the tools' identity; the entry holds the tools,
    # so an id cannot be reused while it is cached).
    _bound: dict[tuple[Any, ...], tuple[tuple[object, ...], Runnable[LanguageModelInput, AIMessage]]] = PrivateAttr(
        default_factory=dict
    )

    @property
    def _llm_type(self) -> str:
        return "mochung-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        def bind() -> Runnable[LanguageModelInput, AIMessage]:
            return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

        if not all(isinstance(tool, BaseTool) for tool in tools):  # a dict may change: convert each time
            return bind()
        key = (tuple(map(id, tools)), tuple(sorted(kwargs.items())))
        try:
            cached = self._bound.get(key)
        except TypeError:  # an unhashable option: not cached
            return bind()
        if cached is None:
            if len(self._bound) >= BOUND_CACHE_SIZE:
                self._bound.clear()
            cached = self._bound[key] = (tuple(tools), bind())
        return cached[1]

    def _decide(self, messages: list[BaseMessage], tools: Sequence[dict[str, Any]] | None) -> AIMessage:
        return decide(messages, _tool_names(tools))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._decide(messages, kwargs.get("tools")))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, **kwargs)

    def _chunks(self, message: AIMessage) -> Iterator[AIMessageChunk]:
        if message.tool_calls:
            for index, call in enumerate(message.tool_calls):
                yield AIMessageChunk(
                    content="",
                    tool_call_chunks=[{"name": call["name"], "args": "", "id": call["id"], "index": index}],
                )
                for piece in _pieces(json.dumps(call["args"], ensure_ascii=False), 48):
                    yield AIMessageChunk(
                        content="", tool_call_chunks=[{"name": None, "args": piece, "id": None, "index": index}]
                    )
        else:
            for token in TOKEN.findall(str(message.content)):
                yield AIMessageChunk(content=token)
        yield AIMessageChunk(content="", chunk_position="last", response_metadata={"model_name": self.model_name})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The base class reports each chunk to the callbacks (token streaming); we only yield.
        for chunk in self._chunks(self._decide(messages, kwargs.get("tools"))):
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop, **kwargs):
            yield chunk
            await asyncio.sleep(0)  # let the consumer see each token as it comes, like a network stream
