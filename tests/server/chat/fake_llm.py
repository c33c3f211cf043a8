"""A fake OpenAI-compatible chat completions server on a local port: the agents run for
real (``MOCHUNG_LLM=openai:…`` with ``OPENAI_BASE_URL`` pointing here) while the model
streams a known answer slowly — long enough to cancel a turn or kill a worker mid-answer.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

ANSWER_WORDS = [f"단어{i} " for i in range(1, 13)]
MODEL_NAME = "openai:gpt-fake"


@dataclass
class FakeLlm:
    delay_seconds: float = 0.25
    words: list[str] = field(default_factory=lambda: list(ANSWER_WORDS))
    requests: int = 0
    failing: bool = False  # answer 400 (not retried by the SDK), as a provider refusing the request

    @property
    def answer(self) -> str:
        return "".join(self.words).strip()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_post("/{prefix}/v1/chat/completions", self.completions)
        return app

    async def completions(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.json()
        if self.failing:
            error = {"error": {"message": "the model refused", "type": "invalid_request_error", "code": None}}
            return web.json_response(error, status=400)
        model = body.get("model", "gpt-fake")
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(self.words)}
            return web.json_response(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(self.words), "total_tokens": 1},
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for index, word in enumerate(self.words):
            delta = {"content": word, **({"role": "assistant"} if index == 0 else {})}
            await _send(response, model, delta, None)
            await asyncio.sleep(self.delay_seconds)
        await _send(response, model, {}, "stop")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def _send(response: web.StreamResponse, model: str, delta: dict[str, str], finish: str | None) -> None:
    chunk = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())


async def start_fake_llm(fake: FakeLlm) -> TestServer:
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    return server


def unique_base_url(root: str) -> str:
    """A base URL no earlier test used: langchain-openai caches one HTTP client per base
    URL for the whole process, and a client whose event loop (an earlier test's worker
    loop) has closed cannot be reused; a port alone may be reused by the OS."""
    return f"{root.rstrip('/')}/{uuid.uuid4().hex[:12]}/v1"


def llm_env(server: TestServer) -> dict[str, str]:
    base_url = unique_base_url(str(server.make_url("/")))
    return {
        # OPENAI_API_BASE is the one langchain-openai reads itself (and keys its client cache on)
        "OPENAI_API_BASE": base_url,
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": "test-key-not-secret",
        "MOCHUNG_LLM": MODEL_NAME,
    }
