"""Evaluation in the admin app against a real server and the agents' real runner (offline
model): run a dataset and read each case; the history, the flips against the previous run,
rerunning one case, and exporting a run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, OptionList, Static

from mochung.domain.models import EvaluationCaseResult
from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi
from mochung.tui.screens import evaluation as screen_module
from mochung.tui.tokens import TokenStore
from tests.support.waiting import eventually
from tests.tui.conftest import LiveServer, open_screen, settle, table_rows, visible_text

SIZE = (170, 50)
DATASET = "paraphrases"  # the smallest shipped dataset


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen_module, "POLL_SECONDS", 0.05)


async def _pick(app: AdminApp, pilot: Any, name: str) -> None:
    options = app.screen.query_one("#datasets", OptionList)
    while options.get_option_at_index(options.highlighted or 0).id != name:
        await pilot.press("down")
    await settle(app, pilot)


async def _run_over_http(live_server: LiveServer, dataset: str) -> dict[str, Any]:
    started = await live_server.call("POST", f"/api/admin/evaluation/run?dataset={dataset}")
    while True:
        history = await live_server.call("GET", f"/api/admin/evaluation/history?dataset={dataset}&limit=1")
        if history["items"][0]["status"] != "running":
            break
        await asyncio.sleep(0.05)
    return dict(await live_server.call("GET", f"/api/admin/evaluation/runs/{started['run_id']}"))


async def test_run_a_dataset_and_read_each_case(live_server: LiveServer, tmp_path: Path) -> None:
    names = await live_server.call("GET", "/api/admin/evaluation/datasets")
    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "6")
        options = app.screen.query_one("#datasets", OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == names
        await _pick(app, pilot, DATASET)
        assert "never run" in visible_text(app.screen.query_one("#summary", Static))
        await pilot.press("x")
        summary = app.screen.query_one("#summary", Static)
        await eventually(lambda: " done" in visible_text(summary), "the run to finish", pause=pilot.pause)
        await settle(app, pilot)
        assert not app.screen.query_one("#progress").display

        history = await live_server.call("GET", f"/api/admin/evaluation/history?dataset={DATASET}")
        result = await live_server.call("GET", f"/api/admin/evaluation/runs/{history['items'][0]['run_id']}")
        rows = table_rows(app.screen.query_one("#cases", DataTable))
        assert len(rows) == len(result["test_results"]) > 0
        for row, case in zip(rows, result["test_results"], strict=True):
            assert row.startswith(f"{case['name']} | ")
            assert ("PASS" if case["success"] else "FAIL") in row
        passed, total = result["summary"]["passed_tests"], result["summary"]["total_tests"]
        assert f"Passed tests: {passed}/{total}" in visible_text(summary)
        assert len(table_rows(app.screen.query_one("#history", DataTable))) == 1

        app.screen.query_one("#cases", DataTable).focus()
        await settle(app, pilot)
        first = result["test_results"][0]
        trajectory = visible_text(app.screen.query_one("#trajectory", Static))
        assert first["query"][:10] in trajectory
        for step in first["steps"]:
            assert step["tool"] in trajectory


async def test_history_flips_rerun_and_export(live_server: LiveServer, tmp_path: Path) -> None:
    before = await _run_over_http(live_server, DATASET)
    after = await _run_over_http(live_server, DATASET)
    # a regression in the second run: a case that passed now fails
    flipped = next(case["name"] for case in before["test_results"] if case["success"])
    row = await EvaluationCaseResult.get(run_id=after["run_id"], name=flipped)
    row.result = {**row.result, "success": False}
    await row.save()

    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "6")
        await _pick(app, pilot, DATASET)
        screen = app.screen
        assert isinstance(screen, screen_module.EvaluationScreen)

        # the history, newest first; the latest run is shown with its flips
        assert len(table_rows(screen.query_one("#history", DataTable))) == 2
        summary = visible_text(screen.query_one("#summary", Static))
        assert "vs previous run" in summary and f"broke: {flipped}" in summary
        rows = table_rows(screen.query_one("#cases", DataTable))
        [broke] = [row for row in rows if row.startswith(f"{flipped} | ")]
        assert "broke" in broke and "FAIL" in broke

        # rerun the highlighted case: a run of its own, in the history
        cases = screen.query_one("#cases", DataTable)
        cases.focus()
        target = rows.index(broke)
        while cases.cursor_row != target:
            await pilot.press("down")
        await pilot.press("c")
        await settle(app, pilot)
        summary = visible_text(screen.query_one("#summary", Static))
        assert f"(rerun of {flipped})" in summary and "fixed" in summary
        assert [row.split(" | ")[0] for row in table_rows(cases)] == [flipped]
        history = table_rows(screen.query_one("#history", DataTable))
        assert len(history) == 3 and f"case {flipped}" in history[0]

        # open the older run from the history, then export it
        screen.query_one("#history", DataTable).focus()
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        assert screen.shown is not None and screen.shown.run_id == before["run_id"]
        screen.export_dir = tmp_path
        await pilot.press("e")
        await settle(app, pilot)
        stem = f"evaluation-{DATASET}-{before['run_id'][:8]}"
        csv_text = (tmp_path / f"{stem}.csv").read_bytes()
        assert csv_text.startswith("\ufeff".encode()) and flipped.encode() in csv_text
        assert (tmp_path / f"{stem}.json").read_text(encoding="utf-8").count('"name"') >= len(before["test_results"])
