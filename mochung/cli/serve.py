"""``mochung serve``: REST and Socket.IO (embedded mode also runs the chat worker inside)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import typer

import mochung
from mochung.cli.common import run_or_fail, stderr
from mochung.settings import load_settings

SHUTDOWN_SECONDS = 1.5
log = logging.getLogger("mochung.serve")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default MOCHUNG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MOCHUNG_PORT, 3002).")] = None,
) -> None:
    """Serve REST and Socket.IO (embedded mode also runs the chat worker inside)."""
    run_or_fail(lambda: _serve(host, port))


def _serve(host: str | None, port: int | None) -> None:
    from aiohttp import web

    from mochung.logging import configure_logging
    from mochung.server.app import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    application = create_app(settings)
    application.cleanup_ctx.append(_chat_worker_started)
    application.on_startup.append(_graceful_sigterm)
    application.on_startup.append(_freeze_startup_heap)  # after every resource is open
    stderr().print(f"mochung {mochung.__version__} ({settings.mode}) on http://{settings.host}:{settings.port}")
    # SIGTERM: sockets are told to go elsewhere (on_shutdown), requests get SHUTDOWN_SECONDS to finish
    web.run_app(
        application,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )


async def _chat_worker_started(app: Any) -> AsyncIterator[None]:
    """Start this process's chat worker (embedded mode) in the background as soon as the
    server is up, so the first couple to write after a restart does not wait for it (~1 s:
    Dramatiq's threads, the worker's connections, the agents). The app alone starts it on
    the first turn (tests build hundreds of apps that never chat); that stays the fallback
    if this start fails, and the first turn then reports the error."""
    from mochung.server import keys

    async def start() -> None:
        try:
            await app[keys.CHAT].start_worker()
        except Exception as error:
            log.warning("the chat worker did not start ahead of the first turn: %s", error)

    task = asyncio.create_task(start(), name="chat-worker-start")
    try:
        yield
    finally:
        await task  # let a start in progress finish, so the chat's cleanup stops that worker


async def _freeze_startup_heap(app: Any) -> None:
    """What start-up made (modules, models, schemas: ~100 MiB of objects that live as long
    as the process) is left out of the garbage collector's full passes from now on, which
    otherwise walk it again and again while thousands of sockets connect (~20% of the CPU
    of a connect storm, measured with scripts/bench_sockets.py)."""
    gc.collect()
    gc.freeze()


async def _graceful_sigterm(app: Any) -> None:
    """SIGTERM: first let the Socket.IO clients go (they reconnect to another process and
    resume), then stop as aiohttp does — its own handler would first stop reading from every
    connection, so no client could complete its close and the stop would wait them out."""
    import asyncio
    import signal

    from aiohttp.web_runner import GracefulExit

    from mochung.server.chat import let_clients_go

    loop = asyncio.get_running_loop()

    def stop() -> None:
        raise GracefulExit()

    async def let_go_then_stop() -> None:
        try:
            await let_clients_go(app)
        finally:
            loop.call_soon(stop)

    tasks: list[asyncio.Task[None]] = []
    loop.add_signal_handler(signal.SIGTERM, lambda: tasks.append(loop.create_task(let_go_then_stop())))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
