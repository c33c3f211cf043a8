"""The test harness: the real app from ``create_app`` on SQLite and, when configured, PostgreSQL.

``MOCHUNG_TEST_POSTGRES_URL`` / ``MOCHUNG_TEST_REDIS_URL`` name the services; with
``MOCHUNG_TEST_REQUIRE_SERVICES=1`` a missing one fails the test instead of skipping it.
Each run creates its own PostgreSQL database (dropped at the end) so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from mochung.adapters.database import close_database, open_database
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.support import POSTGRES_URL, REDIS_URL, TEST_SECRET, Api, need_service, scratch_postgres_database
from tests.support.fakes.portone_server import FakePortOne


async def _migrate(url: str) -> None:
    context = await open_database(url, migrate=True, as_global=False)
    await close_database(context)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    return need_service(POSTGRES_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def postgres_database(postgres_server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test run."""
    with scratch_postgres_database(postgres_server_url, "mochung_test") as url:
        asyncio.run(_migrate(url))
        yield url


async def truncate_postgres(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} CASCADE")
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Each database-touching test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "mochung.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite://{path}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(truncate_postgres(url))
    return url


@pytest.fixture
def redis_url() -> str:
    return need_service(REDIS_URL, "Redis")


@pytest.fixture
async def portone() -> AsyncIterator[FakePortOne]:
    """A fake PortOne API (V1 and V2) on a local port, spoken to over real HTTP."""
    async with FakePortOne() as fake:
        yield fake


@pytest.fixture
def namespace() -> str:
    """A private Redis key prefix (``MOCHUNG_BROKER_NAMESPACE``) for one test."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis(redis_url: str, namespace: str) -> AsyncIterator[Redis]:
    """A Redis client for the test; the test's namespace is deleted afterwards."""
    client = Redis.from_url(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "jwt_secret": TEST_SECRET,
            "log_format": "text",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
