"""The chat load of ``bench_chat.py --model hosted``: couples on raw Socket.IO clients
(``rawsio.RawSocket``) that join their own room and send a turn, timed from the send to the
first ``message-chunk`` and to the assistant's ``newMessage``; a burst (all at once), a
sustained Poisson arrival of new couples, and logins while turns stream."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from scripts.bench.common import p50_p99
from scripts.bench.rawsio import RawSocket

DIRECT_TEXT = "안녕하세요, 청첩장을 만들고 싶어요"
MULTI_TEXT = "예식장이 어디예요?"
OPEN_SECONDS = 120.0


@dataclass
class Account:
    user_id: str
    token: str | None
    wedding_id: str | None = None


@dataclass
class Outcome:
    """Per-turn timings (seconds from the send) and what went wrong."""

    first_chunks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    doubled: int = 0  # a second assistant answer to one message: must never happen
    sent: int = 0
    elapsed: float = 0.0  # first send → last answer
    cpu: dict[str, float] = field(default_factory=dict)
    chunk_times: list[float] = field(default_factory=list)  # arrival of every chunk (perf_counter)
    chunk_seen: asyncio.Event = field(default_factory=asyncio.Event)

    def line(self) -> str:
        chunk50, chunk99 = p50_p99(self.first_chunks)
        answer50, answer99 = p50_p99(self.answers)
        return (
            f"{len(self.answers)}/{self.sent} answered, first chunk p50 {chunk50:.2f} s p99 {chunk99:.2f} s, "
            f"answer p50 {answer50:.2f} s p99 {answer99:.2f} s, errors {len(self.errors)}, doubled {self.doubled}"
        )


class Couple:
    """One socket in its own room; one turn at a time."""

    def __init__(self, session: aiohttp.ClientSession, account: Account, outcome: Outcome) -> None:
        self.account = account
        self.outcome = outcome
        self.socket = RawSocket(session, self._event)
        self.room = f"bench-{uuid.uuid4().hex[:12]}"
        self.session_id = ""
        self.sent_at = 0.0
        self.message_id: str | None = None
        self.first_chunk: float | None = None
        self.answers_seen = 0
        self.texts_seen = 0
        self.parts_seen: set[str] = set()
        self.early_chunks: dict[str, float] = {}
        self.done = asyncio.Event()

    def _event(self, event: str, data: Any) -> None:
        now = time.perf_counter()
        if event == "message-chunk" and isinstance(data, dict):
            self.outcome.chunk_times.append(now)
            self.outcome.chunk_seen.set()
            message_id = str(data.get("message_id"))
            if self.message_id is None:
                self.early_chunks.setdefault(message_id, now)
            elif message_id == self.message_id and self.first_chunk is None:
                self.first_chunk = now
        elif event == "message-accepted" and isinstance(data, dict) and self.message_id is None:
            self.message_id = str(data.get("message_id"))
            self.first_chunk = self.early_chunks.get(self.message_id)
        elif event == "newMessage" and isinstance(data, dict) and data.get("role") == "assistant":
            mine = self.message_id is not None and str(data.get("message_id")) == self.message_id
            if mine:
                # an answer is its text and its components, each a newMessage with its own id:
                # the same id twice, or a second text, is a doubled answer
                self.answers_seen += 1
                key = str(data.get("id") or data.get("type"))
                texts = self.texts_seen + (data.get("type") == "text")
                if key in self.parts_seen or texts > 1:
                    self.outcome.doubled += 1
                self.parts_seen.add(key)
                self.texts_seen = texts
            if mine and not self.done.is_set():
                self.outcome.answers.append(now - self.sent_at)
                if self.first_chunk is not None:
                    self.outcome.first_chunks.append(self.first_chunk - self.sent_at)
                self.done.set()
        elif event == "message-error":
            if not self.done.is_set() and self.sent_at:
                self.outcome.errors.append(f"message-error {data}")
                self.done.set()

    async def open(self, url: str) -> None:
        await self.socket.connect(url, "chat", self.account.token)
        info = self.socket.queue("session-info")
        history = self.socket.queue("roomHistory")
        join: dict[str, Any] = {"room": self.room, "userId": self.account.user_id}
        if self.account.wedding_id:
            join["wedding_id"] = self.account.wedding_id
        await self.socket.emit("joinRoom", join)
        self.session_id = str((await asyncio.wait_for(info.get(), OPEN_SECONDS))["session_id"])
        await asyncio.wait_for(history.get(), OPEN_SECONDS)
        self.socket.queues.clear()

    async def send(self, text: str) -> None:
        self.sent_at = time.perf_counter()
        self.outcome.sent += 1
        payload = {"text": text, "session_id": self.session_id, "room": self.room, "userId": self.account.user_id}
        await self.socket.emit("chat-message", {**payload, "timestamp": int(time.time() * 1000)})

    async def wait_answer(self, deadline: float) -> None:
        try:
            await asyncio.wait_for(self.done.wait(), max(0.0, deadline - time.perf_counter()))
        except TimeoutError:
            self.outcome.errors.append("no answer before the phase's deadline")


def client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None))


async def open_couples(
    session: aiohttp.ClientSession, url: str, accounts: list[Account], count: int, outcome: Outcome
) -> list[Couple]:
    couples = [Couple(session, accounts[index % len(accounts)], outcome) for index in range(count)]
    gate = asyncio.Semaphore(50)

    async def one(couple: Couple) -> None:
        async with gate:
            await couple.open(url)

    await asyncio.gather(*(one(couple) for couple in couples))
    return couples


async def close_couples(couples: list[Couple]) -> None:
    await asyncio.gather(*(couple.socket.close() for couple in couples), return_exceptions=True)


async def burst(url: str, accounts: list[Account], count: int, text: str, limit: float, meter: Any) -> Outcome:
    """``count`` couples, each in its room, send at the same moment."""
    outcome = Outcome()
    async with client_session() as session:
        couples = await open_couples(session, url, accounts, count, outcome)
        await asyncio.sleep(1.0)
        cpu = meter()
        started = time.perf_counter()
        await asyncio.gather(*(couple.send(text) for couple in couples))
        deadline = started + limit
        await asyncio.gather(*(couple.wait_answer(deadline) for couple in couples))
        outcome.elapsed = time.perf_counter() - started
        outcome.cpu = cpu.used()
        await close_couples(couples)
    return outcome


async def sustained(
    url: str, accounts: list[Account], rate: float, duration: float, text: str, limit: float, meter: Any, seed: int
) -> Outcome:
    """New couples arrive at random (Poisson, ``rate`` per second for ``duration`` seconds):
    each connects, joins a new room, sends one turn, waits for the answer and leaves."""
    outcome = Outcome()
    generator = random.Random(seed)
    arrivals: list[float] = []
    moment = generator.expovariate(rate)
    while moment < duration:
        arrivals.append(moment)
        moment += generator.expovariate(rate)
    async with client_session() as session:
        cpu = meter()
        started = time.perf_counter()
        deadline = started + duration + limit

        async def arrive(index: int, at: float) -> None:
            await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
            couple = Couple(session, accounts[index % len(accounts)], outcome)
            try:
                await asyncio.wait_for(couple.open(url), max(0.1, deadline - time.perf_counter()))
                await couple.send(text)
                await couple.wait_answer(deadline)
            except Exception as error:
                outcome.errors.append(f"{type(error).__name__}: {error}")
            finally:
                await couple.socket.close()

        await asyncio.gather(*(arrive(index, at) for index, at in enumerate(arrivals)))
        outcome.elapsed = time.perf_counter() - started
        outcome.cpu = cpu.used()
    outcome.sent = len(arrivals)
    return outcome


@dataclass
class LoginLag:
    health_alone_ms: float
    health_max_ms: float
    health_p50_ms: float
    logins_seconds: float
    longest_chunk_gap_ms: float
    chunks_during: int
    turns: Outcome


async def logins_while_streaming(
    url: str, accounts: list[Account], credentials: list[tuple[str, str]], streaming: int, limit: float, meter: Any
) -> LoginLag:
    """``streaming`` couples send a turn; once chunks flow, ``len(credentials)`` logins run at
    once while ``/api/health`` is polled every 50 ms."""
    outcome = Outcome()
    async with client_session() as session:

        async def health() -> float:
            started = time.perf_counter()
            async with session.get(f"{url}/api/health") as response:
                await response.read()
            return (time.perf_counter() - started) * 1000

        alone = sorted([await health() for _ in range(5)])[2]
        couples = await open_couples(session, url, accounts, streaming, outcome)
        cpu = meter()
        started = time.perf_counter()
        await asyncio.gather(*(couple.send(DIRECT_TEXT) for couple in couples))
        try:
            await asyncio.wait_for(outcome.chunk_seen.wait(), limit)
        except TimeoutError:
            outcome.errors.append("no chunk flowed before the logins")
        polls: list[float] = []
        finished = asyncio.Event()

        async def poll() -> None:
            while not finished.is_set():
                polls.append(await health())
                await asyncio.sleep(0.05)

        async def login(email: str, password: str) -> None:
            async with session.post(f"{url}/api/auth/login", json={"email": email, "password": password}) as response:
                await response.read()
                if response.status != 200:
                    outcome.errors.append(f"login {response.status}")

        poller = asyncio.create_task(poll())
        window_start = time.perf_counter()
        await asyncio.gather(*(login(email, password) for email, password in credentials))
        window_end = time.perf_counter()
        await asyncio.sleep(0.2)
        finished.set()
        await poller
        await asyncio.gather(*(couple.wait_answer(started + limit) for couple in couples))
        outcome.elapsed = time.perf_counter() - started
        outcome.cpu = cpu.used()
        await close_couples(couples)
    during = sorted(t for t in outcome.chunk_times if window_start - 0.5 <= t <= window_end + 0.2)
    gaps = [b - a for a, b in itertools.pairwise(during)]
    return LoginLag(
        health_alone_ms=alone,
        health_max_ms=max(polls, default=float("nan")),
        health_p50_ms=sorted(polls)[len(polls) // 2] if polls else float("nan"),
        logins_seconds=window_end - window_start,
        longest_chunk_gap_ms=max(gaps, default=float("nan")) * 1000,
        chunks_during=len(during),
        turns=outcome,
    )
