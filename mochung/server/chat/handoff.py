"""What the gateway and the agent endpoint use to hand a turn to the workers
(``app[keys.CHAT]``, set by the realtime cleanup context), and :func:`hand_off`, the one
way a user's message becomes a turn: store → enqueue → accept."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

import dramatiq
import socketio
from dramatiq.brokers.stub import StubBroker

from mochung.adapters.bus import channel_for
from mochung.domain import chat
from mochung.domain.chat import now_ms
from mochung.domain.errors import DependencyDown
from mochung.domain.models import User
from mochung.domain.ports import Publisher, TurnStore
from mochung.server.chat.relay import Relay
from mochung.tasks.chat import ChatActors, event_message
from mochung.tasks.worker import ChatWorker

log = logging.getLogger("mochung.gateway")
NAMESPACES = ("/", "/chat")


class LazyWorker:
    """The embedded chat worker, started by the first turn rather than with the app: an app
    (a test) that never chats never starts Dramatiq's threads. ``mochung serve`` starts it
    right after start-up instead (``cli/serve.py``), so its first turn does not wait."""

    def __init__(self, chat_worker: ChatWorker) -> None:
        self.chat_worker = chat_worker
        self.started = False
        self._lock = asyncio.Lock()

    async def ensure_started(self) -> None:
        if self.started:
            return
        async with self._lock:
            if not self.started:
                await asyncio.to_thread(self.chat_worker.start)
                self.started = True

    async def stop(self) -> None:
        async with self._lock:
            if self.started:
                await asyncio.to_thread(self.chat_worker.stop)
                self.started = False


@dataclass
class ChatServices:
    broker: dramatiq.Broker
    actors: ChatActors
    publisher: Publisher
    turns: TurnStore
    relay: Relay
    embedded_worker: LazyWorker | None = None

    async def start_worker(self) -> None:
        """Start what runs this process's turns ahead of the first one: the embedded worker;
        nothing in distributed mode, whose turns run in `mochung worker` processes."""
        if self.embedded_worker is not None:
            await self.embedded_worker.ensure_started()

    async def enqueue(self, message_id: uuid.UUID) -> None:
        if self.embedded_worker is not None:
            await self.embedded_worker.ensure_started()
        send = self.actors.process_chat_message.send
        if isinstance(self.broker, StubBroker):
            send(str(message_id))
        else:  # the Redis broker's client is synchronous: keep it off the event loop
            await asyncio.to_thread(send, str(message_id))

    async def publish_cancelled(self, session_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """Tell every socket of the session that a queued turn was cancelled."""
        message = event_message(
            "error", str(session_id), str(message_id), 0, content="cancelled", details="the turn was cancelled"
        )
        await self.publisher.publish(channel_for(str(session_id)), message)


@dataclass(frozen=True)
class Sender:
    """The socket a message came from: it gets ``message-accepted`` and no ``newMessage``."""

    namespace: str
    sid: str


async def hand_off(
    services: ChatServices,
    sio: socketio.AsyncServer,
    session_id: uuid.UUID,
    text: str,
    sender: Sender | None = None,
    posted_by: User | None = None,
) -> uuid.UUID:
    """Store the user's message and its queued run, enqueue the turn, then tell the room.

    The message is stored first, so it is never lost; if the queue refuses the turn, the
    run is marked failed (the message stays) and the caller is told the queue is down.
    ``posted_by``: the admin or service posting through the agent endpoint (audited).
    Returns the turn's ``message_id``."""
    accepted = await chat.accept_user_message(session_id, text, posted_by)
    message_id = accepted.message.message_id
    try:
        await services.enqueue(message_id)
    except Exception as error:
        log.error("could not enqueue turn %s: %s", message_id, type(error).__name__)
        await chat.abandon_run(message_id, "the queue is unavailable")
        raise DependencyDown("the chat queue is unavailable; try again") from error
    ids = {"message_id": str(message_id), "session_id": str(session_id)}
    if sender is not None:
        await sio.emit("message-accepted", ids, to=sender.sid, namespace=sender.namespace)
    user_message = {
        "type": "text",
        "role": "user",
        "content": text,
        **ids,
        "id": str(accepted.message.id),
        "timestamp": now_ms(),
    }
    for namespace in NAMESPACES:  # the room's other sockets, in every process
        skip = sender.sid if sender is not None and sender.namespace == namespace else None
        await sio.emit("newMessage", user_message, room=f"chat:{session_id}", skip_sid=skip, namespace=namespace)
    return message_id
