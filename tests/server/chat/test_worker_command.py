"""`mochung worker` in embedded mode says what to do instead of starting (the distributed
worker itself runs in tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mochung.cli import app


def test_worker_refuses_to_start_without_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MOCHUNG_REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "MOCHUNG_REDIS_URL is not set" in result.output


def test_worker_options_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["worker", "--processes", "0"])
    assert result.exit_code == 2
