"""Real processes for the end-to-end tests: ``python -m mochung serve`` / ``worker`` on a
fresh PostgreSQL database and Redis, each with its own log file; a private
``redis-server`` when a test needs to restart Redis; a fake LLM server in a thread.

Every process is started in its own session and killed at teardown, whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.support import PASSWORD, TEST_SECRET
from tests.support.waiting import wait_until

START_SECONDS = 60.0  # generous: importing the agents takes seconds on a busy 2-core box


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args, env=env, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=15)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        self._log.close()


class Stack:
    """Processes sharing one database and one Redis, under one broker namespace."""

    def __init__(self, workdir: Path, database_url: str, redis_url: str, **env: str) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.redis_url = redis_url
        self.namespace = f"e2e-{uuid.uuid4().hex[:10]}"
        self.extra_env = env
        self.processes: list[Process] = []

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("MOCHUNG_", "OPENAI_"))}
        base.update(
            {
                "MOCHUNG_DATABASE_URL": self.database_url,
                "MOCHUNG_REDIS_URL": self.redis_url,
                "MOCHUNG_JWT_SECRET": TEST_SECRET,
                "MOCHUNG_BROKER_NAMESPACE": self.namespace,
                "MOCHUNG_DATA_DIR": str(self.workdir / "data"),
                "MOCHUNG_LOG_FORMAT": "text",
                "MOCHUNG_LOG_LEVEL": "INFO",
                "MOCHUNG_CHAT_MESSAGES_PER_MINUTE": "1000",
                # every test registers from 127.0.0.1, and the limits live in the shared Redis
                "MOCHUNG_REGISTRATIONS_PER_HOUR": "100000",
                "MOCHUNG_CHAT_SESSIONS_PER_HOUR": "100000",
                "PYTHONUNBUFFERED": "1",
            }
        )
        base.update(self.extra_env)
        base.update(extra)
        for name in ("MOCHUNG_DATABASE_URL", "MOCHUNG_REDIS_URL"):
            if not base[name]:  # a stack without them is embedded: SQLite, the in-process worker
                del base[name]
        return base

    def _start(self, name: str, args: list[str], **env: str) -> Process:
        process = Process(name, [sys.executable, "-m", "mochung", *args], self.env(**env), self.workdir)
        self.processes.append(process)
        return process

    def start_serve(self, name: str = "serve", **env: str) -> tuple[str, Process]:
        port = free_port()
        process = self._start(name, ["serve", "--port", str(port)], **env)
        return f"http://127.0.0.1:{port}", process

    def serve(self, name: str = "serve", **env: str) -> str:
        """Start a web process; return its base URL once its health check passes."""
        url, process = self.start_serve(name, **env)
        self.wait_healthy(url, process)
        return url

    def up(self, web: int = 1, workers: int = 1, **env: str) -> list[str]:
        """Start web and worker processes together; return the web URLs once all are ready."""
        started = [self.start_serve(f"serve-{index}", **env) for index in range(web)]
        worker_processes = [self.start_worker(f"worker-{index}", **env) for index in range(workers)]
        for url, process in started:
            self.wait_healthy(url, process)
        for worker in worker_processes:
            self.wait_worker(worker)
        return [url for url, _ in started]

    def start_worker(self, name: str = "worker", *, processes: int = 1, concurrency: int = 4, **env: str) -> Process:
        return self._start(name, ["worker", "--processes", str(processes), "--concurrency", str(concurrency)], **env)

    def wait_worker(self, process: Process) -> Process:
        def ready() -> bool:
            process.check_alive()
            return "chat worker running" in process.log()

        wait_until(ready, f"{process.name} to start", within=START_SECONDS)
        return process

    def wait_healthy(self, url: str, process: Process | None = None) -> dict[str, Any]:
        """Poll /api/health until it answers 200 (every service up)."""

        def healthy() -> dict[str, Any] | None:
            if process is not None:
                process.check_alive()
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                    return json.loads(response.read())
            except (urllib.error.URLError, OSError):  # HTTPError (503) included
                return None

        return wait_until(healthy, f"{url} to be healthy", within=START_SECONDS)

    def _command(self, args: list[str], stdin: str | None = None) -> None:
        """A one-off ``mochung`` command against this stack's settings (fails the test if it fails)."""
        subprocess.run(
            [sys.executable, "-m", "mochung", *args],
            input=stdin.encode() if stdin is not None else None,
            env=self.env(),
            cwd=self.workdir,
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )

    def migrate(self) -> None:
        self._command(["db", "migrate"])

    def admin_token(self, web: str, email: str | None = None) -> str:
        """An admin made with ``mochung admin create``, signed in over REST at ``web``."""
        email = email or f"admin-{uuid.uuid4().hex[:8]}@example.com"
        self._command(["admin", "create", email, "--password-stdin"], stdin=PASSWORD)
        token: str = _post(f"{web}/api/auth/login", {"email": email, "password": PASSWORD})["access_token"]
        return token

    def stop(self) -> None:
        for process in self.processes:  # all at once, then wait for each
            if process.alive():
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes:
            process.stop()


def register(url: str) -> tuple[str, str]:
    """A user made through the real REST API: (id, token)."""
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    user = _post(f"{url}/api/auth/register", {"email": email, "password": PASSWORD})
    login = _post(f"{url}/api/auth/login", {"email": email, "password": PASSWORD})
    return user["id"], login["access_token"]


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def admin_system(web_url: str, admin_token: str) -> dict[str, Any]:
    """``GET /api/admin/system`` as the admin (what the TUI's System screen shows)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{web_url}/api/admin/system", headers={"Authorization": f"Bearer {admin_token}"}) as response,
    ):
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


class RedisServer:
    """A private redis-server (no persistence) that a test may restart on the same port."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            args, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

        def accepting() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    return connection.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until(accepting, "redis-server to accept connections", within=START_SECONDS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)
        self.process = None


class ThreadedServer:
    """An aiohttp app on a local port, served from a thread with its own event loop (so it
    outlives any one test's loop)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
