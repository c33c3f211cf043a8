"""A minimal Socket.IO v5 client over a raw aiohttp WebSocket (Engine.IO v4, websocket
transport only, namespace "/"): far cheaper per socket than python-socketio's AsyncClient,
so one client process can hold 10,000 sockets or drive hundreds of chats without the
client's own CPU deciding the figures.

Wire format: Engine.IO ``0{open}``, ``2`` ping → ``3`` pong, ``4`` + Socket.IO packet:
``0{auth}`` connect, ``2[event, data]`` event, ``4{error}`` connect error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

Listener = Callable[[str, Any], None]


class ConnectRefused(Exception):
    pass


class RawSocket:
    def __init__(self, session: aiohttp.ClientSession, listener: Listener | None = None) -> None:
        self.session = session
        self.listener = listener
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.queues: dict[str, asyncio.Queue[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def connect(self, base_url: str, path: str = "chat", token: str | None = None, compress: bool = True) -> None:
        url = base_url.replace("http://", "ws://", 1).rstrip("/") + f"/{path}/?EIO=4&transport=websocket"
        # compress=15 offers permessage-deflate, as browsers and aiohttp clients do by default
        self.ws = await self.session.ws_connect(url, compress=15 if compress else 0, autoping=True, max_msg_size=0)
        opened = await self.ws.receive_str(timeout=60)
        if not opened.startswith("0"):
            raise ConnectRefused(f"unexpected Engine.IO open packet {opened[:40]!r}")
        auth = json.dumps({"token": token}) if token is not None else ""
        await self.ws.send_str("40" + auth)
        while True:
            reply = await self.ws.receive_str(timeout=60)
            if reply == "2":
                await self.ws.send_str("3")
                continue
            break
        if reply.startswith("44"):
            raise ConnectRefused(reply[2:])
        if not reply.startswith("40"):
            raise ConnectRefused(f"unexpected Socket.IO connect reply {reply[:40]!r}")
        self._reader = asyncio.create_task(self._read())

    @property
    def compressed(self) -> bool:
        return bool(self.ws is not None and self.ws.compress)

    def queue(self, event: str) -> asyncio.Queue[Any]:
        """Payloads of ``event`` (only events asked for are kept)."""
        return self.queues.setdefault(event, asyncio.Queue())

    async def wait(self, event: str, within: float) -> Any:
        return await asyncio.wait_for(self.queue(event).get(), within)

    async def emit(self, event: str, data: Any) -> None:
        assert self.ws is not None
        await self.ws.send_str("42" + json.dumps([event, data], ensure_ascii=False))

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                data: str = message.data
                if data == "2":
                    await self.ws.send_str("3")
                elif data.startswith("42"):
                    event, *args = json.loads(data[2:])
                    payload = args[0] if args else None
                    if self.listener is not None:
                        self.listener(event, payload)
                    queue = self.queues.get(event)
                    if queue is not None:
                        queue.put_nowait(payload)
                elif data.startswith("1") or data.startswith("41"):
                    break
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.closed.set()

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.send_str("41")
                await self.ws.close()
            except (aiohttp.ClientError, ConnectionError):
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
