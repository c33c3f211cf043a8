"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

POSTGRES_URL = os.environ.get("MOCHUNG_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("MOCHUNG_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("MOCHUNG_TEST_REQUIRE_SERVICES") == "1"
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
PASSWORD = "correct horse battery"


async def _on_server(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def scratch_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL in the
    ``postgres://`` form mochung's settings take. The name is unique to this process and call."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_on_server(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}".replace("postgresql://", "postgres://", 1)
    finally:
        asyncio.run(_on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def need_service(url: str | None, name: str) -> str:
    if url:
        return url
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (MOCHUNG_TEST_REQUIRE_SERVICES=1) but its URL is not set")
    pytest.skip(f"{name} not configured")


class Api:
    """A tiny client for tests: register and log in users, and make authorised calls."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    async def register(self, email: str | None = None, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        response = await self.client.post("/api/auth/register", json={"email": email, "password": password, **extra})
        assert response.status == 201, await response.text()
        return await response.json()

    async def login(self, email: str, password: str = PASSWORD) -> str:
        response = await self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status == 200, await response.text()
        return (await response.json())["access_token"]

    async def user(self, **extra: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A new user and the headers that authenticate as them."""
        user = await self.register(**extra)
        token = await self.login(user["email"])
        return user, {"Authorization": f"Bearer {token}"}

    async def admin(self) -> tuple[dict[str, Any], dict[str, str]]:
        from mochung.domain.models import User

        user = await self.register()
        await User.filter(id=user["id"]).update(is_admin=True)
        token = await self.login(user["email"])
        return user, {"Authorization": f"Bearer {token}"}
