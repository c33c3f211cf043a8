"""A Socket.IO test client that speaks PROTOCOL.md the way the frontend does, and waits for
events with generous bounds (never timed assertions)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

import socketio

EVENTS = (
    "session-info",
    "roomHistory",
    "message-accepted",
    "message-chunk",
    "newMessage",
    "message-error",
    "pong",
    "health",
)
WAIT_SECONDS = 30.0


class ChatClient:
    """One socket. ``style`` is "path" (``io(URL, {path: '/chat'})``) or "namespace"
    (``io(URL + '/chat')``, default path)."""

    def __init__(self, base_url: str, style: str = "path") -> None:
        self.base_url = base_url
        self.style = style
        self.namespace = "/" if style == "path" else "/chat"
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self.order: list[tuple[str, Any]] = []
        self.connect_error: Any = None
        self._changed = asyncio.Event()
        for event in EVENTS:
            self.sio.on(event, self._recorder(event), namespace=self.namespace)
        self.sio.on("connect_error", self._on_connect_error, namespace=self.namespace)

    def _recorder(self, event: str) -> Any:
        async def record(data: Any = None) -> None:
            self.events[event].append(data)
            self.order.append((event, data))
            self._changed.set()

        return record

    async def _on_connect_error(self, data: Any = None) -> None:
        self.connect_error = data
        self._changed.set()

    async def connect(self, token: str | None, *, via: str = "auth") -> None:
        url = self.base_url
        auth = None
        headers: dict[str, str] = {}
        if token is not None:
            if via == "auth":
                auth = {"token": token}
            elif via == "query":
                url = f"{url}?token={token}"
            else:
                headers["Authorization"] = f"Bearer {token}"
        path = "chat" if self.style == "path" else "socket.io"
        await self.sio.connect(
            url,
            auth=auth,
            headers=headers,
            namespaces=[self.namespace],
            socketio_path=path,
            transports=["websocket"],
            wait_timeout=10,
        )

    async def emit(self, event: str, data: Any = None) -> None:
        await self.sio.emit(event, data, namespace=self.namespace)

    async def wait_for(self, event: str, count: int = 1, **match: Any) -> list[Any]:
        """The first ``count`` payloads of ``event`` (matching ``match`` fields)."""

        def found() -> list[Any]:
            return [p for p in self.events[event] if all(_field(p, k) == v for k, v in match.items())]

        async def until() -> list[Any]:
            while len(found()) < count:
                self._changed.clear()
                await self._changed.wait()
            return found()[:count]

        return await asyncio.wait_for(until(), WAIT_SECONDS)

    async def settle(self) -> None:
        """Let in-flight events arrive: a ping's pong comes after anything sent before it."""
        before = len(self.events["pong"])
        await self.emit("ping")
        await self.wait_for("pong", count=before + 1)

    async def join(self, room: str, user_id: str, **extra: Any) -> dict[str, Any]:
        before = len(self.events["session-info"])
        await self.emit("joinRoom", {"room": room, "userId": user_id, **extra})
        infos = await self.wait_for("session-info", count=before + 1)
        await self.wait_for("roomHistory", count=before + 1)
        return infos[-1]

    async def send(self, session_id: str, room: str, user_id: str, text: str) -> str:
        before = len(self.events["message-accepted"])
        await self.emit(
            "chat-message",
            {"text": text, "session_id": session_id, "room": room, "userId": user_id, "timestamp": 0},
        )
        accepted = await self.wait_for("message-accepted", count=before + 1)
        return str(accepted[-1]["message_id"])

    async def answer(self, message_id: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait for ``count`` answers (newMessage) of the turn; return every answer so far."""
        await self.wait_for("newMessage", count=count, message_id=message_id, role="assistant")
        await self.settle()
        return self.answers(message_id)

    async def turn(self, user_id: str, text: str, **join_extra: Any) -> tuple[str, str]:
        """One whole turn in a new room: join, send ``text``, wait for the answer; the
        session's id and the turn's message id."""
        room = new_room()
        session_id = (await self.join(room, user_id, **join_extra))["session_id"]
        message_id = await self.send(session_id, room, user_id, text)
        await self.answer(message_id)
        return session_id, message_id

    def answers(self, message_id: str) -> list[dict[str, Any]]:
        return [m for m in self.events["newMessage"] if m["message_id"] == message_id and m["role"] == "assistant"]

    def chunks(self, message_id: str) -> list[dict[str, Any]]:
        return [c for c in self.events["message-chunk"] if c["message_id"] == message_id]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


def _field(payload: Any, key: str) -> Any:
    return payload.get(key) if isinstance(payload, dict) else None


def new_room() -> str:
    return f"room-{uuid.uuid4().hex[:12]}"
