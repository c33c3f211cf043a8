"""The bare Socket.IO server of ``bench_sockets.py``: aiohttp + python-socketio, no auth,
no database — connect, ``joinRoom`` (enter the room, answer ``session-info`` and an empty
``roomHistory``). ``--no-compression`` refuses permessage-deflate the way mochung does.

    python scripts/bench/bare_sockets.py PORT [--no-compression]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as engineio_aiohttp


class PlainWebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]
    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(environ["aiohttp.request"])
        self.environ = environ
        await self.handler(self)
        return self._sock


def build(compression: bool) -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", http_compression=compression)
    if not compression:
        sio.eio._async = {**sio.eio._async, "websocket": PlainWebSocket}

    @sio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        return None

    @sio.on("joinRoom")
    async def join_room(sid: str, data: Any) -> None:
        room = str(data.get("room")) if isinstance(data, dict) else "room"
        await sio.enter_room(sid, f"chat:{room}")
        await sio.emit("session-info", {"session_id": room, "wedding_id": None}, to=sid)
        await sio.emit("roomHistory", [], to=sid)

    app = web.Application()
    sio.attach(app, socketio_path="chat")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    web.run_app(build(not args.no_compression), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
