"""A fake OpenAI-compatible chat completions server (``POST /v1/chat/completions``).

It plays a scripted model, independent of the offline model: it recognises which agent is
calling by the tools offered, and answers with streamed tool calls (SSE, arguments split
over several chunks, as OpenAI does) or streamed text. The script answers "where is the
venue?" the way a hosted model would: main → context agent (get_wedding_info) → map agent
(search_place) → output agent (make_suggestions) → a final answer built from what the tools
returned. Every request body is kept in ``requests`` for the test to inspect.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def _tool_results(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]


def _user_text(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    content = users[-1].get("content") if users else ""
    return content if isinstance(content, str) else json.dumps(content)


@dataclass
class FakeOpenAI:
    requests: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    # the verdict it gives when asked for structured output (an LLM-as-judge prompt)
    judge_score: bool | float = True
    delay_seconds: float = 0.0  # before each answer, as a hosted model takes its time

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        return app

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        """``{"tool": name, "args": {...}}`` or ``{"text": ...}`` for this request."""
        if body.get("response_format"):  # a judge asking for {"reasoning", "score"} as JSON
            reasoning = "The trajectory reaches the answer as the reference does."
            verdict = {"reasoning": reasoning, "score": self.judge_score}
            return {"text": json.dumps(verdict)}
        tools = {tool["function"]["name"] for tool in body.get("tools") or []}
        messages = body.get("messages") or []
        results = _tool_results(messages)
        if "call_context_agent" in tools:  # the main agent
            if len(results) == 0:
                return {"tool": "call_context_agent", "args": {"request": "the venue name and address"}}
            if len(results) == 1:
                place = json.loads(results[0]).get("place_name", "")
                return {"tool": "call_map_agent", "args": {"request": f'Find "{place}" and give directions'}}
            if len(results) == 2:
                return {"tool": "call_output_agent", "args": {"request": "suggest two follow-up questions in Korean"}}
            found = json.loads(results[1])["places"][0]
            return {"text": f"예식장은 {found['name']}입니다. 카카오맵: {found['links']['kakao']}"}
        if "get_wedding_info" in tools:  # the context agent
            if not results:
                return {"tool": "get_wedding_info", "args": {}}
            return {"text": results[0]}
        if "search_place" in tools:  # the map agent
            if not results:
                query = re.search(r'"([^"]+)"', _user_text(messages))
                return {"tool": "search_place", "args": {"query": query[1] if query else "venue"}}
            return {"text": results[0]}
        if "make_suggestions" in tools:  # the output agent
            if not results:
                suggestions = [
                    {"displayText": "주차 안내", "value": "주차할 수 있어요?"},
                    {"displayText": "예식 시간", "value": "몇 시에 시작해요?"},
                ]
                return {"tool": "make_suggestions", "args": {"suggestions": suggestions}}
            return {"text": "created AgentSuggestMessage"}
        return {"text": "hello"}

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        self.requests.append(body)
        self.calls += 1
        step = self.decide(body)
        if not body.get("stream"):
            return web.json_response(self._whole(body, step))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for delta, finish in self._deltas(step):
            chunk = {
                "id": f"chatcmpl-{self.calls}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.get("model", "gpt-4o-mini"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _deltas(self, step: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
        if "tool" in step:
            arguments = json.dumps(step["args"], ensure_ascii=False)
            third = max(1, len(arguments) // 3)
            pieces = [arguments[i : i + third] for i in range(0, len(arguments), third)]
            call_id = f"call_{self.calls}"
            first = {"index": 0, "id": call_id, "type": "function", "function": {"name": step["tool"], "arguments": ""}}
            deltas: list[tuple[dict[str, Any], str | None]] = [
                ({"role": "assistant", "content": None, "tool_calls": [first]}, None)
            ]
            deltas += [({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, None) for piece in pieces]
            return [*deltas, ({}, "tool_calls")]
        words = re.findall(r"\S+\s*", step["text"])
        deltas = [({"role": "assistant", "content": ""}, None)]
        deltas += [({"content": word}, None) for word in words]
        return [*deltas, ({}, "stop")]

    def _whole(self, body: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.get("text")}
        if "tool" in step:
            message["tool_calls"] = [
                {
                    "id": f"call_{self.calls}",
                    "type": "function",
                    "function": {"name": step["tool"], "arguments": json.dumps(step["args"], ensure_ascii=False)},
                }
            ]
        return {
            "id": f"chatcmpl-{self.calls}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if "tool" in step else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
