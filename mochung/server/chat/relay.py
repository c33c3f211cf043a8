"""The relay: bus events of ``chat:{session_id}`` → this process's own sockets in that session.

- Subscribes to a session's channel on the first local join and unsubscribes after the
  last local leave (never a pattern subscription: a process decodes only its sessions).
- Emits to local sockets only (``ignore_queue=True``): every web process relays to its
  own sockets, so with the Socket.IO Redis manager nothing is sent twice.
- A socket that joins is first *catching up*: events are buffered for it while the
  gateway sends ``roomHistory`` and any resumed chunks, then drained, then it goes live.
  Per socket, a chunk with a seq it already has and the events of a turn whose answer it
  already got in ``roomHistory`` are dropped — so a resume has no gap and no duplicate.

Also the registry of live sockets per session that the admin screens read
(``app[keys.LIVE_SOCKETS]``: ``live_sockets(session_id)``, ``total()``, ``per_room()``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from mochung.adapters.bus import channel_for
from mochung.aio import cancel_and_wait
from mochung.domain.ports import Message, Subscriber

log = logging.getLogger("mochung.relay")
SocketKey = tuple[str, str]  # (namespace, sid)


@dataclass
class LocalSocket:
    namespace: str
    sid: str
    session_id: str
    live: bool = False
    buffer: list[Message] = field(default_factory=list)
    suppressed: set[str] = field(default_factory=set)  # turns whose answer this socket already has
    floors: dict[str, int] = field(default_factory=dict)  # turn → last chunk seq this socket has

    def wants(self, message: Message) -> bool:
        """Whether ``message`` is news to this socket (and note it as delivered)."""
        meta = message.get("metadata") or {}
        turn = str(meta.get("message_id", ""))
        kind = message.get("type")
        if kind == "done":
            self.floors.pop(turn, None)
            self.suppressed.discard(turn)
            return False
        if turn in self.suppressed:
            return False
        if kind == "chunk":
            seq = int(meta.get("seq", 0))
            if seq <= self.floors.get(turn, 0):
                return False
            self.floors[turn] = seq
        return True


def socket_event(message: Message) -> tuple[str, dict[str, Any]] | None:
    """The Socket.IO event for a bus message (PROTOCOL.md "Redis"), or None."""
    meta = message.get("metadata") or {}
    kind = message.get("type")
    turn = {"message_id": meta.get("message_id"), "session_id": meta.get("session_id")}
    if kind == "chunk":
        return "message-chunk", {**turn, "seq": meta.get("seq"), "delta": message.get("content") or ""}
    if kind in ("text", "component"):
        payload = {
            "type": kind,
            "role": "assistant",
            "content": message.get("content"),
            "component": message.get("component"),
            **turn,
            "timestamp": meta.get("timestamp"),
        }
        if meta.get("id"):
            payload["id"] = meta["id"]
        return "newMessage", payload
    if kind == "error":
        error = {"error": message.get("content") or "error", "details": meta.get("details"), **turn}
        error.pop("session_id")
        return "message-error", error
    return None


class Relay:
    def __init__(self, sio: socketio.AsyncServer, subscriber_factory: Callable[[Callable[..., None]], Subscriber]):
        self._sio = sio
        self._subscriber = subscriber_factory(self.receive)
        self._sessions: dict[str, dict[SocketKey, LocalSocket]] = {}
        self._rooms: dict[str, str] = {}  # session id → room name
        self._joined: dict[SocketKey, set[str]] = {}  # socket → its session ids
        self._inbox: asyncio.Queue[tuple[str, Message]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None

    @property
    def subscriber(self) -> Subscriber:
        return self._subscriber

    async def start(self) -> None:
        await self._subscriber.start()
        self._pump = asyncio.create_task(self._deliver(), name="mochung-relay")

    async def stop(self) -> None:
        await cancel_and_wait(self._pump)
        await self._subscriber.stop()

    # -- registry (read by the admin screens; this process's sockets only) ------------
    def live_sockets(self, session_id: str) -> int:
        """Sockets of this process joined to ``session_id``."""
        return len(self._sessions.get(str(session_id), {}))

    def total(self) -> int:
        """Sockets of this process joined to any session."""
        return sum(len(sockets) for sockets in self._sessions.values())

    def per_room(self) -> dict[str, int]:
        """Room name → sockets of this process joined to it."""
        return {self._rooms[s]: len(sockets) for s, sockets in self._sessions.items() if s in self._rooms}

    def per_session(self) -> dict[str, int]:
        return {session_id: len(sockets) for session_id, sockets in self._sessions.items()}

    # -- joining ---------------------------------------------------------------------
    async def join(self, namespace: str, sid: str, session_id: str, room: str) -> LocalSocket:
        """Register a socket (catching up) and return once its session's events flow."""
        self._rooms[session_id] = room
        sockets = self._sessions.setdefault(session_id, {})
        local = sockets.get((namespace, sid))
        if local is None or local.live:
            local = sockets[(namespace, sid)] = LocalSocket(namespace, sid, session_id)
        self._joined.setdefault((namespace, sid), set()).add(session_id)
        # Returns once the subscription is confirmed (also when another socket asked for it
        # first, or while the subscriber resubscribes after a Redis restart).
        await self._subscriber.subscribe(channel_for(session_id))
        return local

    async def go_live(self, local: LocalSocket) -> None:
        """Send what arrived while the socket caught up, then relay to it directly."""
        while local.buffer:
            message = local.buffer.pop(0)
            if local.wants(message):
                await self._emit(local, message)
        local.live = True

    async def leave(self, namespace: str, sid: str, session_id: str) -> None:
        joined = self._joined.get((namespace, sid))
        if joined is not None:
            joined.discard(session_id)
            if not joined:
                del self._joined[(namespace, sid)]
        sockets = self._sessions.get(session_id)
        if sockets is None or sockets.pop((namespace, sid), None) is None:
            return
        if not sockets:
            del self._sessions[session_id]
            self._rooms.pop(session_id, None)
            await self._subscriber.unsubscribe(channel_for(session_id))

    async def leave_all(self, namespace: str, sid: str) -> None:
        for session_id in list(self._joined.get((namespace, sid), ())):
            await self.leave(namespace, sid, session_id)

    # -- delivery ----------------------------------------------------------------------
    def receive(self, channel: str, message: Message) -> None:
        """Called by the subscriber on this loop; delivery keeps the order of arrival."""
        self._inbox.put_nowait((channel, message))

    async def _deliver(self) -> None:
        while True:
            channel, message = await self._inbox.get()
            session_id = channel.removeprefix("chat:")
            for local in list(self._sessions.get(session_id, {}).values()):
                try:
                    if not local.live:
                        local.buffer.append(message)
                    elif local.wants(message):
                        await self._emit(local, message)
                except Exception:  # one broken socket must not stop the relay
                    log.exception("could not relay to socket %s", local.sid)

    async def _emit(self, local: LocalSocket, message: Message) -> None:
        event = socket_event(message)
        if event is not None:
            name, payload = event
            await self._sio.emit(name, payload, to=local.sid, namespace=local.namespace, ignore_queue=True)
