"""Evaluation: pick a dataset, see its run history, run it (the server runs it in the
background; this screen polls with a progress indicator), then the summary with the flips
against the previous run, each case's pass/fail and its trajectory. A case can be run
again, and the shown run exported as CSV and JSON.

Keys: x run the dataset · c rerun the highlighted case · e export the shown run · r refresh.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from mochung.tui.format import number, when
from mochung.tui.models import Dataset, EvaluationCase, EvaluationComparison, EvaluationResult, EvaluationRun
from mochung.tui.screens.base import RELOAD, AdminScreen, Changes

POLL_SECONDS = 1.0
HISTORY_SIZE = 20


def describe_step(step: Any) -> str:
    """One trajectory step on one line: a tool call with its arguments, or whatever it is."""
    if isinstance(step, dict):
        if step.get("type") in ("human", "tool", "ai") and "tool" not in step:
            calls = step.get("tool_calls") or []
            if calls:
                return ", ".join(describe_step(call) for call in calls)
            return f"{step['type']}: {step.get('content') or ''}"
        name = step.get("tool") or step.get("name") or step.get("agent") or step.get("type") or "step"
        args = step.get("args") or step.get("input") or step.get("arguments")
        return f"{name}({json.dumps(args, ensure_ascii=False)})" if args is not None else str(name)
    return str(step)


def percent(rate: Any) -> str:
    return f"{rate * 100:.1f}%" if isinstance(rate, int | float) else "–"


class EvaluationScreen(AdminScreen):
    CSS_PATH = "evaluation.tcss"
    AUTO_FOCUS = "#datasets"
    BINDINGS: ClassVar[list[BindingType]] = [
        Changes("x", "run", "Run dataset"),
        Changes("c", "rerun", "Rerun case"),
        Binding("e", "export", "Export"),
        RELOAD,
    ]

    @dataclass
    class DatasetsLoaded(Message):
        datasets: list[Dataset]

    @dataclass
    class HistoryLoaded(Message):
        dataset: str
        runs: list[EvaluationRun]

    @dataclass
    class ResultLoaded(Message):
        dataset: str
        result: EvaluationResult | None
        comparison: EvaluationComparison | None = None

    def __init__(self) -> None:
        super().__init__()
        self.dataset: str | None = None
        self.cases: dict[str, EvaluationCase] = {}
        self.shown: EvaluationResult | None = None  # the run on screen
        self.export_dir = Path.cwd()  # where exports are written

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="evaluation-body"):
            with Vertical(id="datasets-pane"):
                yield Static("Datasets", classes="panel-title")
                yield OptionList(id="datasets")
                yield Static("History", classes="panel-title")
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            with Vertical(id="results-pane"):
                yield Static("Pick a dataset; x runs it.", id="summary")
                yield ProgressBar(total=None, show_eta=False, id="progress")
                yield DataTable(id="cases", cursor_type="row", zebra_stripes=True)
                yield Static("Trajectory", classes="panel-title")
                with VerticalScroll(id="trajectory-box"):
                    yield Static("", id="trajectory")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cases", DataTable).add_columns("Case", "Category", "Result", "vs prev", "Steps", "Why")
        self.query_one("#history", DataTable).add_columns("Started", "Status", "Pass", "Scope")
        self.query_one("#progress", ProgressBar).display = False

    def on_screen_resume(self) -> None:
        self.load_datasets()

    def action_reload(self) -> None:
        self.load_datasets()
        if self.dataset:
            self.load_dataset(self.dataset)

    @work(exclusive=True, group="datasets")
    async def load_datasets(self) -> None:
        await self.fetch(self.api.datasets(), self.DatasetsLoaded)

    def on_evaluation_screen_datasets_loaded(self, message: DatasetsLoaded) -> None:
        options = self.query_one("#datasets", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for dataset in message.datasets:
            cases = f"  ({dataset.cases} cases)" if dataset.cases is not None else ""
            options.add_option(Option(f"{dataset.name}{cases}", id=dataset.name))
        if message.datasets:
            options.highlighted = highlighted if highlighted is not None else 0

    @on(OptionList.OptionHighlighted, "#datasets")
    def pick(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.dataset:
            self.dataset = event.option.id
            self.load_dataset(self.dataset)

    # -- loading ---------------------------------------------------------------------------

    async def _history(self, dataset: str) -> list[EvaluationRun]:
        listing = await self.guarded(self.api.evaluation_history(dataset, limit=HISTORY_SIZE))
        runs = listing.items if listing is not None else []
        self.post_message(self.HistoryLoaded(dataset, runs))
        return runs

    async def _show(self, dataset: str, run_id: str) -> EvaluationResult | None:
        """Load a finished run and its flips against the run before it."""
        result = await self.guarded(self.api.evaluation_run(run_id))
        comparison = await self.guarded(self.api.compare_runs(run_id)) if result is not None else None
        self.post_message(self.ResultLoaded(dataset, result, comparison))
        return result

    @work(exclusive=True, group="result")
    async def load_dataset(self, dataset: str) -> None:
        """The history, then the latest run: followed while it runs, shown when it is done.
        A dataset never run stays so until x (reading its results would run it)."""
        runs = await self._history(dataset)
        latest = next((run for run in runs if run.scope == "dataset"), None)
        if latest is None:
            self.post_message(self.ResultLoaded(dataset, None))
        elif latest.status == "running":
            await self._follow(dataset, await self.guarded(self.api.evaluation_results(dataset)))
        else:
            await self._show(dataset, latest.run_id)

    @work(exclusive=True, group="result")
    async def load_run(self, dataset: str, run_id: str) -> None:
        await self._show(dataset, run_id)

    def action_run(self) -> None:
        if self.dataset and not self.refuse_if_read_only():
            self.run(self.dataset)

    @work(exclusive=True, group="result")
    async def run(self, dataset: str) -> None:
        result = await self.guarded(self.api.run_evaluation(dataset))
        if result is not None:
            await self._history(dataset)
            await self._follow(dataset, result)

    async def _follow(self, dataset: str, result: EvaluationResult | None) -> None:
        """Poll a running run until it finishes (a newer load or run cancels this worker)."""
        self.post_message(self.ResultLoaded(dataset, result))
        while result is not None and result.running:
            await asyncio.sleep(POLL_SECONDS)
            result = await self.guarded(self.api.evaluation_results(dataset))
            if result is None or not result.running:
                break
            self.post_message(self.ResultLoaded(dataset, result))
        runs = await self._history(dataset)
        latest = next((run for run in runs if run.scope == "dataset"), None)
        if latest is not None:
            await self._show(dataset, latest.run_id)

    def action_rerun(self) -> None:
        case = self._highlighted_case()
        if self.dataset and self.shown and case and not self.refuse_if_read_only():
            self.rerun(self.dataset, self.shown.run_id, case.id)

    @work(exclusive=True, group="result")
    async def rerun(self, dataset: str, run_id: str, case: str) -> None:
        self.notify(f"running {case} again…")
        result = await self.guarded(self.api.rerun_case(run_id, case))
        if result is not None:
            await self._history(dataset)
            comparison = await self.guarded(self.api.compare_runs(result.run_id, run_id))
            self.post_message(self.ResultLoaded(dataset, result, comparison))

    def action_export(self) -> None:
        if self.shown is not None and not self.shown.running:
            self.export(self.shown)

    @work(exclusive=True, group="export")
    async def export(self, run: EvaluationResult) -> None:
        written: list[str] = []
        for fmt in ("csv", "json"):
            body = await self.guarded(self.api.export_run(run.run_id, fmt))
            if body is None:
                return
            path = self.export_dir / f"evaluation-{run.dataset}-{run.run_id[:8]}.{fmt}"
            await asyncio.to_thread(path.write_bytes, body)
            written.append(str(path))
        self.notify("exported " + ", ".join(written), title="Evaluation")

    # -- showing ---------------------------------------------------------------------------

    def on_evaluation_screen_history_loaded(self, message: HistoryLoaded) -> None:
        if message.dataset != self.dataset:
            return
        table = self.query_one("#history", DataTable)
        table.clear()
        for run in message.runs:
            scope = f"case {run.case_name}" if run.scope == "case" else "dataset"
            table.add_row(when(run.started_at), run.status, percent(run.pass_rate), scope, key=run.run_id)

    @on(DataTable.RowSelected, "#history")
    def open_run(self, event: DataTable.RowSelected) -> None:
        if self.dataset and event.row_key.value:
            self.load_run(self.dataset, event.row_key.value)

    def on_evaluation_screen_result_loaded(self, message: ResultLoaded) -> None:
        if message.dataset != self.dataset:
            return
        result = message.result
        progress = self.query_one("#progress", ProgressBar)
        progress.display = bool(result and result.running)
        if result is not None and result.running:
            done, total = result.done_total
            progress.update(total=total, progress=done)
        table = self.query_one("#cases", DataTable)
        table.clear()
        self.cases = {}
        self.query_one("#trajectory", Static).update("")
        summary = self.query_one("#summary", Static)
        self.shown = result
        if result is None:
            summary.update(f"[b]{message.dataset}[/b]: never run. Press x to run it.")
            return
        summary.update(self._summary(result, message.comparison))
        flips = message.comparison
        for index, case in enumerate(result.case_results()):
            key = f"{index}:{case.id}"
            self.cases[key] = case
            verdict = "–" if case.passed is None else "[green]PASS[/]" if case.passed else "[red]FAIL[/]"
            change = ""
            if flips is not None and case.id in flips.fixed:
                change = "[green]fixed[/]"
            elif flips is not None and case.id in flips.broke:
                change = "[red]broke[/]"
            why = "; ".join(str(f) for f in case.failures)[:60]
            table.add_row(case.label, case.category or "", verdict, change, str(len(case.trajectory)), why, key=key)

    @staticmethod
    def _summary(result: EvaluationResult, comparison: EvaluationComparison | None) -> str:
        head = f"[b]{result.dataset}[/b]  {result.status}"
        if result.scope == "case":
            head += f"  (rerun of {result.case_name})"
        if result.running:
            head += f"  (started {when(result.started_at)})"
            if result.message:
                head += f"\n{result.message}"
        elif result.finished_at:
            head += f"  (finished {when(result.finished_at)})"
        lines = [head]
        summary = result.summary
        if summary:
            lines.append(
                f"Passed tests: {number(summary.get('passed_tests'))}/{number(summary.get('total_tests'))}"
                f"  ·  Pass rate: {percent(summary.get('pass_rate'))}"
                f"  ·  Avg time: {number(summary.get('avg_execution_time'))} s"
            )
        if comparison is not None:
            delta = comparison.pass_rate_delta
            change = f"{delta * 100:+.1f} pt" if isinstance(delta, int | float) else "–"
            fixed = ", ".join(comparison.fixed) or "none"
            broke = ", ".join(comparison.broke) or "none"
            lines.append(f"vs previous run: pass rate {change}  ·  fixed: {fixed}  ·  broke: {broke}")
        if result.error:
            lines.append(f"[red]{result.error}[/]")
        return "\n".join(lines)

    def _highlighted_case(self) -> EvaluationCase | None:
        table = self.query_one("#cases", DataTable)
        if table.row_count == 0 or table.cursor_row < 0:
            return None
        row_key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        return self.cases.get(row_key.value or "")

    @on(DataTable.RowHighlighted, "#cases")
    def show_trajectory(self, event: DataTable.RowHighlighted) -> None:
        case = self.cases.get(event.row_key.value or "")
        if case is None:
            return
        steps = [f"{number + 1:>2}. {describe_step(step)}" for number, step in enumerate(case.trajectory)]
        failures = [f"   ✗ {failure}" for failure in case.failures]
        notes = [f"   · {note}" for note in case.notes]
        asked = [f"Q: {case.query}"] if case.query else []
        answered = [f"A: {case.answer}"] if case.answer else []
        text = "\n".join(asked + (steps or ["no steps recorded"]) + answered + failures + notes)
        self.query_one("#trajectory", Static).update(text.replace("[", r"\["))
