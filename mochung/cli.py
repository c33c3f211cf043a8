"""`mochung`: one Typer app. Commands are thin: they build settings, call one private
function, and turn a failure into one readable line and a non-zero exit."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

import mochung
from mochung.domain.errors import DomainError
from mochung.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
app = typer.Typer(
    name="mochung",
    help="모청 backend: server, worker, admin tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Admin accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")


def stderr() -> Console:
    """Where commands report; soft wrap keeps one message on one line for scripts."""
    return Console(stderr=True, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    stderr().print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def run_or_fail(work: Callable[[], T], expected: tuple[type[Exception], ...] = ()) -> T:
    """Run a command's body; known failures (and ``expected`` ones) become one line on
    stderr and exit code 1. Anything else is a bug and keeps its traceback."""
    from mochung.domain.db import DatabaseNotMigrated

    try:
        return work()
    except (SettingsError, DatabaseNotMigrated, DomainError, OSError, ConnectionError, *expected) as error:
        raise fail(getattr(error, "message", None) or str(error)) from None
    except ValidationError as error:  # a bad MOCHUNG_* value
        raise fail(f"invalid setting: {error}") from None


def with_database(settings: Settings, body: Callable[[], Awaitable[T]], *, migrate: bool | None = None) -> T:
    """Open the database for one command, run ``body``, close it."""
    from mochung.domain.db import close_database, open_database

    async def session() -> T:
        context = await open_database(
            settings.resolved_database_url, migrate=not settings.distributed if migrate is None else migrate
        )
        try:
            return await body()
        finally:
            await close_database(context)

    return asyncio.run(session())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mochung {mochung.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """모청 backend."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default MOCHUNG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MOCHUNG_PORT, 3002).")] = None,
) -> None:
    """Serve REST and Socket.IO (embedded mode also runs the chat worker inside)."""
    run_or_fail(lambda: _serve(host, port))


def _serve(host: str | None, port: int | None) -> None:
    from aiohttp import web

    from mochung.server.app import create_app
    from mochung.server.logs import configure_logging

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    application = create_app(settings)
    stderr().print(f"mochung {mochung.__version__} ({settings.mode}) on http://{settings.host}:{settings.port}")
    web.run_app(application, host=settings.host, port=settings.port, print=None, access_log=None)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the committed migrations to MOCHUNG_DATABASE_URL."""
    run_or_fail(_db_migrate)


def _db_migrate() -> None:
    from mochung.domain.db import apply_migrations, close_database, connect

    settings = load_settings()

    async def run() -> list[str]:
        context = await connect(settings.resolved_database_url)
        try:
            return await apply_migrations(context)
        finally:
            await close_database(context)

    applied = asyncio.run(run())
    typer.echo("applied: " + ", ".join(applied) if applied else "the database is up to date")


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Argument(help="The admin's email.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create an admin account (or promote an existing one and reset its password)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    run_or_fail(lambda: _admin_create(email, password, name))


def _admin_create(email: str, password: str, name: str | None) -> None:
    from mochung.domain.users import create_admin

    settings = load_settings()
    user, created = with_database(settings, lambda: create_admin(email, password, name))
    typer.echo(f"{'created' if created else 'promoted'} admin {user.email} ({user.id})")


def _register_commands() -> None:
    """Commands of the other areas live in ``mochung.commands``; each module adds its own."""
    import importlib
    import pkgutil

    import mochung.commands as package

    for module in pkgutil.iter_modules(package.__path__):
        register = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "register", None)
        if register is not None:
            register(app)


_register_commands()
