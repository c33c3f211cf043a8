#!/usr/bin/env python
"""Public page benchmark (not a test): GET /api/page/public/:slug under concurrent load,
beside a bare aiohttp JSON handler serving the same body, measured in the same run.

For each database it starts ``python -m mochung serve`` (SQLite in a temp folder, or a
fresh PostgreSQL database created on MOCHUNG_BENCH_POSTGRES_URL and migrated), publishes a
realistic page through the API, then drives both servers with the same keep-alive load:
``--concurrency`` connections, each a guest with its own visitor cookie, for ``--seconds``.
It prints requests/s of each and the ratio (target: mochung ≥ 60% of the bare handler).

    .venv/bin/python scripts/bench_pages.py
    MOCHUNG_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python scripts/bench_pages.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mochung.cli.demo import wedding_components  # noqa: E402  (the page mochung demo seeds)
from tests.e2e.stack import Process, free_port, wait_until  # noqa: E402
from tests.support import PASSWORD, TEST_SECRET  # noqa: E402

BARE_SERVER = """
import sys
from aiohttp import web
body = open(sys.argv[2], "rb").read()
async def handler(request):
    return web.Response(body=body, content_type="application/json")
app = web.Application()
app.router.add_get("/api/page/public/{slug}", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


async def _guest(
    host: str, port: int, path: str, stop_at: float, counts: list[int], cookies: list[str], n: int
) -> None:
    """One keep-alive connection: guest ``n`` (own visitor cookie, kept across rounds) reloading the page."""
    reader, writer = await asyncio.open_connection(host, port)
    cookie = cookies[n]
    try:
        while time.perf_counter() < stop_at:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
                elif name.lower() == b"set-cookie" and not cookie:
                    cookie = cookies[n] = f"Cookie: {value.strip().split(b';')[0].decode()}\r\n"
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                counts[0] += 1
            else:
                counts[1] += 1
    finally:
        writer.close()


async def _load(url: str, path: str, seconds: float, cookies: list[str]) -> float:
    host, port = url.removeprefix("http://").split(":")
    warm = [0, 0]
    warm_until = time.perf_counter() + 0.3
    await asyncio.gather(*(_guest(host, int(port), path, warm_until, warm, cookies, n) for n in range(len(cookies))))
    counts = [0, 0]
    started = time.perf_counter()
    await asyncio.gather(
        *(_guest(host, int(port), path, started + seconds, counts, cookies, n) for n in range(len(cookies)))
    )
    elapsed = time.perf_counter() - started
    if counts[1]:
        print(f"  warning: {counts[1]} non-200 answers from {url}")
    return counts[0] / elapsed


async def _load_first_visits(url: str, path: str, seconds: float, concurrency: int) -> float:
    """Every request a new guest: a fresh connection without a cookie, and a User-Agent of
    its own (a cookieless visitor is known by IP and User-Agent: without it every request
    would be the same anonymous visitor, counted once)."""
    host, port = url.removeprefix("http://").split(":")
    done = [0]
    stop_at = time.perf_counter() + seconds
    run = uuid.uuid4().hex[:8]

    async def guest() -> None:
        while time.perf_counter() < stop_at:
            await _one_request(host, int(port), path, f"bench-guest-{run}-{done[0]}")
            done[0] += 1

    started = time.perf_counter()
    await asyncio.gather(*(guest() for _ in range(concurrency)))
    return done[0] / (time.perf_counter() - started)


async def _one_request(host: str, port: int, path: str, agent: str) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n".encode()
        )
        await reader.read()
    finally:
        writer.close()


def _fresh_postgres(base_url: str) -> str:
    import asyncpg

    from mochung.adapters.database import close_database, open_database

    name = f"mochung_bench_{uuid.uuid4().hex[:8]}"

    async def create() -> str:
        admin = await asyncpg.connect(base_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = base_url.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + f"/{name}"
        await close_database(await open_database(url, migrate=True, as_global=False))
        return url

    return asyncio.run(create())


def _drop_postgres(base_url: str, name: str) -> None:
    import asyncpg

    async def drop() -> None:
        admin = await asyncpg.connect(base_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


def bench(
    database: str, database_url: str | None, concurrency: int, seconds: float, rounds: int, workdir: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCHUNG_")}
    env.update(
        {
            "MOCHUNG_DATA_DIR": str(workdir / database),
            "MOCHUNG_JWT_SECRET": TEST_SECRET,
            "MOCHUNG_LOG_LEVEL": "WARNING",
            "MOCHUNG_LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["MOCHUNG_DATABASE_URL"] = database_url
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = Process(f"serve-{database}", [sys.executable, "-m", "mochung", "serve", "--port", str(port)], env, workdir)
    bare: Process | None = None
    try:
        wait_until(lambda: serve.check_alive() or _healthy(url), "mochung to start")
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        _post(f"{url}/api/auth/register", {"email": email, "password": PASSWORD})
        token = _post(f"{url}/api/auth/login", {"email": email, "password": PASSWORD})["access_token"]
        page = _post(f"{url}/api/page/publish", {"title": "민준 ♥ 서연", "componentData": wedding_components()}, token)
        path = f"/api/page/public/{page['slug']}"
        with urllib.request.urlopen(url + path) as response:
            body = response.read()
        body_file = workdir / f"{database}-body.json"
        body_file.write_bytes(body)

        bare_port = free_port()
        bare_url = f"http://127.0.0.1:{bare_port}"
        bare = Process("bare", [sys.executable, "-c", BARE_SERVER, str(bare_port), str(body_file)], env, workdir)
        wait_until(lambda: bare.check_alive() or _port_open(bare_port), "the bare server to start")

        # Alternate short rounds so that load from elsewhere on the machine hits both alike.
        # The same guests come back every round (their cookies are kept): the first visit of
        # each is counted in the database, the reloads are not (one view per visitor per day).
        bare_runs, mochung_runs = [], []
        bare_cookies, guests = [""] * concurrency, [""] * concurrency
        for _ in range(rounds):
            bare_runs.append(asyncio.run(_load(bare_url, path, seconds / rounds, bare_cookies)))
            mochung_runs.append(asyncio.run(_load(url, path, seconds / rounds, guests)))
        bare_rps, mochung_rps = sum(bare_runs) / rounds, sum(mochung_runs) / rounds
        # And the worst case: every request a first visit (a database write each).
        # (a new connection per request, so the bare server is measured the same way).
        first_visits = asyncio.run(_load_first_visits(url, path, seconds / rounds, concurrency))
        bare_first = asyncio.run(_load_first_visits(bare_url, path, seconds / rounds, concurrency))
        with urllib.request.urlopen(url + path) as response:
            views = json.loads(response.read())["viewCount"]
        print(
            f"{database:>10}: bare {bare_rps:8.0f} req/s · mochung {mochung_rps:8.0f} req/s · "
            f"ratio {mochung_rps / bare_rps:6.1%} · body {len(body)} B · viewCount {views} · "
            f"first visits only (new connection, no cookie): {first_visits:.0f} vs bare {bare_first:.0f} req/s "
            f"({first_visits / bare_first:.1%}) "
            f"(concurrency {concurrency}, {rounds} alternating rounds, {seconds:.0f} s per server)"
        )
    finally:
        serve.stop()
        if bare is not None:
            bare.stop()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per server, all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mochung-bench-") as folder:
        workdir = Path(folder)
        bench("sqlite", None, args.concurrency, args.seconds, args.rounds, workdir)
        postgres = os.environ.get("MOCHUNG_BENCH_POSTGRES_URL")
        if postgres:
            database_url = _fresh_postgres(postgres)
            try:
                bench("postgresql", database_url, args.concurrency, args.seconds, args.rounds, workdir)
            finally:
                _drop_postgres(postgres, database_url.rsplit("/", 1)[1])
        else:
            print("postgresql: skipped (set MOCHUNG_BENCH_POSTGRES_URL)")


if __name__ == "__main__":
    main()
