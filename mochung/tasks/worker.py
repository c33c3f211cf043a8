"""Running the chat actors: inside ``mochung serve`` (embedded mode) or as ``mochung worker``
processes (distributed mode). Both build the same broker, actors and resources.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Worker

from mochung.adapters.bus import MemoryHub
from mochung.domain.ports import TurnStore
from mochung.settings import Settings
from mochung.tasks.broker import make_broker
from mochung.tasks.chat import ChatActors, declare_actors
from mochung.tasks.resources import ChatWorkerResources, RuntimeFactory, WorkerLifecycle

log = logging.getLogger("mochung.worker")
# How long an idle Redis consumer waits at most between polls: Dramatiq's default (1 s)
# would be felt on every turn of a quiet server; 25 ms costs ~40 cheap Redis calls a
# second per worker process. And how long a stopping worker lets a turn finish.
IDLE_POLL_MS = 25
STOP_TIMEOUT_MS = 30_000


@dataclass
class ChatWorker:
    broker: dramatiq.Broker
    actors: ChatActors
    worker: Worker
    resources: ChatWorkerResources

    def start(self) -> None:
        self.worker.start()
        if self.resources.open_error is not None or self.resources.database is None:
            self.worker.stop(timeout=1000)
            raise self.resources.open_error or RuntimeError("the chat worker could not open its resources")

    def stop(self) -> None:
        self.worker.stop(timeout=STOP_TIMEOUT_MS)


def build_chat_worker(
    settings: Settings,
    *,
    threads: int | None = None,
    hub: MemoryHub | None = None,
    turns: TurnStore | None = None,
    runtime_factory: RuntimeFactory | None = None,
) -> ChatWorker:
    resources = ChatWorkerResources(settings, hub=hub, turns=turns, runtime_factory=runtime_factory)
    broker = make_broker(settings, [WorkerLifecycle(resources)])
    actors = declare_actors(broker, resources)
    worker = Worker(broker, worker_threads=threads or settings.worker_threads, worker_timeout=IDLE_POLL_MS)
    return ChatWorker(broker=broker, actors=actors, worker=worker, resources=resources)


def serve_worker(settings: Settings, threads: int) -> None:
    """One worker process: run until SIGTERM or SIGINT, then finish the turns in hand."""
    from mochung.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    chat_worker = build_chat_worker(settings, threads=threads)
    chat_worker.start()
    log.info("chat worker running (%s, %d threads)", settings.mode, threads)
    stop.wait()
    log.info("chat worker stopping")
    chat_worker.stop()


def _child(settings: Settings, threads: int) -> None:
    try:
        serve_worker(settings, threads)
    except Exception as error:  # one readable line, like the parent's `run_or_fail`
        print(f"error: {getattr(error, 'message', None) or error}", file=sys.stderr, flush=True)
        sys.exit(1)


def run_workers(settings: Settings, processes: int, threads: int) -> int:
    """``mochung worker``: one process runs in place; more are spawned and supervised."""
    if processes <= 1:
        serve_worker(settings, threads)
        return 0
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited loops or sockets
    children = [context.Process(target=_child, args=(settings, threads), daemon=False) for _ in range(processes)]
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
