"""An OpenAI-compatible streaming stand-in for a hosted model (``POST …/v1/chat/completions``),
run as its own process by ``bench_chat.py --model hosted``.

Every call waits ``--ttft`` seconds, then streams ``--tokens`` pieces ``--gap`` seconds
apart (a tool call streams its arguments in ``--tool-pieces`` pieces instead). Two scripts:
- direct: the main agent answers at once (one call per turn);
- multi-agent (a user text containing ``예식장``): the scripted model of the tests
  (``tests/support/fakes/openai_server.py``) — main → context → map → output → answer.

``GET /stats`` answers ``{calls, nominal_seconds, overrun_max, overrun_sum}``: the model's
own time of every call (what it would take with no load anywhere), and how late this
process itself was against it (so a slow stand-in is seen, not blamed on the server).

    python scripts/bench/model_stub.py PORT [--ttft 1.0] [--tokens 20] [--gap 0.02] [--tool-pieces 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from tests.support.fakes.openai_server import FakeOpenAI, _user_text

MULTI_TRIGGER = "예식장"


class Stub:
    def __init__(self, ttft: float, tokens: int, gap: float, tool_pieces: int) -> None:
        self.ttft, self.tokens, self.gap, self.tool_pieces = ttft, tokens, gap, tool_pieces
        self.script = FakeOpenAI()
        self.calls = 0
        self.nominal = 0.0
        self.overrun_max = 0.0
        self.overrun_sum = 0.0

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        tools = {tool["function"]["name"] for tool in body.get("tools") or []}
        messages = body.get("messages") or []
        if not tools or ("call_context_agent" in tools and MULTI_TRIGGER not in _user_text(messages)):
            return {"text": "".join(f"토큰{index} " for index in range(self.tokens)), "words": True}
        try:
            return self.script.decide(body)
        except (KeyError, IndexError, ValueError, TypeError):
            return {"text": "무엇을 도와드릴까요?"}

    def pieces(self, text: str) -> list[str]:
        size = max(1, -(-len(text) // self.tokens))
        return [text[index : index + size] for index in range(0, len(text), size)] or [""]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_post("/{prefix:.*}/v1/chat/completions", self.completions)
        app.router.add_get("/stats", self.stats)
        return app

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "calls": self.calls,
                "nominal_seconds": self.nominal,
                "overrun_max": self.overrun_max,
                "overrun_sum": self.overrun_sum,
            }
        )

    async def completions(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        body = await request.json()
        step = self.decide(body)
        model = body.get("model", "gpt-bench")
        call_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if "tool" in step:
            arguments = json.dumps(step["args"], ensure_ascii=False)
            size = max(1, -(-len(arguments) // self.tool_pieces))
            parts = [arguments[index : index + size] for index in range(0, len(arguments), size)]
        else:
            parts = step["text"].split(" ")[:-1] if step.get("words") else self.pieces(step["text"])
            parts = [f"{part} " for part in parts] if step.get("words") else parts
        nominal = self.ttft + len(parts) * self.gap
        self.calls += 1
        self.nominal += nominal
        if not body.get("stream"):
            await asyncio.sleep(nominal)
            self._late(started, nominal)
            return web.json_response(self._whole(call_id, model, step))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(self.ttft)
        if "tool" in step:
            head = {"index": 0, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "function"}
            first = {**head, "function": {"name": step["tool"], "arguments": ""}}
            await self._send(response, call_id, model, {"role": "assistant", "content": None, "tool_calls": [first]})
            for part in parts:
                piece = {"tool_calls": [{"index": 0, "function": {"arguments": part}}]}
                await self._send(response, call_id, model, piece)
                await asyncio.sleep(self.gap)
            await self._send(response, call_id, model, {}, "tool_calls")
        else:
            for index, part in enumerate(parts):
                delta = {"content": part, **({"role": "assistant"} if index == 0 else {})}
                await self._send(response, call_id, model, delta)
                await asyncio.sleep(self.gap)
            await self._send(response, call_id, model, {}, "stop")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        self._late(started, nominal)
        return response

    def _late(self, started: float, nominal: float) -> None:
        late = max(0.0, time.perf_counter() - started - nominal)
        self.overrun_max = max(self.overrun_max, late)
        self.overrun_sum += late

    async def _send(
        self, response: web.StreamResponse, call_id: str, model: str, delta: dict[str, Any], finish: str | None = None
    ) -> None:
        chunk = {
            "id": call_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

    def _whole(self, call_id: str, model: str, step: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.get("text")}
        if "tool" in step:
            function = {"name": step["tool"], "arguments": json.dumps(step["args"], ensure_ascii=False)}
            message["tool_calls"] = [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function", "function": function}]
        return {
            "id": call_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if "tool" in step else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("--ttft", type=float, default=1.0, help="seconds to the first token of every call")
    parser.add_argument("--tokens", type=int, default=20, help="streamed pieces of a text answer")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between pieces")
    parser.add_argument("--tool-pieces", type=int, default=3, help="pieces of a streamed tool call's arguments")
    args = parser.parse_args()
    stub = Stub(args.ttft, args.tokens, args.gap, args.tool_pieces)
    web.run_app(stub.app(), host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=1024)


if __name__ == "__main__":
    main()
