#!/usr/bin/env python
"""Chat soak (not a timed test): many sessions of offline turns on a distributed stack, with
faults in the middle, then the books are checked.

It starts what it uses: a scratch PostgreSQL database on MOCHUNG_TEST_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres; created, migrated, dropped after), a private
``redis-server`` on a free port (never the machine's), ``--web`` web processes and
``--workers`` worker processes. ``--sessions`` sessions (a tenth as many users) spread over
the web processes each send a message, wait for its answer (or its error), pause a little
and send the next, for ``--seconds``. A third of the way in the worker is killed (``kill -9``)
and a replacement started; two thirds in Redis is restarted. Then it waits for every accepted
message to end and prints:

    accepted, answered (exactly one stored answer), failed, duplicates (more than one stored
    answer, or a socket sent the same answer twice), stuck (queued or running), lost (no
    answer and not failed)

and exits 1 unless every accepted message got exactly one answer with 0 duplicates and 0
stuck runs.

    .venv/bin/python scripts/soak_chat.py                          # 300 sessions × 60 s
    .venv/bin/python scripts/soak_chat.py --sessions 30 --seconds 15

A small run is in the suite (tests/e2e/test_soak.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.stack import RedisServer, Stack, register
from tests.server.chat.helpers import ChatClient
from tests.support import scratch_postgres_database

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
ANSWER_WAIT_SECONDS = 45.0  # a turn caught by a fault waits for its recovery
SETTLE_SECONDS = 180.0


@dataclass
class Report:
    sessions: int
    seconds: float
    accepted: int = 0
    refused: int = 0  # message-error instead of message-accepted (e.g. the queue was down)
    answered: int = 0
    failed: int = 0
    duplicates: int = 0
    stuck: int = 0
    lost: int = 0
    client_duplicates: int = 0
    faults: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return (
            self.accepted > 0
            and self.answered == self.accepted
            and self.duplicates == 0
            and self.client_duplicates == 0
            and self.stuck == 0
        )

    def lines(self) -> list[str]:
        return [
            f"sessions {self.sessions} × {self.seconds:g} s; faults: {', '.join(self.faults) or 'none'}",
            f"accepted   {self.accepted}",
            f"refused    {self.refused} (not accepted: the client was told to try again)",
            f"answered   {self.answered} (exactly one stored answer)",
            f"failed     {self.failed}",
            *(f"  {count} × {reason}" for reason, count in self.reasons.items()),
            f"duplicates {self.duplicates} stored, {self.client_duplicates} sent twice to a socket",
            f"stuck      {self.stuck} (queued or running at the end)",
            f"lost       {self.lost}",
            "OK" if self.ok else "FAILED",
        ]


async def _session(
    url: str, token: str, user_id: str, deadline: float, accepted: list[str], report: Report, done: Counter[str]
) -> None:
    chat = ChatClient(url)
    try:
        await chat.connect(token)
        room = f"soak-{uuid.uuid4().hex[:12]}"
        session_id = (await chat.join(room, user_id))["session_id"]
        turn = 0
        while time.monotonic() < deadline:
            turn += 1
            before_accepted = len(chat.events["message-accepted"])
            before_errors = len(chat.events["message-error"])
            await chat.emit(
                "chat-message",
                {"text": f"예식 날짜 알려 주세요 {turn}", "session_id": session_id, "room": room, "userId": user_id},
            )
            message_id = await _accepted_or_refused(chat, before_accepted, before_errors)
            if message_id is None:
                report.refused += 1
                await asyncio.sleep(1.0)
                continue
            accepted.append(message_id)
            await _answer_or_error(chat, message_id)
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # late answers
        for message in chat.events["newMessage"]:
            if message.get("role") == "assistant" and message.get("type") == "text":
                done[f"{id(chat)}:{message['message_id']}:{message.get('id')}"] += 1
    except Exception as error:  # a client that cannot go on stops; the books still count its turns
        print(f"a session stopped: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        await chat.close()


async def _accepted_or_refused(chat: ChatClient, accepted: int, errors: int) -> str | None:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if len(chat.events["message-accepted"]) > accepted:
            return str(chat.events["message-accepted"][accepted]["message_id"])
        if len(chat.events["message-error"]) > errors:
            return None
        await asyncio.sleep(0.02)
    return None


async def _answer_or_error(chat: ChatClient, message_id: str) -> None:
    end = time.monotonic() + ANSWER_WAIT_SECONDS
    while time.monotonic() < end:
        if any(m.get("message_id") == message_id and m.get("role") == "assistant" for m in chat.events["newMessage"]):
            return
        if any(e.get("message_id") == message_id for e in chat.events["message-error"]):
            return
        await asyncio.sleep(0.05)


async def _books(database_url: str, accepted: list[str], report: Report) -> None:
    """Wait for every accepted turn to end, then count from the database."""
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    ids = [uuid.UUID(m) for m in accepted]
    try:
        end = time.monotonic() + SETTLE_SECONDS
        while True:
            pending = await connection.fetchval(
                "SELECT count(*) FROM agent_runs WHERE message_id = ANY($1) AND status IN ('queued', 'running')", ids
            )
            if pending == 0 or time.monotonic() > end:
                break
            await asyncio.sleep(1)
        runs = await connection.fetch(
            "SELECT message_id, status, attempts, error FROM agent_runs WHERE message_id = ANY($1)", ids
        )
        answers = await connection.fetch(
            "SELECT message_id, count(*) AS n FROM chat_messages WHERE message_id = ANY($1) AND role = 'assistant' "
            "AND position = 0 GROUP BY message_id",
            ids,
        )
    finally:
        await connection.close()
    status = {str(row["message_id"]): row["status"] for row in runs}
    for row in runs:
        if row["status"] in ("failed", "cancelled"):
            report.reasons[f"{row['status']} after {row['attempts']} attempt(s): {row['error']}"] += 1
    stored = {str(row["message_id"]): int(row["n"]) for row in answers}
    for message_id in accepted:
        count, state = stored.get(message_id, 0), status.get(message_id)
        if state in ("queued", "running"):
            report.stuck += 1
        elif count == 1 and state == "done":
            report.answered += 1
        elif count > 1:
            report.duplicates += 1
        elif state in ("failed", "cancelled"):
            report.failed += 1
        else:
            report.lost += 1


async def _drive(
    stack: Stack,
    redis: RedisServer,
    urls: list[str],
    users: list[tuple[str, str]],
    sessions: int,
    seconds: float,
    report: Report,
) -> list[str]:
    accepted: list[str] = []
    seen: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    tasks = []
    for n in range(sessions):
        user_id, token = users[n % len(users)]
        session = _session(urls[n % len(urls)], token, user_id, deadline, accepted, report, seen)
        tasks.append(asyncio.create_task(session))
    loop = asyncio.get_running_loop()
    await asyncio.sleep(seconds / 3)
    worker = next(p for p in stack.processes if p.name.startswith("worker") and p.alive())
    worker.kill()  # SIGKILL
    report.faults.append(f"worker kill -9 at {seconds / 3:.0f} s")
    replacement = stack.start_worker("worker-replacement")
    await loop.run_in_executor(None, stack.wait_worker, replacement)
    await asyncio.sleep(max(0.0, deadline - time.monotonic() - seconds / 3))
    await loop.run_in_executor(None, redis.stop)
    await asyncio.sleep(1)
    await loop.run_in_executor(None, redis.start)
    report.faults.append(f"Redis restart at {2 * seconds / 3:.0f} s")
    await asyncio.gather(*tasks)
    report.client_duplicates = sum(1 for count in seen.values() if count > 1)
    return accepted


def run_soak(sessions: int, seconds: float, web: int = 2, workers: int = 1, postgres: str | None = None) -> Report:
    server = postgres or os.environ.get("MOCHUNG_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    report = Report(sessions=sessions, seconds=seconds)
    with tempfile.TemporaryDirectory(prefix="mochung-soak-") as scratch, scratch_postgres_database(
        server, "mochung_soak"
    ) as database_url:
        workdir = Path(scratch)
        redis = RedisServer(workdir)
        redis.start()
        stack = Stack(
            workdir,
            database_url,
            redis.url,
            MOCHUNG_BROKER_HEARTBEAT_TIMEOUT_MS="3000",
        )
        try:
            stack.migrate()
            urls = stack.up(web=web, workers=workers)
            users = [register(urls[n % len(urls)]) for n in range(max(1, sessions // 10))]
            accepted = asyncio.run(_drive(stack, redis, urls, users, sessions, seconds, report))
            report.accepted = len(accepted)
            asyncio.run(_books(database_url, accepted, report))
        finally:
            stack.stop()
            redis.stop()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", help="a PostgreSQL server URL to create the scratch database on")
    args = parser.parse_args()
    report = run_soak(args.sessions, args.seconds, args.web, args.workers, args.postgres)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
