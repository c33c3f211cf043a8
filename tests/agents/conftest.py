"""Fixtures of the agents' tests: settings with the offline model, a runtime, the wedding
fixtures shipped with the evaluation datasets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mochung.agents import AgentRuntime, build_runtime
from mochung.agents.evaluation.cases import load_fixture
from mochung.settings import Settings, load_settings
from tests.support.fakes.openai_server import FakeOpenAI

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", llm="offline", kakao_rest_api_key=None)


@pytest.fixture(scope="session")
def runtime() -> AgentRuntime:
    """Compiling the agent graphs takes a moment; they hold no per-turn state, so share them."""
    return build_runtime(load_settings(llm="offline", kakao_rest_api_key=None))


@pytest.fixture
def wedding() -> dict[str, Any]:
    return load_fixture("minsu-jieun")


@pytest.fixture
async def openai(aiohttp_server: ServerFactory, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """A fake OpenAI-compatible server; ``OPENAI_BASE_URL`` points the hosted model at it."""
    fake = FakeOpenAI()
    server = await aiohttp_server(fake.app())
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("OPENAI_BASE_URL", str(server.make_url("/v1")))
    return fake
