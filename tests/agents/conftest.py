"""Fixtures of the agents' tests: settings with the offline model, a runtime, the wedding
fixtures shipped with the evaluation datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mochung.agents import AgentRuntime, build_runtime
from mochung.agents.evaluation.cases import load_fixture
from mochung.settings import Settings, load_settings


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
