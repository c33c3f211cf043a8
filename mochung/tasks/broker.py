"""The Dramatiq broker, built from settings: Redis in distributed mode, the StubBroker in
embedded mode. Nothing here runs at import time and no global broker is set: the actors
are declared on the broker returned by :func:`make_broker` (see ``mochung.tasks.chat``).
"""

from __future__ import annotations

import dramatiq
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware, default_middleware

from mochung.settings import Settings

CHAT_QUEUE = "chat"
# Dramatiq requeues a dead worker's unacked messages during "maintenance", which runs on
# a random 0.1% of broker calls by default: minutes for a chat turn. 10% of calls keeps
# redelivery close to the heartbeat timeout at the cost of a cheap sorted-set lookup.
MAINTENANCE_CHANCE = MAINTENANCE_SCALE // 10
# A worker thread running an async actor blocks on the coroutine's future and wakes this
# often only to notice an asynchronous interrupt (the actor's time limit). Dramatiq's 0.1 s
# means thousands of wake-ups a second with hundreds of turns in flight, each taking the
# GIL from the event loop; a time limit noticed within a second is as good.
INTERRUPT_CHECK_SECONDS = 1.0


class TurnLoop(AsyncIO):
    """Dramatiq's ``AsyncIO`` middleware (one event-loop thread for every async actor of the
    process), with worker threads that wake rarely while they wait for their turn."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        event_loop_thread = EventLoopThread(self.logger, interrupt_check_ival=INTERRUPT_CHECK_SECONDS)
        event_loop_thread.start(timeout=1.0)
        set_event_loop_thread(event_loop_thread)


def make_broker(settings: Settings, extra_middleware: list[Middleware] | None = None) -> dramatiq.Broker:
    """A fresh broker with the default middleware, ``AsyncIO`` (async actors) and ``extra``."""
    middleware: list[Middleware] = [kind() for kind in default_middleware]
    middleware.append(TurnLoop())
    middleware.extend(extra_middleware or [])
    if settings.redis_url:
        return RedisBroker(  # type: ignore[no-untyped-call]  # dramatiq's RedisBroker.__init__ has no annotations
            url=settings.redis_url,
            namespace=settings.broker_namespace,
            heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
            maintenance_chance=MAINTENANCE_CHANCE,
            middleware=middleware,
        )
    # Actor errors are handled (and reported to the client) inside the actor; fail_fast
    # only matters to StubBroker.join, which the server never calls.
    return StubBroker(middleware=middleware)


def broker_kind(broker: dramatiq.Broker) -> str:
    return "redis" if isinstance(broker, RedisBroker) else "stub"


def queue_depth(broker: dramatiq.Broker, queue_name: str = CHAT_QUEUE) -> int:
    """Messages waiting or in flight on ``queue_name`` (blocking call on Redis)."""
    if isinstance(broker, RedisBroker):
        return int(broker.do_qsize(queue_name))
    if isinstance(broker, StubBroker):
        queue = broker.queues.get(queue_name)
        return queue.qsize() if queue is not None else 0
    return 0
