"""Fixtures of the realtime tests: a real server on a local port and Socket.IO clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestClient

from tests.server.chat.helpers import ChatClient


@pytest.fixture
def base_url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


@pytest.fixture
async def sockets(base_url: str) -> AsyncIterator[Callable[..., ChatClient]]:
    """Make Socket.IO clients of the test server; all are closed at the end."""
    made: list[ChatClient] = []

    def make(style: str = "path", url: str | None = None) -> ChatClient:
        chat_client = ChatClient(url or base_url, style)
        made.append(chat_client)
        return chat_client

    yield make
    for chat_client in made:
        await chat_client.close()
