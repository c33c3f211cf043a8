"""Opening the database and applying the committed migrations.

Tortoise keeps its connections in a context object. The web process opens one and makes
it the process-wide fallback (request handlers run in tasks that do not inherit the
start-up task's context variables); a second event loop (the embedded worker thread)
opens its own with :func:`open_database(..., as_global=False)` and binds it per task
with :func:`bound`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, _current_context
from tortoise.migrations.executor import MigrationExecutor

APP_LABEL = "models"
MODEL_MODULES = ["mochung.domain.models"]
MIGRATIONS_MODULE = "mochung.domain.migrations"


class DatabaseNotMigrated(RuntimeError):
    """The database lacks committed migrations and this process may not apply them."""


def connection_label(url: str) -> str:
    """Name the connection after its dialect: Tortoise caches compiled queries per
    connection name, so SQLite and PostgreSQL in one process (the test suite) must differ."""
    return "sqlite" if url.startswith("sqlite") else "postgres"


def _connection(url: str) -> str | dict[str, Any]:
    if not url.startswith("sqlite"):
        return url
    expanded = expand_db_url(url)
    expanded["engine"] = "mochung.adapters.sqlite_engine"
    return expanded


def tortoise_config(url: str) -> dict[str, Any]:
    label = connection_label(url)
    return {
        "connections": {label: _connection(url)},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": label,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_folder(url: str) -> None:
    """The SQLite file holds password hashes: only its owner may read it. A folder made for it
    is 0700; the file is created (or tightened) 0600 before SQLite opens it, and SQLite gives
    its -wal and -shm files the same mode."""
    if not url.startswith("sqlite://") or ":memory:" in url:
        return
    path = Path(url.removeprefix("sqlite://").split("?", 1)[0])
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


def _executor(context: TortoiseContext) -> MigrationExecutor:
    client = context.db()
    apps = tortoise_config("sqlite://:memory:" if client.connection_name == "sqlite" else "postgres://")["apps"]
    return MigrationExecutor(client, apps)


async def unapplied_migrations(context: TortoiseContext) -> list[str]:
    with bound(context):
        steps = await _executor(context).plan()
    return [f"{step.migration.app_label}.{step.migration.name}" for step in steps if not step.backward]


async def apply_migrations(context: TortoiseContext) -> list[str]:
    """Apply every committed migration not yet applied; return their names."""
    pending = await unapplied_migrations(context)
    if pending:
        with bound(context):
            await _executor(context).migrate()
    return pending


async def connect(url: str, *, as_global: bool = True) -> TortoiseContext:
    """Connect without looking at the schema (``mochung db migrate`` starts here)."""
    _ensure_sqlite_folder(url)
    context = TortoiseContext()
    with bound(context):
        await context.init(config=tortoise_config(url), _enable_global_fallback=as_global)
    return context


async def open_database(url: str, *, migrate: bool, as_global: bool = True) -> TortoiseContext:
    """Connect; apply migrations when ``migrate``, otherwise refuse an unmigrated database."""
    context = await connect(url, as_global=as_global)
    try:
        if migrate:
            await apply_migrations(context)
        else:
            pending = await unapplied_migrations(context)
            if pending:
                raise DatabaseNotMigrated(
                    f"the database is missing {len(pending)} migration(s) ({', '.join(pending)}); "
                    "run `mochung db migrate` with the same MOCHUNG_DATABASE_URL first"
                )
    except BaseException:
        await context.close_connections()
        raise
    return context


async def close_database(context: TortoiseContext) -> None:
    await context.close_connections()


@contextlib.contextmanager
def bound(context: TortoiseContext) -> Iterator[TortoiseContext]:
    """Make ``context`` the current one for the running task (and restore the previous).

    ``TortoiseContext.__enter__`` keeps a single token on the object, which concurrent
    tasks sharing one context would overwrite; a token per entry avoids that.
    """
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)
