"""`mochung invite create` in process, against a fresh embedded database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mochung.cli import app


def test_invite_create_then_duplicate(tmp_path: Path) -> None:
    env = {"MOCHUNG_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    created = runner.invoke(
        app, ["invite", "create", "SPRING-2027", "--max-uses", "30", "--expires", "2099-05-31"], env=env
    )
    assert created.exit_code == 0, created.output
    assert "created invitation SPRING-2027 (max uses 30, expires 2099-05-31T14:59:59" in created.output

    again = runner.invoke(app, ["invite", "create", "SPRING-2027"], env=env)
    assert again.exit_code == 1
    assert "already exists" in again.output and "Traceback" not in again.output


def test_invite_create_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    env = {"MOCHUNG_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    bad_code = runner.invoke(app, ["invite", "create", "no spaces"], env=env)
    assert bad_code.exit_code == 1 and "3-64 letters" in bad_code.output
    bad_date = runner.invoke(app, ["invite", "create", "CODE", "--expires", "next week"], env=env)
    assert bad_date.exit_code != 0 and "ISO date" in bad_date.output
    past = runner.invoke(app, ["invite", "create", "CODE", "--expires", "2001-01-01"], env=env)
    assert past.exit_code == 1 and "in the future" in past.output
