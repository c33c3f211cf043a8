"""Developer commands of the agents: ``mochung eval list|run`` and ``mochung chat``.

Thin: each builds settings, runs one async body, and turns a known failure into one
readable line on stderr and exit code 1. The agents package is imported inside the
commands, so ``mochung --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import aiohttp
import typer
from rich.console import Console
from rich.json import JSON
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mochung.cli import fail, stderr
from mochung.domain.errors import NotFound
from mochung.settings import Settings, load_settings

if TYPE_CHECKING:
    from mochung.agents import AgentRuntime

T = TypeVar("T")


def stdout() -> Console:
    return Console()


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _run(body: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the async body; known failures become one line and exit code 1."""
    from mochung.agents.evaluation import EvaluationError
    from mochung.cli import run_or_fail

    return run_or_fail(lambda: asyncio.run(body()), expected=(EvaluationError,))


def _settings() -> Settings:
    from mochung.cli import run_or_fail

    return run_or_fail(load_settings)


@asynccontextmanager
async def _runtime(settings: Settings) -> AsyncIterator[AgentRuntime]:
    from mochung.agents import build_runtime

    async with aiohttp.ClientSession() as http:
        yield build_runtime(settings, http=http)


# --- eval ---------------------------------------------------------------------------------

eval_app = typer.Typer(help="Trajectory evaluation of the agents.", no_args_is_help=True)


@eval_app.command("list")
def eval_list(
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = OutputFormat.text,
) -> None:
    """List the evaluation datasets."""
    from mochung.agents.evaluation import list_datasets

    datasets = list_datasets()
    if output is OutputFormat.json:
        typer.echo(json.dumps(datasets, ensure_ascii=False, indent=2))
        return
    table = Table("dataset", "cases", "description")
    for item in datasets:
        table.add_row(item["name"], str(item["cases"]), item["description"])
    stdout().print(table)


@eval_app.command("run")
def eval_run(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="one dataset (default: all)")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = OutputFormat.text,
    min_pass_rate: Annotated[
        float, typer.Option("--min-pass-rate", help="exit 1 when the pass rate (%) is below this")
    ] = 0.0,
) -> None:
    """Run the evaluation cases through the agents (the model of MOCHUNG_LLM) and report."""
    from mochung.agents.evaluation import dataset_names, load_dataset, run_datasets

    settings = _settings()

    async def body() -> dict[str, Any]:
        names = [dataset] if dataset else dataset_names()
        total = sum(len(load_dataset(name).cases) for name in names)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        async with _runtime(settings) as runtime:
            with Progress(*columns, console=stderr(), transient=output is OutputFormat.json) as progress:
                task = progress.add_task("evaluating", total=total)

                def advance(done: int, _total: int, result: dict[str, Any]) -> None:
                    mark = "[green]✓[/]" if result["passed"] else "[red]✗[/]"
                    progress.update(task, completed=done, description=f"{mark} {result['id']}")

                return await run_datasets(names, runtime, progress=advance)

    report = _run(body)
    if output is OutputFormat.json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    if report["summary"]["pass_rate"] < min_pass_rate:
        raise fail(f"pass rate {report['summary']['pass_rate']}% is below {min_pass_rate}%")


def _print_report(report: dict[str, Any]) -> None:
    summary = report["summary"]
    categories = Table("category", "passed", "total", "pass rate", title="by category")
    for name, entry in sorted(report["categories"].items()):
        categories.add_row(name, str(entry["passed"]), str(entry["total"]), f"{entry['pass_rate']}%")
    stdout().print(categories)
    for result in report["results"]:
        if not result["passed"]:
            reasons = "; ".join(f"{c['name']}: {c['detail']}" for c in result["checks"] if not c["passed"])
            stdout().print(
                f"[red]✗ {result['id']}[/] ({result['category']}) {result['query']!r} — {reasons}", highlight=False
            )
    colour = "green" if summary["failed_tests"] == 0 else "yellow"
    stdout().print(
        f"[bold {colour}]{summary['passed_tests']}/{summary['total_tests']} passed "
        f"({summary['pass_rate']}%)[/], {summary['failed_tests']} failed, "
        f"average {summary['avg_execution_time']} s per case"
    )


# --- chat ---------------------------------------------------------------------------------


async def _load_page(settings: Settings, slug: str) -> dict[str, Any]:
    from mochung.domain.db import close_database, open_database
    from mochung.domain.models import Page

    database = await open_database(settings.resolved_database_url, migrate=not settings.distributed)
    try:
        page = await Page.get_or_none(slug=slug)
        if page is None:
            raise NotFound(f"no page with the slug {slug!r}")
        return {"page_id": str(page.id), "title": page.title, "slug": page.slug, "componentData": page.component_data}
    finally:
        await close_database(database)


def chat(
    text: Annotated[str, typer.Argument(help="what the couple says, e.g. 예식장이 어디예요?")],
    page: Annotated[str | None, typer.Option("--page", "-p", help="slug of the page to talk about")] = None,
) -> None:
    """Run one chat turn in-process and print the streamed answer and its components."""
    from mochung.agents import TurnInput

    settings = _settings()

    async def body() -> tuple[str | None, list[dict[str, Any]], Any]:
        wedding = await _load_page(settings, page) if page else None
        error: str | None = None
        streamed = False
        async with _runtime(settings) as runtime:
            turn = runtime.turn(TurnInput(text=text, wedding=wedding))
            async for event in turn.events():
                if event.type == "chunk":
                    streamed = True
                    stdout().print(event.content, end="", highlight=False, markup=False)
                elif event.type == "text":
                    if not streamed:
                        stdout().print(event.content or "", end="", highlight=False, markup=False)
                    stdout().print()
                elif event.type == "component" and event.component:
                    stdout().print(Panel(JSON.from_data(event.component["props"]), title=event.component["type"]))
                elif event.type == "error":
                    error = event.content
        return error, turn.trajectory, turn.timings

    error, trajectory, timings = _run(body)
    steps = " → ".join(f"{step['agent']}:{step['tool']} ({step['ms']:.0f} ms)" for step in trajectory)
    if steps:
        stderr().print(f"[dim]{steps}[/]", highlight=False)
    stderr().print(
        f"[dim]total {timings['total_ms']} ms, first token {timings['first_token_ms']} ms[/]", highlight=False
    )
    if error:
        raise fail(error)


def register(app: typer.Typer) -> None:
    """Add ``eval`` and ``chat`` to the ``mochung`` app."""
    app.add_typer(eval_app, name="eval")
    app.command("chat")(chat)
