#!/usr/bin/env python
"""Public page benchmark (not a test): GET /api/page/public/:slug under concurrent load,
beside a bare aiohttp JSON handler serving the same body, measured in the same run.

For each database it starts ``python -m mochung serve`` (SQLite in a temp folder, or a
fresh PostgreSQL database created on MOCHUNG_BENCH_POSTGRES_URL and migrated), publishes a
realistic page through the API, then drives both servers with the same load, in alternating
rounds so that load from elsewhere on the machine hits both alike:

- repeat visits: ``--concurrency`` keep-alive connections, each a guest with its own visitor
  cookie, reloading the page (target: mochung ≥ 70% of the bare handler);
- first visits: every request a new guest (a new connection, no cookie, a User-Agent of its
  own), so every one is a view to count (target: ≥ 50% of the bare handler, measured the same
  way);
- a burst (issue 14): ``--burst-guests`` guests (300, a link shared in a group chat) arriving
  within ``--burst-seconds`` (10), each on a phone of its own (own connection and cookies):
  open the page, answer the RSVP, write in the guestbook (target: no error). It prints the
  errors, how long the last guest took to be done, the latencies, and what the server stored.

The figures are printed, not asserted: this is a benchmark, not a test.

    .venv/bin/python scripts/bench_pages.py
    MOCHUNG_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python scripts/bench_pages.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
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


def _get(url: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        found: dict[str, Any] = json.loads(response.read())
    return found


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


GUEST_SETTINGS = {"rsvp": {"enabled": True, "askMeal": True, "maxPartySize": 4}, "guestbook": {"enabled": True}}


async def _burst(url: str, slug: str, guests: int, spread: float) -> tuple[list[str], float, list[float]]:
    """``guests`` guests arriving at random within ``spread`` seconds, each on a phone of its
    own (its own connections and cookies): open the page, answer, write in the guestbook.
    Returns the failures, the seconds from the start until the last guest was done, and the
    latency of every request."""
    import aiohttp

    failures: list[str] = []
    latencies: list[float] = []

    async def step(session: aiohttp.ClientSession, method: str, path: str, expect: int, **kw: Any) -> None:
        began = time.perf_counter()
        try:
            async with session.request(method, url + path, **kw) as response:
                await response.read()
                if response.status != expect:
                    failures.append(f"{method} {path.rsplit('/', 1)[-1]}: {response.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            failures.append(f"{method} {path.rsplit('/', 1)[-1]}: {type(error).__name__}")
        latencies.append(time.perf_counter() - began)

    async def guest(n: int, arrival: float) -> None:
        await asyncio.sleep(arrival)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": f"burst-phone-{n}"}) as session:
            page = f"/api/page/public/{slug}"
            await step(session, "GET", page, 200)
            answer = {
                "side": random.choice(("groom", "bride")),
                "name": f"하객{n}",
                "attending": True,
                "partySize": random.randint(1, 4),
                "meal": random.choice(("yes", "no", "undecided")),
            }
            await step(session, "POST", f"{page}/rsvp", 201, json=answer)
            entry = {"name": f"하객{n}", "content": f"결혼 축하드려요! ({n})", "password": "1234"}
            await step(session, "POST", f"{page}/guestbook", 201, json=entry)

    started = time.perf_counter()
    await asyncio.gather(*(guest(n, random.uniform(0, spread)) for n in range(guests)))
    return failures, time.perf_counter() - started, latencies


def _count_guestbook(url: str, slug: str) -> int:
    count, cursor = 0, ""
    while True:
        found = _get(f"{url}/api/page/public/{slug}/guestbook?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        count += len(found["items"])
        cursor = found["nextCursor"] or ""
        if not cursor:
            return count


def _report_burst(url: str, token: str, guests: int, spread: float) -> str:
    page = _post(
        f"{url}/api/page/publish",
        {"title": "민준 ♥ 서연", "componentData": wedding_components(), "settings": GUEST_SETTINGS},
        token,
    )
    failures, took, latencies = asyncio.run(_burst(url, page["slug"], guests, spread))
    answers = _get(f"{url}/api/page/{page['id']}/rsvps?limit=1", token)["summary"]["responses"]
    entries = _count_guestbook(url, page["slug"])
    kinds = ", ".join(f"{kind} ×{failures.count(kind)}" for kind in sorted(set(failures))) or "none"
    cuts = statistics.quantiles(latencies, n=100)
    return (
        f"burst: {guests} guests arriving within {spread:.0f} s (page, RSVP, guestbook each): "
        f"{len(failures)} errors ({kinds}); last guest done after {took:.1f} s; "
        f"latency p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"stored {answers} RSVPs, {entries} guestbook entries"
    )


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
    database: str,
    database_url: str | None,
    concurrency: int,
    seconds: float,
    rounds: int,
    burst: tuple[int, float],
    workdir: Path,
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
        # each is counted, the reloads are not (one view per visitor per day). And the worst
        # case, every request a first visit (a view to count each), on a new connection per
        # request, so the bare server is measured the same way.
        bare_runs, mochung_runs, bare_firsts, mochung_firsts = [], [], [], []
        bare_cookies, guests = [""] * concurrency, [""] * concurrency
        share = seconds / rounds
        for _ in range(rounds):
            bare_runs.append(asyncio.run(_load(bare_url, path, share, bare_cookies)))
            mochung_runs.append(asyncio.run(_load(url, path, share, guests)))
            mochung_firsts.append(asyncio.run(_load_first_visits(url, path, share, concurrency)))
            bare_firsts.append(asyncio.run(_load_first_visits(bare_url, path, share, concurrency)))
        bare_rps, mochung_rps = sum(bare_runs) / rounds, sum(mochung_runs) / rounds
        bare_first, first_visits = sum(bare_firsts) / rounds, sum(mochung_firsts) / rounds
        repeat_ratio, first_ratio = mochung_rps / bare_rps, first_visits / bare_first
        with urllib.request.urlopen(url + path) as response:
            views = json.loads(response.read())["viewCount"]
        print(
            f"{database:>10}: repeat visits: bare {bare_rps:8.0f} req/s · mochung {mochung_rps:8.0f} req/s · "
            f"{repeat_ratio:6.1%} (target ≥ 70%: {'met' if repeat_ratio >= 0.7 else 'NOT met'})\n"
            f"{'':>10}  first visits (new connection, no cookie): bare {bare_first:8.0f} req/s · "
            f"mochung {first_visits:8.0f} req/s · {first_ratio:6.1%} "
            f"(target ≥ 50%: {'met' if first_ratio >= 0.5 else 'NOT met'})\n"
            f"{'':>10}  body {len(body)} B · viewCount {views} · concurrency {concurrency}, "
            f"{rounds} alternating rounds, {seconds:.0f} s per server and kind"
        )
        if burst[0]:
            print(f"{'':>10}  {_report_burst(url, token, *burst)}")
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
    parser.add_argument("--burst-guests", type=int, default=300, help="guests in the RSVP/guestbook burst (0: none)")
    parser.add_argument("--burst-seconds", type=float, default=10.0, help="the burst's guests arrive within this")
    args = parser.parse_args()
    burst = (args.burst_guests, args.burst_seconds)
    with tempfile.TemporaryDirectory(prefix="mochung-bench-") as folder:
        workdir = Path(folder)
        bench("sqlite", None, args.concurrency, args.seconds, args.rounds, burst, workdir)
        postgres = os.environ.get("MOCHUNG_BENCH_POSTGRES_URL")
        if postgres:
            database_url = _fresh_postgres(postgres)
            try:
                bench("postgresql", database_url, args.concurrency, args.seconds, args.rounds, burst, workdir)
            finally:
                _drop_postgres(postgres, database_url.rsplit("/", 1)[1])
        else:
            print("postgresql: skipped (set MOCHUNG_BENCH_POSTGRES_URL)")


if __name__ == "__main__":
    main()
