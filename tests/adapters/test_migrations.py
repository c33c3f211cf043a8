"""`mochung db migrate` builds the schema from the committed migrations; a distributed
server refuses an unmigrated database with the command to run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import asyncpg
import pytest
from typer.testing import CliRunner

from mochung.adapters.database import DatabaseNotMigrated, close_database, open_database
from mochung.cli import app
from tests.support import POSTGRES_URL, TEST_SECRET, need_service, scratch_postgres_database

EXPECTED_TABLES = {
    "users",
    "pages",
    "page_views",
    "chat_sessions",
    "chat_messages",
    "agent_runs",
    "files",
    "payments",
    "invitation_codes",
    "audit_entries",
    "rsvps",
    "guestbook_entries",
}


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    with scratch_postgres_database(need_service(POSTGRES_URL, "PostgreSQL"), "mochung_migrate") as url:
        yield url


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


def test_db_migrate_creates_the_schema_on_empty_postgres(empty_postgres: str, tmp_path) -> None:
    env = {
        "MOCHUNG_DATABASE_URL": empty_postgres.replace("postgresql://", "postgres://"),
        "MOCHUNG_DATA_DIR": str(tmp_path),
        "MOCHUNG_JWT_SECRET": TEST_SECRET,
    }
    runner = CliRunner()
    result = runner.invoke(app, ["db", "migrate"], env=env)
    assert result.exit_code == 0, result.output
    assert "applied: models.0001_initial" in result.output
    assert "models.0002_guests" in result.output
    assert EXPECTED_TABLES <= asyncio.run(_tables(empty_postgres))
    again = runner.invoke(app, ["db", "migrate"], env=env)
    assert again.exit_code == 0 and "up to date" in again.output


def test_unmigrated_database_is_refused_with_the_command_to_run(empty_postgres: str) -> None:
    url = empty_postgres.replace("postgresql://", "postgres://")

    async def attempt() -> None:
        context = await open_database(url, migrate=False, as_global=False)
        await close_database(context)

    with pytest.raises(DatabaseNotMigrated, match="mochung db migrate"):
        asyncio.run(attempt())


def test_serve_refuses_an_unmigrated_database_in_one_line(empty_postgres: str, tmp_path) -> None:
    env = {
        **os.environ,
        "MOCHUNG_DATABASE_URL": empty_postgres.replace("postgresql://", "postgres://"),
        "MOCHUNG_DATA_DIR": str(tmp_path),
        "MOCHUNG_JWT_SECRET": TEST_SECRET,
        "MOCHUNG_PORT": "0",
    }
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "mochung", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert "run `mochung db migrate`" in completed.stderr
    assert "Traceback" not in completed.stderr
