"""What the gateway and the agent endpoint use to hand a turn to the workers
(``app[keys.CHAT]``, set by the realtime cleanup context)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.stub import StubBroker

from mochung.adapters.bus import channel_for
from mochung.domain.ports import Publisher, TurnStore
from mochung.server.chat.relay import Relay
from mochung.tasks.chat import ChatActors, event_message
from mochung.tasks.worker import ChatWorker


class LazyWorker:
    """The embedded chat worker, started on the first turn rather than with the app: a
    process (or a test) that never chats never starts Dramatiq's threads."""

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
