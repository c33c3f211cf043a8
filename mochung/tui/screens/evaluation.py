"""Evaluation: pick a dataset, run it (the server runs it in the background; this screen polls
with a progress indicator), then the summary, each case's pass/fail and its trajectory."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from mochung.tui.format import flatten, number, when
from mochung.tui.models import Dataset, EvaluationCase, EvaluationResult
from mochung.tui.screens.base import AdminScreen

POLL_SECONDS = 1.0


def describe_step(step: Any) -> str:
    """One trajectory step on one line: a tool call with its arguments, or whatever it is."""
    if isinstance(step, dict):
        name = step.get("tool") or step.get("name") or step.get("agent") or step.get("type") or "step"
        args = step.get("args") or step.get("input") or step.get("arguments")
        return f"{name}({json.dumps(args, ensure_ascii=False)})" if args is not None else str(name)
    return str(step)


class EvaluationScreen(AdminScreen):
    CSS_PATH = "evaluation.tcss"
    AUTO_FOCUS = "#datasets"
    MUTATING = frozenset({"run"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "run", "Run dataset"),
        Binding("r", "reload", "Refresh"),
    ]

    class DatasetsLoaded(Message):
        def __init__(self, datasets: list[Dataset]) -> None:
            super().__init__()
            self.datasets = datasets

    class ResultLoaded(Message):
        def __init__(self, dataset: str, result: EvaluationResult | None) -> None:
            super().__init__()
            self.dataset = dataset
            self.result = result

    def __init__(self) -> None:
        super().__init__()
        self.dataset: str | None = None
        self.cases: dict[str, EvaluationCase] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="evaluation-body"):
            with Vertical(id="datasets-pane"):
                yield Static("Datasets", classes="panel-title")
                yield OptionList(id="datasets")
            with Vertical(id="results-pane"):
                yield Static("Pick a dataset; x runs it.", id="summary")
                yield ProgressBar(total=None, show_eta=False, id="progress")
                yield DataTable(id="cases", cursor_type="row", zebra_stripes=True)
                yield Static("Trajectory", classes="panel-title")
                with VerticalScroll(id="trajectory-box"):
                    yield Static("", id="trajectory")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cases", DataTable).add_columns("Case", "Category", "Result", "Steps", "Why")
        self.query_one("#progress", ProgressBar).display = False

    def on_screen_resume(self) -> None:
        self.load_datasets()

    def action_reload(self) -> None:
        self.load_datasets()
        if self.dataset:
            self.load_result(self.dataset)

    @work(exclusive=True, group="datasets")
    async def load_datasets(self) -> None:
        datasets = await self.guarded(self.api.datasets())
        if datasets is not None:
            self.post_message(self.DatasetsLoaded(datasets))

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
            self.load_result(self.dataset)

    @work(exclusive=True, group="result")
    async def load_result(self, dataset: str) -> None:
        result = await self.guarded(self.api.evaluation_results(dataset))
        self.post_message(self.ResultLoaded(dataset, result))
        await self._follow(dataset, result)

    def action_run(self) -> None:
        if self.dataset and not self.refuse_if_read_only():
            self.run(self.dataset)

    @work(exclusive=True, group="result")
    async def run(self, dataset: str) -> None:
        result = await self.guarded(self.api.run_evaluation(dataset))
        if result is not None:
            self.post_message(self.ResultLoaded(dataset, result))
            await self._follow(dataset, result)

    async def _follow(self, dataset: str, result: EvaluationResult | None) -> None:
        """Poll a running run until it finishes (a newer load or run cancels this worker)."""
        while result is not None and result.running:
            await asyncio.sleep(POLL_SECONDS)
            result = await self.guarded(self.api.evaluation_results(dataset))
            self.post_message(self.ResultLoaded(dataset, result))

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
        if result is None:
            summary.update(f"[b]{message.dataset}[/b]: never run. Press x to run it.")
            return
        summary.update(self._summary(result))
        for index, case in enumerate(result.case_results()):
            key = f"{index}:{case.id}"
            self.cases[key] = case
            verdict = "–" if case.passed is None else "[green]PASS[/]" if case.passed else "[red]FAIL[/]"
            why = "; ".join(str(f) for f in case.failures)[:60]
            table.add_row(case.label, case.category or "", verdict, str(len(case.trajectory)), why, key=key)

    @staticmethod
    def _summary(result: EvaluationResult) -> str:
        head = f"[b]{result.dataset}[/b]  {result.status}"
        if result.running:
            head += f"  (started {when(result.started_at)})"
        elif result.finished_at:
            head += f"  (finished {when(result.finished_at)})"
        parts = [f"{label}: {number(value)}" for label, value in flatten(result.summary)]
        text = head + ("\n" + "  ·  ".join(parts) if parts else "")
        return text + (f"\n[red]{result.error}[/]" if result.error else "")

    @on(DataTable.RowHighlighted, "#cases")
    def show_trajectory(self, event: DataTable.RowHighlighted) -> None:
        case = self.cases.get(event.row_key.value or "")
        if case is None:
            return
        steps = [f"{number + 1:>2}. {describe_step(step)}" for number, step in enumerate(case.trajectory)]
        failures = [f"   ✗ {failure}" for failure in case.failures]
        asked = [f"Q: {case.query}"] if case.query else []
        answered = [f"A: {case.answer}"] if case.answer else []
        text = "\n".join(asked + (steps or ["no steps recorded"]) + answered + failures)
        self.query_one("#trajectory", Static).update(text.replace("[", r"\["))
