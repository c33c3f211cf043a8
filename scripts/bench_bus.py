"""The embedded bus's cross-thread delivery (benchmark, not a test).

A publisher on its own thread and event loop (as the embedded worker is) sends N chunk
events on 50 channels to receivers on this loop (as the web process's relay is), through
``MemoryHub``; the baseline, in the same run, hands each message over with its own
``call_soon_threadsafe`` (what the hub did before it had an inbox per loop). It prints the
process CPU and wall time of each, and their ratio.

    .venv/bin/python scripts/bench_bus.py [-n 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mochung.adapters.bus import MemoryHub

CHANNELS = 50
Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


class PerMessageHub:
    """The baseline: one ``call_soon_threadsafe`` (one wake-up) per message and receiver."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[asyncio.AbstractEventLoop, Any]]] = {}

    def add(self, channel: str, loop: asyncio.AbstractEventLoop, receiver: Any) -> None:
        self._subscribers.setdefault(channel, []).append((loop, receiver))

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        data = json.loads(json.dumps(message))
        for loop, receiver in self._subscribers.get(channel, ()):
            loop.call_soon_threadsafe(receiver, channel, data)


async def measure(hub: MemoryHub | PerMessageHub, count: int) -> tuple[float, float]:
    loop, received, done = asyncio.get_running_loop(), 0, asyncio.Event()

    def receive(channel: str, message: dict[str, Any]) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    for index in range(CHANNELS):
        hub.add(f"chat:{index}", loop, receive)

    async def publish_all() -> None:
        for seq in range(count):
            await hub.publish(f"chat:{seq % CHANNELS}", {"type": "chunk", "seq": seq, "content": "안녕하세요" * 5})
            if seq % 20 == 0:
                await asyncio.sleep(0)  # a worker loop runs other turns between chunks

    cpu, wall = time.process_time(), time.perf_counter()
    publisher = threading.Thread(target=asyncio.run, args=(publish_all(),))
    publisher.start()
    await done.wait()
    publisher.join()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for round_number in range(1, args.rounds + 1):  # alternated, so both see the same machine
        baseline_cpu, baseline_wall = asyncio.run(measure(PerMessageHub(), args.n))
        hub_cpu, hub_wall = asyncio.run(measure(MemoryHub(), args.n))
        print(
            f"round {round_number}: {args.n} messages  per-message wake-ups: CPU {baseline_cpu:.2f} s, "
            f"wall {baseline_wall:.2f} s  MemoryHub: CPU {hub_cpu:.2f} s, wall {hub_wall:.2f} s  "
            f"(CPU {hub_cpu / baseline_cpu:.2f}× the baseline)"
        )


if __name__ == "__main__":
    main()
