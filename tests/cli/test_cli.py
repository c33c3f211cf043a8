"""The CLI in process: version, admin creation, and one-line failures."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import mochung
from mochung.cli import app


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"mochung {mochung.__version__}"


def test_admin_create_then_promote(tmp_path: Path) -> None:
    env = {"MOCHUNG_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    created = runner.invoke(
        app, ["admin", "create", "ops@example.com", "--password-stdin"], input="a-long-password\n", env=env
    )
    assert created.exit_code == 0, created.output
    assert "created admin ops@example.com" in created.output
    again = runner.invoke(
        app, ["admin", "create", "OPS@example.com", "--password-stdin"], input="another-password\n", env=env
    )
    assert again.exit_code == 0 and "promoted admin ops@example.com" in again.output


def test_admin_create_refuses_a_short_password_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["admin", "create", "ops@example.com", "--password-stdin"],
        input="short\n",
        env={"MOCHUNG_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output
    assert "Traceback" not in result.output


def test_distributed_without_secret_fails_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["serve"], env={"MOCHUNG_DATA_DIR": str(tmp_path), "MOCHUNG_REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    assert result.exit_code == 1
    assert "MOCHUNG_JWT_SECRET is required" in result.output


def test_a_bad_setting_fails_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve"], env={"MOCHUNG_DATA_DIR": str(tmp_path), "MOCHUNG_PORT": "not-a-port"})
    assert result.exit_code == 1
    assert "invalid setting" in result.output and "port" in result.output
