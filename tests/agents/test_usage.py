"""The usage recorder: each model call's latency, outcome and tokens (when the provider
reports them), and each tool, from LangChain's callbacks."""

from __future__ import annotations

import uuid

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from mochung.agents.usage import ModelCall, TurnUsage, UsageRecorder


async def test_tokens_latency_errors_and_tools_are_recorded() -> None:
    usage = TurnUsage()
    recorder = UsageRecorder(usage)
    reported, silent, failed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for run_id in (reported, silent, failed):
        await recorder.on_chat_model_start({}, [[]], run_id=run_id)
    message = AIMessage("안녕", usage_metadata={"input_tokens": 12, "output_tokens": 5, "total_tokens": 17})
    await recorder.on_llm_end(LLMResult(generations=[[ChatGeneration(message=message)]]), run_id=reported)
    await recorder.on_llm_end(LLMResult(generations=[[ChatGeneration(message=AIMessage("x"))]]), run_id=silent)
    await recorder.on_llm_error(RuntimeError("down"), run_id=failed)
    await recorder.on_tool_start({"name": "get_wedding_info"}, "{}", run_id=uuid.uuid4())
    # an OpenAI-style llm_output is read too
    openai = uuid.uuid4()
    await recorder.on_chat_model_start({}, [[]], run_id=openai)
    legacy = LLMResult(
        generations=[[ChatGeneration(message=AIMessage("y"))]],
        llm_output={"token_usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    )
    await recorder.on_llm_end(legacy, run_id=openai)

    assert [(c.ok, c.input_tokens, c.output_tokens) for c in usage.calls] == [
        (True, 12, 5),
        (True, None, None),
        (False, None, None),
        (True, 3, 2),
    ]
    assert all(isinstance(c, ModelCall) and c.seconds >= 0 for c in usage.calls)
    assert usage.tools == ["get_wedding_info"]
