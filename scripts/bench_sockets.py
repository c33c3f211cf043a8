#!/usr/bin/env python
"""Socket benchmark (not a test): N idle authenticated sockets, each joined to its own room,
held by one web process — memory per socket and the cost of a connect storm.

In one run it starts, one after another, each server of ``--servers`` and connects N raw
Socket.IO clients to it (Engine.IO v4 over aiohttp WebSockets, offering permessage-deflate
as browsers do), each sending ``joinRoom`` to its own room and waiting for ``session-info``
and ``roomHistory``:

- ``bare``: aiohttp + python-socketio, no auth, no database (scripts/bench/bare_sockets.py),
  with aiohttp's default WebSocket compression;
- ``bare-plain``: the same, refusing permessage-deflate;
- ``mochung``: one ``mochung serve`` (embedded: SQLite) with the default settings;
- ``mochung-deflate``: the same with ``MOCHUNG_SOCKETIO_COMPRESSION=true``.

For each it prints: sockets held, whether compression was negotiated, RSS delta / N (KiB per
socket, after a warm-up of 50 sockets so imports and caches are not counted), the wall time
for all N to connect + join, the server's CPU ms per socket, and the client's CPU.
Targets: ≤ 40 KiB per idle socket with the default settings; 10,000 sockets connected and
joined within 20 s on one web process.

    .venv/bin/python scripts/bench_sockets.py                       # 10,000 sockets, every server
    .venv/bin/python scripts/bench_sockets.py -n 2000 --servers mochung,bare-plain
    .venv/bin/python scripts/bench_sockets.py -n 2000 --servers mochung --profile /tmp/serve.prof

``--profile FILE`` runs the mochung servers under cProfile (written to FILE when the server
stops; its main thread only, start-up included): CPU figures are then inflated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench.common import cpu_seconds, free_port, raise_open_files, rss_bytes
from scripts.bench.rawsio import RawSocket
from tests.e2e.stack import Process, Stack, register, wait_until

SERVERS = ("bare", "bare-plain", "mochung", "mochung-deflate")
WARM_UP = 50
STEP_SECONDS = 120.0  # bound of any one wait


@dataclass
class Result:
    server: str
    held: int
    failed: int
    compressed: int
    kib_per_socket: float
    connect_seconds: float
    server_cpu_ms: float
    client_cpu_s: float
    rss_before_mib: float
    rss_after_mib: float


def client_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))


async def open_sockets(
    session: aiohttp.ClientSession, url: str, users: list[tuple[str, str]], count: int, concurrency: int, prefix: str
) -> tuple[list[RawSocket], int]:
    gate = asyncio.Semaphore(concurrency)
    held: list[RawSocket] = []
    failed = 0

    async def one(index: int) -> None:
        nonlocal failed
        user_id, token = users[index % len(users)]
        socket = RawSocket(session)
        async with gate:
            try:
                await socket.connect(url, "chat", token)
                info = socket.queue("session-info")
                history = socket.queue("roomHistory")
                await socket.emit("joinRoom", {"room": f"{prefix}-{index}", "userId": user_id})
                await asyncio.wait_for(info.get(), STEP_SECONDS)
                await asyncio.wait_for(history.get(), STEP_SECONDS)
                socket.queues.clear()  # idle from now on: keep nothing
                held.append(socket)
            except Exception as error:  # counted, and the first few shown
                failed += 1
                if failed <= 3:
                    print(f"    socket {index} failed: {type(error).__name__}: {error}", file=sys.stderr)
                await socket.close()

    await asyncio.gather(*(one(index) for index in range(count)))
    held_session_sockets = held
    open_sockets.session = session  # closed by close_sockets
    return held_session_sockets, failed


async def close_sockets(sockets: list[RawSocket]) -> None:
    for start in range(0, len(sockets), 500):
        await asyncio.gather(*(socket.close() for socket in sockets[start : start + 500]))


def start_server(name: str, workdir: Path, profile: str | None = None) -> tuple[str, Process, Stack | None]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if name.startswith("bare"):
        script = str(Path(__file__).resolve().parent / "bench" / "bare_sockets.py")
        args = [sys.executable, script, str(port), *(["--no-compression"] if name == "bare-plain" else [])]
        process = Process(name, args, dict(os.environ), workdir)

        def up() -> bool:
            process.check_alive()
            try:
                import urllib.request

                urllib.request.urlopen(f"{url}/chat/?EIO=4&transport=polling", timeout=2).read()
                return True
            except OSError:
                return False

        wait_until(up, name)
        return url, process, None
    compression = {"MOCHUNG_SOCKETIO_COMPRESSION": "true"} if name == "mochung-deflate" else {}
    stack = Stack(workdir / name, "", "", MOCHUNG_LOGIN_MAX_ATTEMPTS="100000", **compression)
    (workdir / name).mkdir(parents=True, exist_ok=True)
    env = stack.env()
    for variable in ("MOCHUNG_DATABASE_URL", "MOCHUNG_REDIS_URL", "MOCHUNG_JWT_SECRET"):
        env.pop(variable, None)  # nothing configured: embedded, the defaults
    env["MOCHUNG_LOG_LEVEL"] = "WARNING"
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    command = [sys.executable, *profiler, "-m", "mochung", "serve", "--port", str(port)]
    process = Process(name, command, env, workdir / name)
    stack.processes.append(process)
    stack.wait_healthy(url, process)
    return url, process, stack


async def measure(
    name: str, count: int, concurrency: int, users_count: int, workdir: Path, profile: str | None = None
) -> Result:
    url, process, stack = start_server(name, workdir, profile)
    try:
        if stack is not None:
            users = await asyncio.gather(*(asyncio.to_thread(register, url) for _ in range(users_count)))
        else:
            users = [(str(uuid.uuid4()), "bare-token") for _ in range(users_count)]
        async with client_session() as session:
            warm, _ = await open_sockets(session, url, users, WARM_UP, concurrency, f"warm-{uuid.uuid4().hex[:6]}")
            await close_sockets(warm)
        await asyncio.sleep(2.0)
        pid = process.popen.pid
        rss_before = rss_bytes(pid)
        cpu_before = cpu_seconds(pid)
        client_before = time.process_time()
        started = time.perf_counter()
        session = client_session()
        sockets, failed = await open_sockets(session, url, users, count, concurrency, f"idle-{uuid.uuid4().hex[:6]}")
        connect_seconds = time.perf_counter() - started
        server_cpu = cpu_seconds(pid) - cpu_before
        client_cpu = time.process_time() - client_before
        await asyncio.sleep(3.0)  # let buffers of the storm settle; the sockets are idle now
        rss_after = rss_bytes(pid)
        compressed = sum(1 for socket in sockets if socket.compressed)
        alive = sum(1 for socket in sockets if not socket.closed.is_set())
        await close_sockets(sockets)
        await session.close()
        held = len(sockets)
        return Result(
            server=name,
            held=alive,
            failed=failed + (held - alive),
            compressed=compressed,
            kib_per_socket=(rss_after - rss_before) / max(1, held) / 1024,
            connect_seconds=connect_seconds,
            server_cpu_ms=server_cpu * 1000 / max(1, held),
            client_cpu_s=client_cpu,
            rss_before_mib=rss_before / 2**20,
            rss_after_mib=rss_after / 2**20,
        )
    finally:
        if stack is not None:
            stack.stop()
        else:
            process.stop()


def report(results: list[Result], count: int) -> None:
    bare = next((r for r in results if r.server == "bare"), None)
    bare_plain = next((r for r in results if r.server == "bare-plain"), None)
    print(f"\n{count} idle sockets, each joined to its own room, one server process each")
    header = (
        f"{'server':<16} {'held':>6} {'failed':>6} {'deflate':>7} {'KiB/socket':>10} {'× bare':>7} "
        f"{'connect+join':>12} {'server CPU/socket':>17} {'× bare':>7} {'client CPU':>10} {'RSS MiB':>15}"
    )
    print(header)
    for r in results:
        base = bare if r.compressed else bare_plain
        memory_ratio = r.kib_per_socket / base.kib_per_socket if base else float("nan")
        cpu_ratio = r.server_cpu_ms / base.server_cpu_ms if base and base.server_cpu_ms else float("nan")
        print(
            f"{r.server:<16} {r.held:>6} {r.failed:>6} {r.compressed:>7} {r.kib_per_socket:>10.1f} "
            f"{memory_ratio:>6.2f}× {r.connect_seconds:>10.1f} s {r.server_cpu_ms:>14.2f} ms {cpu_ratio:>6.2f}× "
            f"{r.client_cpu_s:>8.1f} s {r.rss_before_mib:>6.0f}→{r.rss_after_mib:<6.0f}"
        )
    print("targets: mochung (default settings) ≤ 40 KiB/socket; connect+join of 10,000 ≤ 20 s")
    print("(× bare compares with the bare server of the same compression)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--sockets", type=int, default=10_000, help="idle sockets per server (default 10000)")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated, in this order, from {', '.join(SERVERS)} (default all)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=200, help="connects in flight at once (default 200; the storm)"
    )
    parser.add_argument("--users", type=int, default=10, help="users registered over REST; sockets share them")
    parser.add_argument("--profile", metavar="FILE", help="run the mochung servers under cProfile, stats to FILE")
    args = parser.parse_args()
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(names) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    limit = raise_open_files(args.sockets + 1000)  # inherited by the servers started below
    if limit < args.sockets + 100:
        raise SystemExit(f"open-file limit {limit} is too low for {args.sockets} sockets")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mochung-bench-sockets-") as folder:
        for name in names:
            print(f"  {name}: {args.sockets} sockets …", file=sys.stderr, flush=True)
            results.append(await measure(name, args.sockets, args.concurrency, args.users, Path(folder), args.profile))
            report(results[-1:], args.sockets)
    report(results, args.sockets)


if __name__ == "__main__":
    asyncio.run(main())
