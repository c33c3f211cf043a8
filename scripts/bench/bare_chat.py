"""The bare stack server of ``bench_chat.py --model hosted``: the limit of this stack on this
machine. aiohttp + python-socketio + a bare LangChain ``create_agent`` on ``ChatOpenAI``
pointed at the model stand-in — no auth, no database, no queue, no coalescing. It speaks
the events the benchmark's client uses: ``joinRoom`` → ``session-info`` + ``roomHistory``;
``chat-message`` → ``message-accepted``, a ``message-chunk`` per token, ``newMessage``.

    python scripts/bench/bare_chat.py PORT MODEL_BASE_URL
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

import socketio
from aiohttp import web
from langchain.agents import create_agent
from langchain_core.messages import AIMessageChunk
from langchain_openai import ChatOpenAI


def build(base_url: str) -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    model = ChatOpenAI(model="gpt-bench", base_url=base_url, api_key="bench-key", streaming=True)  # type: ignore[arg-type]
    agent = create_agent(model, tools=[], system_prompt="You help couples make a wedding invitation.")

    @sio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        return None

    @sio.on("joinRoom")
    async def join_room(sid: str, data: dict[str, Any]) -> None:
        room = str(data.get("room"))
        await sio.enter_room(sid, room)
        await sio.emit("session-info", {"session_id": room, "wedding_id": None}, to=sid)
        await sio.emit("roomHistory", [], to=sid)

    async def run_turn(sid: str, room: str, message_id: str, text: str) -> None:
        ids = {"message_id": message_id, "session_id": room}
        answer: list[str] = []
        seq = 0
        async for token, _ in agent.astream({"messages": [{"role": "user", "content": text}]}, stream_mode="messages"):
            if isinstance(token, AIMessageChunk) and isinstance(token.content, str) and token.content:
                seq += 1
                answer.append(token.content)
                await sio.emit("message-chunk", {**ids, "seq": seq, "delta": token.content}, to=sid)
        message = {"type": "text", "role": "assistant", "content": "".join(answer), **ids}
        await sio.emit("newMessage", {**message, "timestamp": int(time.time() * 1000)}, to=sid)

    @sio.on("chat-message")
    async def chat_message(sid: str, data: dict[str, Any]) -> None:
        message_id = str(uuid.uuid4())
        room = str(data.get("session_id") or data.get("room"))
        await sio.emit("message-accepted", {"message_id": message_id, "session_id": room}, to=sid)
        sio.start_background_task(run_turn, sid, room, message_id, str(data.get("text")))

    app = web.Application()
    sio.attach(app, socketio_path="chat")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("model_base_url")
    args = parser.parse_args()
    web.run_app(build(args.model_base_url), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
