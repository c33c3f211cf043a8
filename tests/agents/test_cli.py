"""``mochung eval list|run`` and ``mochung chat``, invoked in-process as a user would."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mochung.adapters.database import close_database, open_database
from mochung.agents.evaluation.cases import load_fixture
from mochung.cli import chat
from mochung.cli import eval as evaluation
from mochung.domain.models import Page, User


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The commands on a bare app, in an embedded setup of their own (SQLite under tmp)."""
    for name in ("MOCHUNG_DATABASE_URL", "MOCHUNG_REDIS_URL", "MOCHUNG_KAKAO_REST_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOCHUNG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOCHUNG_LLM", "offline")
    monkeypatch.chdir(tmp_path)  # no stray .env
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """mochung (test)"""

    chat.register(app)
    evaluation.register(app)
    return app


def _invoke(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_eval_list(cli: typer.Typer) -> None:
    code, stdout, _ = _invoke(cli, "eval", "list", "--format", "json")
    assert code == 0
    names = {item["name"]: item["cases"] for item in json.loads(stdout)}
    assert names["ko_basics"] > 0 and names["en_basics"] > 0


def test_eval_run_json_has_the_report_shape(cli: typer.Typer) -> None:
    code, stdout, _ = _invoke(cli, "eval", "run", "--dataset", "en_basics", "--format", "json")
    assert code == 0
    report = json.loads(stdout)
    # the admin page's result shape (PROTOCOL.md "Admin evaluation"): pass_rate is 0–1
    assert {"summary", "category_breakdown", "test_results"} <= set(report)
    assert report["summary"]["total_tests"] == len(report["test_results"]) > 0
    assert report["summary"]["pass_rate"] == 1.0
    case = report["test_results"][0]
    page_fields = {"name", "category", "description", "success", "execution_time", "evaluations", "agent_response"}
    assert page_fields <= set(case)


def test_eval_run_text_prints_the_summary_and_failures(cli: typer.Typer) -> None:
    code, stdout, _ = _invoke(cli, "eval", "run", "-d", "paraphrases", "--min-pass-rate", "90")
    assert code == 1  # the paraphrases alone stay below 90 % offline
    assert "5/8 passed (62.5%)" in stdout  # "days left until the big day" passes since issue 14
    assert "✗ para-ko-money" in stdout


def test_eval_run_unknown_dataset_is_one_line(cli: typer.Typer) -> None:
    code, stdout, stderr = _invoke(cli, "eval", "run", "--dataset", "nope")
    assert code == 1
    assert stderr.startswith("error: unknown dataset 'nope'")
    assert "Traceback" not in stdout + stderr


def test_chat_without_a_page(cli: typer.Typer) -> None:
    code, stdout, stderr = _invoke(cli, "chat", "What can you do?")
    assert code == 0
    assert "Here are a few things you can ask me" in stdout
    assert "AgentSuggestMessage" in stdout
    assert "main:call_output_agent" in stderr


def test_chat_about_a_page_from_the_database(cli: typer.Typer, tmp_path: Path) -> None:
    fixture = load_fixture("minsu-jieun")

    async def seed() -> None:
        database = await open_database(f"sqlite://{tmp_path / 'data' / 'mochung.sqlite3'}", migrate=True)
        try:
            user = await User.create(email="c@example.com", email_key="c@example.com", password_hash="x")
            await Page.create(
                user=user, title=fixture["title"], slug="minsu-jieun", component_data=fixture["componentData"]
            )
        finally:
            await close_database(database)

    asyncio.run(seed())
    code, stdout, stderr = _invoke(cli, "chat", "예식장이 어디예요?", "--page", "minsu-jieun")
    assert code == 0, stderr
    assert "예식 장소는 더채플앳청담 3층 그랜드홀이에요." in stdout
    assert "map:search_place" in stderr


def test_chat_with_an_unknown_page_or_empty_text_fails_readably(cli: typer.Typer) -> None:
    code, _, stderr = _invoke(cli, "chat", "안녕", "--page", "no-such-page")
    assert code == 1 and stderr.strip() == "error: no page with the slug 'no-such-page'"
    code, _, stderr = _invoke(cli, "chat", "  ")
    assert code == 1 and "error: the message is empty" in stderr
