"""End-to-end fixtures: a PostgreSQL database created for this run and migrated with
``python -m mochung db migrate``, and stacks of real ``serve``/``worker`` processes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, ThreadedServer
from tests.server.chat.fake_llm import FakeLlm, unique_base_url
from tests.support import POSTGRES_URL, REDIS_URL, need_service, scratch_postgres_database

pytestmark = pytest.mark.e2e
E2E_TIMEOUT_SECONDS = 600  # real processes start, restart and migrate: more than the suite's 120 s


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each end-to-end test gets the longer bound (unless it names its own)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def e2e_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = need_service(POSTGRES_URL, "PostgreSQL")
    redis_url = need_service(REDIS_URL, "Redis")
    with scratch_postgres_database(server, "mochung_e2e") as url:
        Stack(tmp_path_factory.mktemp("migrate"), url, redis_url).migrate()
        yield url


@pytest.fixture
def make_stack(tmp_path: Path, e2e_database: str) -> Iterator[Callable[..., Stack]]:
    """Build stacks on the shared e2e database; every process is killed at teardown."""
    stacks: list[Stack] = []

    def build(redis_url: str | None = None, **env: str) -> Stack:
        stack = Stack(tmp_path, e2e_database, redis_url or need_service(REDIS_URL, "Redis"), **env)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.stop()
    for stack in stacks:  # the broker's keys of this test's namespace
        asyncio.run(_forget_namespace(stack.redis_url, stack.namespace))


async def _forget_namespace(redis_url: str, namespace: str) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    except (OSError, RedisError):
        pass  # a private redis-server that is already gone
    finally:
        await client.aclose()


@pytest.fixture
def fake_llm() -> Iterator[tuple[FakeLlm, str]]:
    """A scripted OpenAI-compatible model answering each call after 0.3 s, in a thread of
    its own (the stack's processes call it): the fake and the base URL to give them."""
    fake = FakeLlm(delay_seconds=0.3)
    server = ThreadedServer(fake.app())
    server.start()
    yield fake, unique_base_url(server.url)
    server.stop()
