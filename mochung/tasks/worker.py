"""Running the chat actors: inside ``mochung serve`` (embedded mode) or as ``mochung worker``
processes (distributed mode). Both build the same broker, actors, resources and worker.

Concurrency (docs/architecture.md "Chat concurrency"): the chat actor is ``async`` and runs
on Dramatiq's one event-loop thread (the ``AsyncIO`` middleware), so every turn of a
process shares that loop and its connections. Dramatiq hands a message to a *worker
thread*, which runs the actor and acks the message when it returns; for an async actor
the thread only blocks on the coroutine's future. So the number of worker threads is the
number of turns in flight (``MOCHUNG_WORKER_CONCURRENCY``), while the CPU work of all of
them happens on the single loop. The consumer prefetches exactly that many messages:
when every slot is busy the rest stay in Redis, for another worker process to take
(back-pressure), and a message is acked only after its turn has finished.

What a worker opens for itself (:class:`ChatWorkerResources`): database, Redis, the bus
publisher, the turn store, an HTTP session and the agent runtime — once per process, on
Dramatiq's loop (asyncpg pools, aiosqlite connections and Redis clients belong to the
loop that opened them, so the worker never borrows the web process's). In embedded mode
the in-memory bus hub and turn store are *shared* objects, handed in by the web process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import aiohttp
import dramatiq
from aiohttp import web
from dramatiq import Worker
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware
from redis.asyncio import Redis
from tortoise.context import TortoiseContext

from mochung.adapters.bus import MemoryHub, RedisPublisher
from mochung.adapters.database import close_database, open_database
from mochung.adapters.redis_client import redis_client
from mochung.adapters.turns import MemoryTurnStore, RedisTurnStore
from mochung.domain.ports import Publisher, TurnStore
from mochung.metrics import Metrics, create_metrics
from mochung.settings import Settings
from mochung.tasks.broker import CHAT_QUEUE, make_broker, queue_depth
from mochung.tasks.chat import CancelWatcher, ChatActors, declare_actors
from mochung.tasks.metrics import serve_metrics
from mochung.tasks.processes import ProcessRegistry, ProcessReport, RedisProcessRegistry, Reporter, describe

if TYPE_CHECKING:  # the agents package is heavy: the worker loads it when it opens
    from mochung.agents import AgentRuntime

log = logging.getLogger("mochung.worker")
# How long an idle Redis consumer waits at most between polls: Dramatiq's default (1 s)
# would be felt on every turn of a quiet server; 25 ms costs ~40 cheap Redis calls a
# second per worker process. And how long a stopping worker lets a turn finish.
IDLE_POLL_MS = 25
STOP_TIMEOUT_MS = 30_000
# An idle worker thread wakes this often to look at its stop flag. Dramatiq uses the
# consumer's poll interval (25 ms) for it: with hundreds of threads that would be
# thousands of wake-ups a second doing nothing.
THREAD_IDLE_SECONDS = 1.0

RuntimeFactory = Callable[[Settings, aiohttp.ClientSession | None], "AgentRuntime"]


def default_runtime_factory(settings: Settings, http: aiohttp.ClientSession | None) -> AgentRuntime:
    from mochung.agents import build_runtime  # the agents package is heavy: load it in the worker only

    return build_runtime(settings, http=http)


def run_on_worker_loop(coroutine: Coroutine[Any, Any, None], when_missing: str) -> None:
    """Run ``coroutine`` on Dramatiq's event-loop thread and wait; ``when_missing`` is the
    error when that loop is not running."""
    loop_thread = get_event_loop_thread()
    if loop_thread is None:
        coroutine.close()
        raise RuntimeError(when_missing)
    loop_thread.run_coroutine(coroutine)


class SharedParts(TypedDict, total=False):
    """What the web process hands its embedded worker instead of letting it open its own:
    the in-memory bus hub and turn store (embedded mode has no Redis to share them through),
    its metrics registry and process list; tests and benchmarks also pass a runtime factory."""

    hub: MemoryHub
    turns: TurnStore
    runtime_factory: RuntimeFactory | None
    metrics: Metrics
    processes: ProcessRegistry


class ChatWorkerResources:
    """Filled by :meth:`open` on the worker's loop; read by the actor."""

    def __init__(self, settings: Settings, *, concurrency: int | None = None, **shared: Unpack[SharedParts]) -> None:
        self.settings = settings
        # embedded: the web app's registry and process list; a worker process makes its own
        self.metrics = shared.get("metrics") or create_metrics("worker")
        self._shared_processes = shared.get("processes")
        self.concurrency = concurrency or settings.worker_concurrency
        self.in_flight = 0
        self.queue_depth: Callable[[], int] = lambda: 0  # set by build_chat_worker (blocking call)
        self._reporter: Reporter | None = None
        self._metrics_server: web.AppRunner | None = None
        self._started_at = time.time()
        self._hub = shared.get("hub")
        self._shared_turns = shared.get("turns")
        self._runtime_factory = shared.get("runtime_factory") or default_runtime_factory
        self.database: TortoiseContext | None = None
        self.redis: Redis | None = None
        self.http: aiohttp.ClientSession | None = None
        self.publisher: Publisher | None = None
        self.turns: TurnStore | None = None
        self.cancels: CancelWatcher | None = None
        self.runtime: AgentRuntime | None = None
        self.open_error: BaseException | None = None

    async def open(self) -> None:
        settings = self.settings
        self.database = await open_database(settings.resolved_database_url, migrate=False, as_global=False)
        if settings.redis_url:
            # One pool for every turn of the process; sized so that each turn in flight can
            # have its call in progress without waiting for a connection.
            self.redis = redis_client(settings.redis_url, settings.worker_concurrency + 8)
            self.publisher = RedisPublisher(self.redis)
            self.turns = self._shared_turns or RedisTurnStore(self.redis, settings.chunk_retention_seconds)
        else:
            self.publisher = self._hub or MemoryHub()
            self.turns = self._shared_turns or MemoryTurnStore(settings.chunk_retention_seconds)
        self.cancels = CancelWatcher(self.turns)
        # One HTTP pool and one agent runtime (one model client) for every turn of the process.
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.llm_timeout_seconds),
            connector=aiohttp.TCPConnector(limit=settings.worker_concurrency),
        )
        self.runtime = self._runtime_factory(settings, self.http)
        processes = self._shared_processes or (
            RedisProcessRegistry(self.redis, settings.broker_namespace) if self.redis is not None else None
        )
        if processes is not None:
            self._reporter = Reporter(processes, self.describe)
            await self._reporter.start()
        log.info("chat worker resources open (%s)", settings.mode)

    def describe(self) -> ProcessReport:
        return describe(
            "worker", self.settings.mode, self._started_at, in_flight=self.in_flight, concurrency=self.concurrency
        )

    @contextlib.contextmanager
    def turn_in_flight(self) -> Iterator[None]:
        """Around each turn the actor runs (on the worker's loop)."""
        self.in_flight += 1
        self.metrics.chat_turns_in_flight.inc()
        try:
            yield
        finally:
            self.in_flight -= 1
            self.metrics.chat_turns_in_flight.dec()

    async def serve_metrics(self, port: int) -> None:
        """``GET /metrics`` of this worker process on ``MOCHUNG_METRICS_HOST:port``."""
        self._metrics_server = await serve_metrics(self.settings, self.metrics, port, self.queue_depth)

    async def close(self) -> None:
        if self._metrics_server is not None:
            await self._metrics_server.cleanup()
            self._metrics_server = None
        if self._reporter is not None:
            await self._reporter.stop()
            self._reporter = None
        if self.cancels is not None:
            await self.cancels.close()
        if self.http is not None:
            await self.http.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.database is not None:
            await close_database(self.database)
        self.database = self.redis = self.http = self.cancels = None


class WorkerLifecycle(Middleware):
    """Open the worker's resources on Dramatiq's event loop before any worker thread takes a
    message (``AsyncIO`` has started the loop by then: it must come first in the list);
    close them after the worker threads have finished their messages."""

    def __init__(self, resources: ChatWorkerResources) -> None:
        self.resources = resources
        self._heartbeat_stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        run_on_worker_loop(coroutine, "the AsyncIO middleware must come before WorkerLifecycle")

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Worker) -> None:
        try:
            self._run(self.resources.open())
        except Exception as error:  # Dramatiq would only log it: keep it for ChatWorker.start
            self.resources.open_error = error

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Worker) -> None:
        for thread in worker.workers:
            thread.timeout = THREAD_IDLE_SECONDS
        if isinstance(broker, RedisBroker):
            self._heartbeat_stop.clear()
            self._heartbeat = threading.Thread(
                target=self._beat, args=(broker,), name="mochung-worker-heartbeat", daemon=True
            )
            self._heartbeat.start()

    def _beat(self, broker: RedisBroker) -> None:
        """Keep this process's broker heartbeat fresh while every slot is busy: the Redis
        broker beats on each of its calls, and a consumer whose prefetch is full makes
        none, so turns longer than ``heartbeat_timeout`` would otherwise be taken for a
        dead worker's and run a second time elsewhere."""
        interval = max(0.05, broker.heartbeat_timeout / 1000 / 4)
        while not self._heartbeat_stop.wait(interval):
            try:
                broker.do_qsize(CHAT_QUEUE)
            except Exception as error:  # Redis hiccup: the consumer reports it; beat again soon
                log.debug("heartbeat failed: %s", type(error).__name__)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Worker) -> None:
        self._heartbeat_stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
            self._heartbeat = None
        self._run(self.resources.close())


@dataclass
class ChatWorker:
    broker: dramatiq.Broker
    actors: ChatActors
    worker: Worker
    resources: ChatWorkerResources

    @property
    def concurrency(self) -> int:
        return self.worker.worker_threads

    def start(self) -> None:
        self.worker.start()
        if self.resources.open_error is not None or self.resources.database is None:
            self.worker.stop(timeout=1000)
            raise self.resources.open_error or RuntimeError("the chat worker could not open its resources")

    def stop(self) -> None:
        self.worker.stop(timeout=STOP_TIMEOUT_MS)

    def run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` on the worker's event loop (from another thread), and wait."""
        run_on_worker_loop(coroutine, "the chat worker is not running")


def build_chat_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    **shared: Unpack[SharedParts],
) -> ChatWorker:
    """The chat worker of one process: up to ``concurrency`` turns (default
    ``MOCHUNG_WORKER_CONCURRENCY``) in flight on Dramatiq's event loop."""
    slots = concurrency or settings.worker_concurrency
    resources = ChatWorkerResources(settings, concurrency=slots, **shared)
    broker = make_broker(settings, [WorkerLifecycle(resources)])
    resources.queue_depth = lambda: queue_depth(broker)
    actors = declare_actors(broker, resources)
    worker = Worker(broker, worker_threads=slots, worker_timeout=IDLE_POLL_MS)
    # Dramatiq prefetches twice the threads; exactly as many keeps the messages this process
    # cannot start yet in Redis, where another worker process can take them.
    worker.queue_prefetch = slots
    return ChatWorker(broker=broker, actors=actors, worker=worker, resources=resources)


def serve_worker(settings: Settings, concurrency: int, index: int = 0) -> None:
    """One worker process (the ``index``-th of ``mochung worker``): run until SIGTERM or
    SIGINT, then finish the turns in hand. With ``MOCHUNG_WORKER_METRICS_PORT`` set it
    serves its metrics on that port + ``index``."""
    from mochung.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    chat_worker = build_chat_worker(settings, concurrency=concurrency)
    chat_worker.start()
    if settings.worker_metrics_port is not None:
        port = settings.worker_metrics_port + index
        chat_worker.run(chat_worker.resources.serve_metrics(port))
        log.info("worker metrics on http://%s:%d/metrics", settings.metrics_host, port)
    log.info("chat worker running (%s, %d turns at once)", settings.mode, concurrency)
    stop.wait()
    log.info("chat worker stopping")
    chat_worker.stop()


def _child(settings: Settings, concurrency: int, index: int) -> None:
    try:
        serve_worker(settings, concurrency, index)
    except Exception as error:  # one readable line, like the parent's `run_or_fail`
        print(f"error: {getattr(error, 'message', None) or error}", file=sys.stderr, flush=True)
        sys.exit(1)


def run_workers(settings: Settings, processes: int, concurrency: int) -> int:
    """``mochung worker``: one process runs in place; more are spawned and supervised."""
    if processes <= 1:
        serve_worker(settings, concurrency)
        return 0
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited loops or sockets
    children = [
        context.Process(target=_child, args=(settings, concurrency, index), daemon=False) for index in range(processes)
    ]
    for child in children:
        child.start()
    stopping = threading.Event()

    def forward(signum: int, _frame: Any) -> None:
        stopping.set()
        for child in children:
            if child.pid is not None and child.is_alive():
                child.terminate()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    # One child failing (bad settings, database unreachable) stops the whole group: a
    # supervisor (systemd, Procfile runner) then sees the failure and restarts it.
    while any(child.is_alive() for child in children):
        failed = [child for child in children if child.exitcode not in (None, 0, -signal.SIGTERM)]
        if failed and not stopping.is_set():
            log.error("a worker process exited with %s; stopping the others", failed[0].exitcode)
            forward(signal.SIGTERM, None)
        time.sleep(0.2)
    failed_codes = [child.exitcode for child in children if child.exitcode not in (0, -signal.SIGTERM)]
    return 1 if failed_codes else 0
