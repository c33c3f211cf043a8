"""``mochung eval list|run``: trajectory evaluation of the agents."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mochung.cli.common import OutputFormat, agent_runtime, fail, run_async, settings_or_fail, stderr, stdout

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
    """Run the evaluation cases through the agents (the model of MOCHUNG_LLM) and report;
    ``--format json`` prints the admin page's result shape (PROTOCOL.md "Admin evaluation")."""
    from mochung.agents.evaluation import dataset_names, load_dataset, run_datasets

    settings = settings_or_fail()

    async def body() -> dict[str, Any]:
        names = [dataset] if dataset else dataset_names()
        total = sum(len(load_dataset(name).cases) for name in names)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        async with agent_runtime(settings) as runtime:
            with Progress(*columns, console=stderr(), transient=output is OutputFormat.json) as progress:
                task = progress.add_task("evaluating", total=total)

                def advance(done: int, _total: int, result: dict[str, Any]) -> None:
                    mark = "[green]✓[/]" if result["success"] else "[red]✗[/]"
                    progress.update(task, completed=done, description=f"{mark} {result['name']}")

                return await run_datasets(names, runtime, progress=advance)

    report = run_async(body)
    if output is OutputFormat.json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    percent = round(report["summary"]["pass_rate"] * 100, 1)
    if percent < min_pass_rate:
        raise fail(f"pass rate {percent}% is below {min_pass_rate}%")


def _print_report(report: dict[str, Any]) -> None:
    """The report (the admin page's shape: pass rates are fractions) for a terminal."""
    summary = report["summary"]
    categories = Table("category", "passed", "total", "pass rate", title="by category")
    for name, entry in sorted(report["category_breakdown"].items()):
        categories.add_row(name, str(entry["passed"]), str(entry["count"]), f"{entry['pass_rate'] * 100:.1f}%")
    stdout().print(categories)
    for result in report["test_results"]:
        if not result["success"]:
            reasons = "; ".join(f"{e['key']}: {e['comment']}" for e in result["evaluations"] if e["score"] is False)
            stdout().print(
                f"[red]✗ {result['name']}[/] ({result['category']}) {result['query']!r} — {reasons}", highlight=False
            )
    skipped = {e["comment"] for r in report["test_results"] for e in r["evaluations"] if e["score"] is None}
    for comment in sorted(skipped):
        stdout().print(f"[dim]{comment}[/]", highlight=False)
    colour = "green" if summary["failed_tests"] == 0 else "yellow"
    stdout().print(
        f"[bold {colour}]{summary['passed_tests']}/{summary['total_tests']} passed "
        f"({summary['pass_rate'] * 100:.1f}%)[/], {summary['failed_tests']} failed, "
        f"average {summary['avg_execution_time']} s per case"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
