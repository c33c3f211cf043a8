"""What the gateway and the agent endpoint use to hand a turn to the workers
(``app[keys.CHAT]``, set by the realtime cleanup context)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.stub import StubBroker

from mochung.adapters.bus import Publisher, channel_for
from mochung.adapters.chunks import TurnStore
from mochung.server.relay import Relay
from mochung.tasks.chat import ChatActors, event_message


@dataclass
class ChatServices:
    broker: dramatiq.Broker
    actors: ChatActors
    publisher: Publisher
    turns: TurnStore
    relay: Relay

    async def enqueue(self, message_id: uuid.UUID) -> None:
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
