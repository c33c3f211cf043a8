"""Evaluation in the admin app against a real server and the agents' real runner (offline model)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, OptionList, Static

from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi
from mochung.tui.tokens import TokenStore
from tests.support.waiting import eventually
from tests.tui.conftest import LiveServer, open_screen, settle, table_rows, visible_text

SIZE = (150, 45)


async def test_run_a_dataset_and_read_each_case(live_server: LiveServer, tmp_path: Path) -> None:
    datasets = await live_server.call("GET", "/api/admin/evaluation/datasets")
    smallest = min(datasets["items"], key=lambda item: item["cases"] or 0)
    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "6")
        options = app.screen.query_one("#datasets", OptionList)
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert names == [item["name"] for item in datasets["items"]]
        while options.get_option_at_index(options.highlighted or 0).id != smallest["name"]:
            await pilot.press("down")
        await settle(app, pilot)
        assert "never run" in visible_text(app.screen.query_one("#summary", Static))
        await pilot.press("x")
        summary = app.screen.query_one("#summary", Static)
        await eventually(lambda: " done" in visible_text(summary), "the run to finish", pause=pilot.pause)
        await settle(app, pilot)
        assert not app.screen.query_one("#progress").display

        result = await live_server.call("GET", f"/api/admin/evaluation/results/{smallest['name']}")
        rows = table_rows(app.screen.query_one("#cases", DataTable))
        assert len(rows) == smallest["cases"] == len(result["cases"])
        for row, case in zip(rows, result["cases"], strict=True):
            assert row.startswith(f"{case['id']} | ")
            assert ("PASS" if case["passed"] else "FAIL") in row
        assert f"Passed tests: {result['summary']['passedTests']}" in visible_text(summary)

        app.screen.query_one("#cases", DataTable).focus()
        await settle(app, pilot)
        first = result["cases"][0]
        trajectory = visible_text(app.screen.query_one("#trajectory", Static))
        assert first["query"][:10] in trajectory
        for step in first["trajectory"]:
            assert step["tool"] in trajectory
