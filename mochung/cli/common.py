"""What every command shares: one readable line and a non-zero exit for a known failure,
and the database opened for the duration of one command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import typer
from pydantic import ValidationError
from rich.console import Console

from mochung.domain.errors import DomainError
from mochung.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from mochung.agents import AgentRuntime

T = TypeVar("T")


def stderr() -> Console:
    """Where commands report; soft wrap keeps one message on one line for scripts."""
    return Console(stderr=True, soft_wrap=True)


def stdout() -> Console:
    return Console()


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def fail(message: str) -> typer.Exit:
    stderr().print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def run_or_fail(work: Callable[[], T], expected: tuple[type[Exception], ...] = ()) -> T:
    """Run a command's body; known failures (and ``expected`` ones) become one line on
    stderr and exit code 1. Anything else is a bug and keeps its traceback."""
    from mochung.adapters.database import DatabaseNotMigrated  # the database driver loads on first use

    known: tuple[type[Exception], ...] = (SettingsError, DatabaseNotMigrated, DomainError, OSError, ConnectionError)
    try:
        return work()
    except known + expected as error:
        raise fail(getattr(error, "message", None) or str(error)) from None
    except ValidationError as error:  # a bad MOCHUNG_* value
        raise fail(f"invalid setting: {error}") from None


def with_database(settings: Settings, body: Callable[[], Awaitable[T]], *, migrate: bool | None = None) -> T:
    """Open the database for one command, run ``body``, close it."""
    from mochung.adapters.database import close_database, open_database

    async def session() -> T:
        context = await open_database(
            settings.resolved_database_url, migrate=not settings.distributed if migrate is None else migrate
        )
        try:
            return await body()
        finally:
            await close_database(context)

    return asyncio.run(session())


def settings_or_fail() -> Settings:
    return run_or_fail(load_settings)


def run_async(body: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an agents command's async body; known failures become one line and exit code 1."""
    from mochung.agents.evaluation import EvaluationError

    return run_or_fail(lambda: asyncio.run(body()), expected=(EvaluationError,))


@asynccontextmanager
async def agent_runtime(settings: Settings) -> AsyncIterator[AgentRuntime]:
    """The agents as ``settings`` configure them, with one HTTP session for the command."""
    from mochung.agents import build_runtime  # imported here so ``mochung --help`` stays fast

    async with aiohttp.ClientSession() as http:
        yield build_runtime(settings, http=http)
