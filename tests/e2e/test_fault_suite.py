"""Issue 12's fault suite, across real processes: after each fault every accepted message
ends ``done`` or ``failed`` (with ``message-error`` to the room), none is answered twice,
and clients come back.

- ``kill -9`` of an embedded ``mochung serve`` mid-turn, then a restart;
- a web process killed, and a web process sent SIGTERM with thousands of sockets open (its
  clients, behind a load balancer, reconnect to the other process and resume);
- a worker sent SIGTERM mid-turn;
- PostgreSQL restarted under load: a private ``postgres`` (``initdb`` into a temporary
  folder, a free port) — never the machine's shared cluster.

(A worker killed mid-turn and a Redis restart are in ``test_faults.py``; all of them at
once, under load, in ``test_soak.py``.)
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from scripts.bench.rawsio import RawSocket
from tests.e2e.stack import START_SECONDS, Process, Stack, free_port, register
from tests.server.chat.fake_llm import MODEL_NAME, FakeLlm
from tests.server.chat.helpers import ChatClient, new_room
from tests.support import TEST_SECRET
from tests.support.waiting import eventually, wait_until

pytestmark = pytest.mark.e2e


def _health(url: str) -> tuple[int, dict[str, Any]] | None:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, OSError):
        return None


# -- embedded: kill -9 mid-turn ----------------------------------------------------------------


class Embedded:
    """``mochung serve`` with nothing configured (SQLite, in-process worker) in ``workdir``."""

    def __init__(self, workdir: Path, llm_url: str) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.llm_url = llm_url
        self.processes: list[Process] = []

    def start(self, name: str) -> tuple[str, Process]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCHUNG_", "OPENAI_"))}
        port = free_port()
        env.update(
            MOCHUNG_DATA_DIR=str(self.data),
            MOCHUNG_JWT_SECRET=TEST_SECRET,
            MOCHUNG_LOG_FORMAT="text",
            MOCHUNG_CHAT_MESSAGES_PER_MINUTE="1000",
            MOCHUNG_LLM=MODEL_NAME,
            OPENAI_BASE_URL=self.llm_url,
            OPENAI_API_KEY="test-key-not-secret",
            PYTHONUNBUFFERED="1",
        )
        process = Process(name, [sys.executable, "-m", "mochung", "serve", "--port", str(port)], env, self.workdir)
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            process.check_alive()
            found = _health(url)
            return found is not None and found[0] == 200

        wait_until(healthy, f"{name} to be healthy", within=START_SECONDS)
        return url, process

    def statuses(self, message_ids: list[str]) -> dict[str, str]:
        connection = sqlite3.connect(self.data / "mochung.sqlite3")
        try:
            rows = connection.execute("SELECT message_id, status FROM agent_runs").fetchall()
        finally:
            connection.close()
        wanted = {m.replace("-", ""): m for m in message_ids} | {m: m for m in message_ids}
        return {wanted[str(row[0])]: row[1] for row in rows if str(row[0]) in wanted}

    def answers(self, message_id: str) -> int:
        connection = sqlite3.connect(self.data / "mochung.sqlite3")
        try:
            rows = connection.execute(
                "SELECT COUNT(*) FROM chat_messages WHERE role = 'assistant' AND position = 0 "
                "AND (message_id = ? OR message_id = ?)",
                (message_id, message_id.replace("-", "")),
            ).fetchone()
        finally:
            connection.close()
        return int(rows[0])

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


async def test_kill_9_of_the_embedded_server_mid_turn_leaves_nothing_stuck(
    tmp_path: Path, fake_llm: tuple[FakeLlm, str]
) -> None:
    _, llm_url = fake_llm
    embedded = Embedded(tmp_path, llm_url)
    clients: list[ChatClient] = []
    try:
        url, server = embedded.start("serve-first")
        user_id, token = register(url)
        room = new_room()
        chat = ChatClient(url)
        clients.append(chat)
        await chat.connect(token)
        session_id = (await chat.join(room, user_id))["session_id"]
        accepted = [await chat.send(session_id, room, user_id, f"메시지 {n}") for n in range(8)]
        seen = await chat.wait_for("message-chunk")
        (embedded.data / "files" / ".tmp").mkdir(parents=True, exist_ok=True)
        half_written = embedded.data / "files" / ".tmp" / f"{uuid.uuid4().hex}.part"
        half_written.write_bytes(b"\0" * 6 * 1024 * 1024)
        server.kill()  # SIGKILL
        await chat.close()

        url, restarted = embedded.start("serve-restarted")
        # Watched through the server, as a client sees it (another process reading the SQLite
        # file while the server writes it can stall the server's commits).
        back = ChatClient(url)
        clients.append(back)
        await back.connect(token)
        turn = seen[0]["message_id"]
        await back.join(room, user_id, resume={"message_id": turn, "after_seq": seen[0]["seq"]})

        def ended() -> set[str]:
            answered = {item["message_id"] for item in back.events["roomHistory"][-1] if item["role"] == "assistant"}
            answered |= {m["message_id"] for m in back.events["newMessage"] if m["role"] == "assistant"}
            failed = {e.get("message_id") for e in back.events["message-error"]}
            return (answered | failed) & set(accepted)

        async def rejoined() -> set[str]:
            await back.join(room, user_id)
            return ended()

        await eventually(rejoined, "every accepted turn to end", until=lambda found: len(found) == 8, within=120)
        # the client that resumed the interrupted turn got its end (answer or error), not silence
        assert turn in ended()
        assert not half_written.exists()
        restarted.stop()
        statuses = embedded.statuses(accepted)
        assert len(statuses) == 8 and set(statuses.values()) <= {"done", "failed"}, statuses
        assert all(embedded.answers(m) == (1 if statuses[m] == "done" else 0) for m in accepted), "one answer each"
    finally:
        for client in clients:
            await client.close()
        embedded.stop()


# -- web processes: killed, and SIGTERM with many sockets ------------------------------------


async def test_a_killed_web_process_clients_reconnect_to_another_and_resume(
    make_stack: Callable[..., Stack], fake_llm: tuple[FakeLlm, str]
) -> None:
    fake, llm_url = fake_llm
    stack = make_stack(MOCHUNG_LLM=MODEL_NAME, OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="test-key-not-secret")
    first_url, second_url = stack.up(web=2, workers=1)
    first = next(p for p in stack.processes if p.name == "serve-0")
    user_id, token = register(first_url)
    room = new_room()
    chat = ChatClient(first_url)
    again = ChatClient(second_url)
    try:
        await chat.connect(token)
        session_id = (await chat.join(room, user_id))["session_id"]
        message_id = await chat.send(session_id, room, user_id, "안녕하세요")
        seen = await chat.wait_for("message-chunk", count=2, message_id=message_id)
        first.kill()  # SIGKILL: the client's socket drops
        # the client reconnects (to the other process, as a load balancer would send it) and resumes
        await again.connect(token)
        await again.join(room, user_id, resume={"message_id": message_id, "after_seq": seen[-1]["seq"]})
        answers = await again.answer(message_id)
        text = "".join(c["delta"] for c in [*seen, *again.chunks(message_id)]).strip()
        assert text == fake.answer
        assert [a["content"] for a in answers if a["type"] == "text"] == [fake.answer]
    finally:
        await chat.close()
        await again.close()


class Balancer:
    """A TCP load balancer in front of web processes, as production has: each connection
    goes to the first of ``backends`` that accepts it (so once one is gone, to the next)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = [urllib.parse.urlsplit(url) for url in backends]
        self.chosen: list[int] = []  # the backend of each connection, in order
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.pipes):
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        for index, backend in enumerate(self.backends):
            try:
                reader, writer = await asyncio.open_connection(backend.hostname, backend.port)
            except OSError:
                continue
            self.chosen.append(index)
            for source, target in ((client_reader, writer), (reader, client_writer)):
                task = asyncio.create_task(self._pipe(source, target))
                self.pipes.add(task)
                task.add_done_callback(self.pipes.discard)
            return
        client_writer.close()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                target.write(data)
                await target.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            target.close()


SIGTERM_SOCKETS = int(os.environ.get("MOCHUNG_TEST_SIGTERM_SOCKETS", "2000"))


async def test_sigterm_of_a_web_process_with_thousands_of_sockets_stops_within_5_s_and_its_clients_resume(
    make_stack: Callable[..., Stack], fake_llm: tuple[FakeLlm, str]
) -> None:
    fake, llm_url = fake_llm
    stack = make_stack(MOCHUNG_LLM=MODEL_NAME, OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="test-key-not-secret")
    first_url, second_url = stack.up(web=2, workers=1)
    web = next(p for p in stack.processes if p.name == "serve-0")
    user_id, token = register(first_url)
    balancer = Balancer([first_url, second_url])
    await balancer.start()
    # thousands of idle sockets on the first web process, each in a room of its own
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    gate = asyncio.Semaphore(100)
    idle: list[RawSocket] = []
    closers: list[asyncio.Task[None]] = []

    async def open_one(index: int) -> None:
        socket = RawSocket(session)
        idle.append(socket)
        async with gate:
            await socket.connect(first_url, "chat", token)
            info = socket.queue("session-info")
            await socket.emit("joinRoom", {"room": f"idle-{index}-{uuid.uuid4().hex[:8]}", "userId": user_id})
            await asyncio.wait_for(info.get(), 120)
            socket.queues.clear()
        closers.append(asyncio.create_task(close_when_told(socket)))

    async def close_when_told(socket: RawSocket) -> None:
        """As a browser does: the server's close packet ends the WebSocket from this side too."""
        await socket.closed.wait()
        if socket.ws is not None:
            await socket.ws.close()

    # and a client mid-turn, behind the balancer
    chat = ChatClient(balancer.url)
    reasons: list[str] = []
    chat.sio.on("disconnect", lambda *reason: reasons.append(str(reason)), namespace=chat.namespace)
    try:
        await asyncio.gather(*(open_one(index) for index in range(SIGTERM_SOCKETS)))
        await chat.connect(token)
        room = new_room()
        session_id = (await chat.join(room, user_id))["session_id"]
        message_id = await chat.send(session_id, room, user_id, "안녕하세요")
        await chat.wait_for("message-chunk", count=2, message_id=message_id)
        assert balancer.chosen == [0]  # on the first web process

        started = time.monotonic()
        os.killpg(web.popen.pid, signal.SIGTERM)
        # waited for off the loop: the clients (on this loop) must answer the close
        await asyncio.get_running_loop().run_in_executor(None, lambda: web.popen.wait(timeout=30))
        took = time.monotonic() - started
        assert took < 5.0, f"the web process took {took:.1f} s to stop"
        assert web.popen.returncode == 0, web.log()[-2000:]
        assert f"closing {SIGTERM_SOCKETS + 1} sockets" in web.log()
        await eventually(
            lambda: sum(socket.closed.is_set() for socket in idle),
            "every socket to be closed",
            until=lambda n: n == len(idle),
        )

        # Told (an Engine.IO close, on which the frontend's socket.io-client reconnects by itself;
        # python-socketio's client does not, so this one reconnects as the frontend would):
        # through the balancer, to the other web process, and resumes the turn.
        await eventually(lambda: reasons, "the client to be told")
        await chat.connect(token)
        assert balancer.chosen[-1] == 1
        seen = chat.chunks(message_id)
        await chat.join(room, user_id, resume={"message_id": message_id, "after_seq": seen[-1]["seq"]})
        history = [m for m in chat.events["roomHistory"][-1] if m["message_id"] == message_id]
        answers = [m for m in history if m["role"] == "assistant"]  # ended meanwhile: in the history
        chunks = chat.chunks(message_id)
        assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1)), "no chunk twice, none missing"
        if not answers:  # still running: the rest of it streams, then the answer, once
            answers = await chat.answer(message_id)
            assert "".join(c["delta"] for c in chat.chunks(message_id)).strip() == fake.answer
        assert [a["content"] for a in answers if a["type"] == "text"] == [fake.answer]
    finally:
        await chat.close()
        await asyncio.gather(*(socket.close() for socket in idle), return_exceptions=True)
        for closer in closers:
            closer.cancel()
        await asyncio.gather(*closers, return_exceptions=True)
        await session.close()
        await balancer.stop()


# -- a worker sent SIGTERM mid-turn ----------------------------------------------------------


async def test_a_worker_sent_sigterm_finishes_its_turns(
    make_stack: Callable[..., Stack], fake_llm: tuple[FakeLlm, str]
) -> None:
    fake, llm_url = fake_llm
    stack = make_stack(MOCHUNG_LLM=MODEL_NAME, OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="test-key-not-secret")
    (url,) = stack.up(web=1, workers=1)
    worker = next(p for p in stack.processes if p.name == "worker-0")
    user_id, token = register(url)
    room = new_room()
    chat = ChatClient(url)
    try:
        await chat.connect(token)
        session_id = (await chat.join(room, user_id))["session_id"]
        turns = [await chat.send(session_id, room, user_id, f"질문 {n}") for n in range(3)]
        await chat.wait_for("message-chunk", message_id=turns[0])
        started = time.monotonic()
        os.killpg(worker.popen.pid, signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, lambda: worker.popen.wait(timeout=60))
        assert time.monotonic() - started < 30 + 5, "within the worker's stop timeout"
        stack.wait_worker(stack.start_worker("worker-after"))  # for any turn handed back
        for message_id in turns:
            answers = await chat.answer(message_id)
            assert [a["content"] for a in answers if a["type"] == "text"] == [fake.answer]
    finally:
        await chat.close()


# -- PostgreSQL restarted under load ------------------------------------------------------------


def _postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster of this test's own (never the machine's)."""

    def __init__(self, workdir: Path) -> None:
        binaries = _postgres_binaries()
        if binaries is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: cannot restart a private one")
        self.bin = binaries
        if os.geteuid() == 0:  # postgres runs as the postgres user, who must reach its folder
            workdir = Path(tempfile.mkdtemp(prefix="mochung-pg-", dir="/tmp"))
            os.chmod(workdir, 0o755)
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.port = free_port()
        self.socket_dir = workdir / "pgsock"
        self.socket_dir.mkdir()
        self.log = workdir / "postgres.log"
        run_as: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            if shutil.which("runuser") is None:
                pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
            run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(workdir, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self.run_as = run_as
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])

    def _run(self, args: list[str]) -> None:
        done = subprocess.run([*self.run_as, *args], capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.decode(errors='replace')[-2000:]}")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/mochung"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"])

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=120,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    workdir = tmp_path_factory.mktemp("postgres")
    os.chmod(workdir, 0o755)
    postgres = PrivatePostgres(workdir)
    postgres.start()

    async def create() -> None:
        connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
        try:
            await connection.execute("CREATE DATABASE mochung")
        finally:
            await connection.close()

    asyncio.run(create())
    yield postgres
    postgres.remove()


async def test_postgres_restarted_under_load_is_503_json_then_recovers_and_loses_nothing(
    tmp_path: Path, private_postgres: PrivatePostgres, make_stack: Callable[..., Stack]
) -> None:
    stack = make_stack()
    stack.database_url = private_postgres.url
    stack.migrate()
    (url,) = stack.up(web=1, workers=1)
    user_id, token = register(url)
    room = new_room()
    chat = ChatClient(url)
    accepted: list[str] = []
    statuses: list[int] = []
    bodies: list[dict[str, Any]] = []
    try:
        await chat.connect(token)
        session_id = (await chat.join(room, user_id))["session_id"]
        loop = asyncio.get_running_loop()
        stop_load = asyncio.Event()

        def get(path: str) -> tuple[int, dict[str, Any]]:
            request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read() or b"null")

        async def load() -> None:
            while not stop_load.is_set():
                status, body = await loop.run_in_executor(None, get, "/api/page/my-pages")
                statuses.append(status)
                if status >= 500:
                    bodies.append(body)
                before = len(chat.events["message-accepted"])
                await chat.emit(
                    "chat-message",
                    {"text": "안녕하세요", "session_id": session_id, "room": room, "userId": user_id, "timestamp": 0},
                )
                await asyncio.sleep(0.2)
                accepted.extend(str(a["message_id"]) for a in chat.events["message-accepted"][before:])

        loader = asyncio.create_task(load())
        await asyncio.sleep(2)
        private_postgres.stop()
        down = await eventually(
            lambda: _health(url), "health to say the database is down", until=lambda h: h is not None and h[0] == 503
        )
        assert down[1]["services"]["database"] != "ok"
        await asyncio.sleep(3)
        private_postgres.start()
        await eventually(lambda: _health(url), "recovery", until=lambda h: h is not None and h[0] == 200, within=60)
        await asyncio.sleep(3)
        stop_load.set()
        await loader
        accepted.extend(str(a["message_id"]) for a in chat.events["message-accepted"])
        accepted = sorted(set(accepted))

        assert 500 not in statuses, "no 500 while the database was down"
        assert 503 in statuses and all(b.get("statusCode") == 503 for b in bodies if isinstance(b, dict))
        assert statuses[-1] == 200
        assert accepted
        for message_id in accepted:  # every accepted message gets its one answer
            answers = await chat.answer(message_id)
            assert len([a for a in answers if a["type"] == "text"]) == 1
    finally:
        await chat.close()
