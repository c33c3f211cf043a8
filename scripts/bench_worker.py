#!/usr/bin/env python
"""Worker benchmark (not a test): CPU ms per chat turn and turns/s of one chat worker, in
process, with the offline model (or any ``MOCHUNG_LLM``). The turns are stored through the
domain, enqueued on the embedded broker (or Redis with ``--redis``), and run by the same
worker `mochung serve` / `mochung worker` build; a subscriber counts the published events.

    .venv/bin/python scripts/bench_worker.py --turns 200
    .venv/bin/python scripts/bench_worker.py --turns 200 --profile /tmp/worker.html   # pyinstrument
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mochung.adapters.bus import MemoryHub, channel_for  # noqa: E402
from mochung.adapters.database import close_database, open_database  # noqa: E402
from mochung.adapters.turns import MemoryTurnStore  # noqa: E402
from mochung.domain import chat, rooms  # noqa: E402
from mochung.domain.models import AgentRun, RunStatus, User  # noqa: E402
from mochung.settings import Settings  # noqa: E402
from mochung.tasks.worker import build_chat_worker  # noqa: E402

TEXT = "예식장 위치 알려주세요"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def seed(url: str, turns: int) -> list[tuple[str, str]]:
    context = await open_database(url, migrate=True, as_global=True)
    try:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        user = await User.create(email=email, email_key=email, password_hash="!")
        made = []
        for index in range(turns):
            session = (await rooms.join_session(user, f"room-{index}")).session
            accepted = await chat.accept_user_message(session, TEXT)
            made.append((str(session.id), str(accepted.message.message_id)))
        return made
    finally:
        await close_database(context)


async def finished(url: str) -> dict[str, int]:
    context = await open_database(url, migrate=False, as_global=True)
    try:
        counts = {}
        for status in RunStatus:
            counts[status.value] = await AgentRun.filter(status=status).count()
        return counts
    finally:
        await close_database(context)


def on_loop(function: Any) -> None:
    from dramatiq.asyncio import get_event_loop_thread

    loop_thread = get_event_loop_thread()
    assert loop_thread is not None
    ran = threading.Event()
    loop_thread.loop.call_soon_threadsafe(lambda: (function(), ran.set()))
    ran.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=None, help="default: the setting's default")
    parser.add_argument("--profile", help="write a pyinstrument HTML profile of the run here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mochung-bench-worker-") as folder:
        overrides: dict[str, Any] = {"data_dir": Path(folder), "log_format": "text", "log_level": "WARNING"}
        if args.concurrency:
            field = "worker_concurrency" if "worker_concurrency" in Settings.model_fields else "worker_threads"
            overrides[field] = args.concurrency
        settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
        url = settings.resolved_database_url
        made = asyncio.run(seed(url, args.turns))

        hub = MemoryHub()
        turns_store = MemoryTurnStore(settings.chunk_retention_seconds)
        done = threading.Event()
        counts = {"chunk": 0, "done": 0, "other": 0}
        lock = threading.Lock()

        def receive(channel: str, message: dict[str, Any]) -> None:
            with lock:
                kind = message["type"]
                counts[kind if kind in counts else "other"] += 1
                if counts["done"] >= len(made):
                    done.set()

        listener_loop = asyncio.new_event_loop()
        threading.Thread(target=listener_loop.run_forever, daemon=True).start()
        for session_id, _ in made:
            hub.add(channel_for(session_id), listener_loop, receive)

        worker = build_chat_worker(settings, hub=hub, turns=turns_store)
        worker.start()
        profiler: Any = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled", interval=0.0005)
        try:
            import mochung.agents  # noqa: F401  (loaded before timing, as `serve` warms it up)

            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            if profiler:  # the turns run on Dramatiq's event-loop thread: profile that thread
                on_loop(profiler.start)
            for _, message_id in made:
                worker.actors.process_chat_message.send(message_id)
            if not done.wait(600):
                raise SystemExit(f"timed out: {counts}")
            wall = time.perf_counter() - wall0
            cpu = cpu_seconds() - cpu0
            if profiler:
                on_loop(profiler.stop)
        finally:
            worker.stop()
        statuses = asyncio.run(finished(url))
    print(
        f"{len(made)} turns in {wall:.2f} s: {len(made) / wall:.1f} turns/s, "
        f"CPU {cpu * 1000 / len(made):.1f} ms/turn; chunks published {counts['chunk']} "
        f"({counts['chunk'] / len(made):.1f}/turn); runs {statuses}"
    )
    if profiler:
        Path(args.profile).write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
    os._exit(0)


if __name__ == "__main__":
    main()
