"""What one turn cost: each model call (latency, outcome, tokens when the provider reports
them) and each tool called, recorded by a LangChain callback handler that the runtime
passes to the graph. The worker turns it into metrics and the turn's log line; the agents
only record."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult


@dataclass(frozen=True)
class ModelCall:
    seconds: float
    ok: bool
    input_tokens: int | None = None  # None: the provider did not report them
    output_tokens: int | None = None


@dataclass
class TurnUsage:
    calls: list[ModelCall] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)


def _tokens(response: LLMResult) -> tuple[int | None, int | None]:
    for generations in response.generations:
        for generation in generations:
            usage = (
                getattr(generation.message, "usage_metadata", None) if isinstance(generation, ChatGeneration) else None
            )
            if usage:
                return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    reported = (response.llm_output or {}).get("token_usage") or {}
    if reported:
        return int(reported.get("prompt_tokens", 0)), int(reported.get("completion_tokens", 0))
    return None, None


class UsageRecorder(AsyncCallbackHandler):
    """Fills a :class:`TurnUsage` from the callbacks of every model call and tool of a run
    (the sub-agents' too: LangChain hands a run's callbacks down to its children)."""

    run_inline = True  # awaited in place, not a task per callback event
    ignore_chain = True  # only model and tool events are read: skip the graph's many chain events

    def __init__(self, usage: TurnUsage) -> None:
        self.usage = usage
        self._started: dict[uuid.UUID, float] = {}

    async def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        self._started[run_id] = time.perf_counter()

    async def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        self._started[run_id] = time.perf_counter()

    def _elapsed(self, run_id: uuid.UUID) -> float:
        started = self._started.pop(run_id, None)
        return 0.0 if started is None else time.perf_counter() - started

    async def on_llm_end(self, response: LLMResult, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        input_tokens, output_tokens = _tokens(response)
        self.usage.calls.append(ModelCall(self._elapsed(run_id), True, input_tokens, output_tokens))

    async def on_llm_error(self, error: BaseException, *, run_id: uuid.UUID, **kwargs: Any) -> None:
        self.usage.calls.append(ModelCall(self._elapsed(run_id), False))

    async def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: uuid.UUID, **kwargs: Any
    ) -> None:
        name = (serialized or {}).get("name") or kwargs.get("name") or "unknown"
        self.usage.tools.append(str(name))
