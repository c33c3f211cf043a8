"""``mochung db migrate``: apply the committed migrations."""

from __future__ import annotations

import asyncio

import typer

from mochung.cli.common import run_or_fail
from mochung.settings import load_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the committed migrations to MOCHUNG_DATABASE_URL."""
    run_or_fail(_db_migrate)


def _db_migrate() -> None:
    from mochung.adapters.database import apply_migrations, close_database, connect

    settings = load_settings()

    async def run() -> list[str]:
        context = await connect(settings.resolved_database_url)
        try:
            return await apply_migrations(context)
        finally:
            await close_database(context)

    applied = asyncio.run(run())
    typer.echo("applied: " + ", ".join(applied) if applied else "the database is up to date")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
