#!/usr/bin/env python
"""Chat benchmark (not a test). Two models:

``--model offline`` (the default): N concurrent sessions run chat turns with the offline model.

It starts what it measures, in this order:
1. a bare python-socketio echo server (aiohttp), and measures the round-trip of N
   concurrent clients each sending ``--turns`` echoes: the baseline;
2. mochung itself — embedded (`mochung serve`, SQLite, in-process worker) or distributed
   (`mochung serve` + `mochung worker` on MOCHUNG_BENCH_DATABASE_URL / MOCHUNG_BENCH_REDIS_URL,
   migrated first) — and N sessions each running ``--turns`` turns, one after another.

It prints `message-accepted` latency and first assistant `newMessage` latency (p50/p99),
turns/s, and each as a ratio of the echo round-trip (p50 to p50, p99 to p99). Targets:
accept p50 ≤ 3×, answer p50 ≤ 15×, answer p99 ≤ 40×.

    .venv/bin/python scripts/bench_chat.py --mode embedded
    MOCHUNG_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
    MOCHUNG_BENCH_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python scripts/bench_chat.py --mode distributed

``--model hosted``: mochung against an OpenAI-compatible streaming stand-in of a hosted model
(scripts/bench/model_stub.py: ``--ttft`` s to the first token, then ``--tokens`` tokens ``--gap`` s
apart), with ``MOCHUNG_LLM=openai:gpt-bench`` and ``OPENAI_BASE_URL`` pointed at it; beside it, in
the same run and under the same load, a bare stack server (aiohttp + python-socketio + a bare
LangChain ``create_agent`` on ``ChatOpenAI``; no auth, database or queue). Phases: a burst of
``--burst`` couples sending at the same moment; Poisson arrivals of new couples (``--rate`` per
second for ``--duration`` s); the multi-agent script (main → context → map → output → answer)
with ``--multi`` couples at once; ``--logins`` logins at once while turns stream (``/api/health``
latency, pauses between chunks). In both modes (``--modes``): embedded (one ``mochung serve``) and
distributed (``mochung serve`` + ``mochung worker``, default flags, on a scratch PostgreSQL
database created on MOCHUNG_BENCH_POSTGRES_URL — default postgres://postgres@127.0.0.1:5432/postgres
— and dropped after, and Redis at MOCHUNG_BENCH_REDIS_URL — default redis://127.0.0.1:6379/0 — under
a private broker namespace). It prints first-chunk and answer p50/p99, as ratios of the model's own
time for the turn (from the stand-in's own account, measured in the same run) and of the bare
server's, the CPU ms per turn of the web and worker processes (/proc/<pid>/stat), turns/s, errors.

    .venv/bin/python scripts/bench_chat.py --model hosted                      # everything (~10 min)
    .venv/bin/python scripts/bench_chat.py --model hosted --modes embedded --phases burst --burst 40
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import hosted  # noqa: E402
from scripts.bench.common import raise_open_files  # noqa: E402
from tests.e2e.stack import Process, Stack, free_port, register, wait_until  # noqa: E402

ECHO_SERVER = """
import sys
import socketio
from aiohttp import web
sio = socketio.AsyncServer(async_mode="aiohttp")
@sio.on("echo")
async def echo(sid, data):
    await sio.emit("echo", data, to=sid)
app = web.Application()
sio.attach(app)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""
WAIT_SECONDS = 300.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> tuple[float, float]:
    return percentile(values, 0.5), percentile(values, 0.99)


async def echo_round_trips(url: str, clients: int, rounds: int) -> list[float]:
    latencies: list[float] = []

    async def one() -> None:
        client = socketio.AsyncClient(reconnection=False)
        arrived: asyncio.Queue[Any] = asyncio.Queue()
        client.on("echo", arrived.put)
        await client.connect(url, transports=["websocket"], wait_timeout=30)
        try:
            for index in range(rounds):
                started = time.perf_counter()
                await client.emit("echo", {"n": index})
                await asyncio.wait_for(arrived.get(), WAIT_SECONDS)
                latencies.append(time.perf_counter() - started)
        finally:
            await client.disconnect()

    await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


class Session:
    def __init__(self, url: str, user_id: str, token: str) -> None:
        self.url = url
        self.user_id = user_id
        self.token = token
        self.room = f"bench-{uuid.uuid4().hex[:12]}"
        self.client = socketio.AsyncClient(reconnection=False)
        self.inbox: dict[str, asyncio.Queue[Any]] = {
            name: asyncio.Queue() for name in ("session-info", "roomHistory", "message-accepted", "newMessage")
        }
        for name, queue in self.inbox.items():
            self.client.on(name, queue.put)
        self.client.on("message-error", self._error)
        self.session_id = ""
        self.errors: list[Any] = []

    async def _error(self, data: Any) -> None:
        self.errors.append(data)

    async def open(self) -> None:
        await self.client.connect(
            self.url, auth={"token": self.token}, socketio_path="chat", transports=["websocket"], wait_timeout=30
        )
        await self.client.emit("joinRoom", {"room": self.room, "userId": self.user_id})
        info = await asyncio.wait_for(self.inbox["session-info"].get(), WAIT_SECONDS)
        await asyncio.wait_for(self.inbox["roomHistory"].get(), WAIT_SECONDS)
        self.session_id = info["session_id"]

    async def turn(self, text: str) -> tuple[float, float]:
        started = time.perf_counter()
        payload = {"text": text, "session_id": self.session_id, "room": self.room, "userId": self.user_id}
        await self.client.emit("chat-message", payload)
        accepted = await asyncio.wait_for(self.inbox["message-accepted"].get(), WAIT_SECONDS)
        accepted_after = time.perf_counter() - started
        while True:
            message = await asyncio.wait_for(self.inbox["newMessage"].get(), WAIT_SECONDS)
            if message["role"] == "assistant" and message["message_id"] == accepted["message_id"]:
                return accepted_after, time.perf_counter() - started

    async def close(self) -> None:
        await self.client.disconnect()


TEXTS = ["안녕하세요, 청첩장을 만들고 싶어요", "예식 날짜가 언제예요?", "인사말을 써 주세요", "hello"]


async def chat_load(url: str, sessions: int, turns: int) -> tuple[list[float], list[float], float, int]:
    users = [register(url) for _ in range(max(1, sessions // 10))]  # real REST; a few users, many rooms
    opened = [Session(url, *users[index % len(users)]) for index in range(sessions)]
    await asyncio.gather(*(session.open() for session in opened))
    accepts: list[float] = []
    answers: list[float] = []

    async def run(session: Session, offset: int) -> None:
        for index in range(turns):
            accept, answer = await session.turn(TEXTS[(offset + index) % len(TEXTS)])
            accepts.append(accept)
            answers.append(answer)

    started = time.perf_counter()
    await asyncio.gather(*(run(session, index) for index, session in enumerate(opened)))
    elapsed = time.perf_counter() - started
    errors = sum(len(session.errors) for session in opened)
    await asyncio.gather(*(session.close() for session in opened))
    return accepts, answers, elapsed, errors


LIMITS = {"MOCHUNG_CHAT_MESSAGES_PER_MINUTE": "100000"}


def make_stack(mode: str, workdir: Path) -> Stack:
    if mode == "embedded":
        return Stack(workdir, "", "", **LIMITS)
    database_url = os.environ.get("MOCHUNG_BENCH_DATABASE_URL")
    redis_url = os.environ.get("MOCHUNG_BENCH_REDIS_URL")
    if not database_url or not redis_url:
        raise SystemExit("distributed mode needs MOCHUNG_BENCH_DATABASE_URL and MOCHUNG_BENCH_REDIS_URL")
    return Stack(workdir, database_url, redis_url, **LIMITS)


def start_mochung(stack: Stack, mode: str, worker_processes: int) -> str:
    if mode == "embedded":  # nothing configured: SQLite, in-process worker, generated secret
        env = stack.env()
        for name in ("MOCHUNG_DATABASE_URL", "MOCHUNG_REDIS_URL", "MOCHUNG_JWT_SECRET"):
            env.pop(name, None)
        port = free_port()
        command = [sys.executable, "-m", "mochung", "serve", "--port", str(port)]
        process = Process("serve", command, env, stack.workdir)
        stack.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        stack.wait_healthy(url, process)
        return url
    stack.migrate()
    return stack.up(web=1, workers=worker_processes)[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("offline", "hosted"), default="offline", help="(default offline)")
    group = parser.add_argument_group("--model offline")
    group.add_argument("--mode", choices=("embedded", "distributed"), default="embedded")
    group.add_argument("--sessions", type=int, default=100)
    group.add_argument("--turns", type=int, default=3, help="turns per session, one after another")
    group.add_argument("--workers", type=int, default=1, help="worker processes (distributed mode)")
    hosted.add_arguments(parser)
    args = parser.parse_args()
    if args.model == "hosted":
        raise_open_files(20_000)
        await hosted.run(args)
        return

    with tempfile.TemporaryDirectory(prefix="mochung-bench-") as folder:
        workdir = Path(folder)
        echo_port = free_port()
        echo = Process("echo", [sys.executable, "-c", ECHO_SERVER, str(echo_port)], dict(os.environ), workdir)
        try:
            echo_url = f"http://127.0.0.1:{echo_port}"
            wait_until(lambda: echo.check_alive() or _accepting(echo_port), "the echo server")
            echo_latencies = await echo_round_trips(echo_url, args.sessions, args.turns)
        finally:
            echo.stop()
        stack = make_stack(args.mode, workdir)
        try:
            url = start_mochung(stack, args.mode, args.workers)
            accepts, answers, elapsed, errors = await chat_load(url, args.sessions, args.turns)
        finally:
            stack.stop()

    echo_p50, echo_p99 = summary(echo_latencies)
    accept_p50, accept_p99 = summary(accepts)
    answer_p50, answer_p99 = summary(answers)
    print(f"mode {args.mode}: {args.sessions} sessions × {args.turns} turns, offline model")
    print(f"  echo round-trip    p50 {echo_p50 * 1000:8.2f} ms   p99 {echo_p99 * 1000:8.2f} ms")
    print(f"  message-accepted   p50 {accept_p50 * 1000:8.2f} ms   p99 {accept_p99 * 1000:8.2f} ms", end="")
    print(f"   ratio p50 {accept_p50 / echo_p50:6.1f}× (target ≤ 3×)")
    print(f"  first newMessage   p50 {answer_p50 * 1000:8.2f} ms   p99 {answer_p99 * 1000:8.2f} ms", end="")
    print(f"   ratio p50 {answer_p50 / echo_p50:6.1f}× (≤ 15×)   p99 {answer_p99 / echo_p99:6.1f}× (≤ 40×)")
    print(f"  throughput {len(answers) / elapsed:.1f} turns/s over {elapsed:.1f} s; message-error events: {errors}")


def _accepting(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    asyncio.run(main())
