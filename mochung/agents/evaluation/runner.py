"""Running datasets through a runtime and summarising the results.

The report shape (also what the admin API caches and the CLI prints as JSON)::

    {"summary": {"total_tests", "passed_tests", "failed_tests", "pass_rate", "avg_execution_time"},
     "categories": {name: {"total", "passed", "failed", "pass_rate"}},
     "results": [{"id", "dataset", "category", "query", "wedding", "passed", "checks", "tools",
                  "trajectory", "answer", "components", "error", "execution_time"}]}

``pass_rate`` is a percentage (0–100, one decimal); times are seconds.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mochung.agents.evaluation.cases import Case, dataset_names, load_dataset, wedding_for
from mochung.agents.evaluation.evaluators import Outcome, evaluate
from mochung.agents.runtime import AgentRuntime, TurnInput

# called after each case with (done, total, the case's result); it may be sync or async
ProgressCallback = Callable[[int, int, dict[str, Any]], Awaitable[None] | None]
MAX_QUERY_ECHO = 200  # a generated 10,000-character query is not worth repeating in the report


def list_datasets() -> list[dict[str, Any]]:
    """``[{name, description, cases}]`` of the shipped datasets."""
    items = []
    for name in dataset_names():
        dataset = load_dataset(name)
        items.append({"name": name, "description": dataset.description, "cases": len(dataset.cases)})
    return items


async def run_case(case: Case, runtime: AgentRuntime, dataset: str = "") -> dict[str, Any]:
    started = time.perf_counter()
    turn = runtime.turn(TurnInput(text=case.text, history=case.history, wedding=wedding_for(case)))
    outcome = Outcome()
    async for event in turn.events():
        if event.type == "chunk":
            outcome.chunks += 1
        elif event.type == "text":
            outcome.answer = event.content or ""
        elif event.type == "component" and event.component is not None:
            outcome.components.append(event.component)
        elif event.type == "error":
            outcome.error = event.content
    outcome.tools = [step["tool"] for step in turn.trajectory]
    checks = evaluate(case, outcome)
    query = case.text
    return {
        "id": case.id,
        "dataset": dataset,
        "category": case.category,
        "query": query if len(query) <= MAX_QUERY_ECHO else f"{query[:MAX_QUERY_ECHO]}… ({len(query)} characters)",
        "wedding": case.wedding,
        "passed": all(check.passed for check in checks),
        "checks": [check.as_dict() for check in checks],
        "tools": outcome.tools,
        "trajectory": list(turn.trajectory),
        "answer": outcome.answer,
        "components": outcome.components,
        "error": outcome.error,
        "execution_time": round(time.perf_counter() - started, 3),
    }


def _rate(passed: int, total: int) -> float:
    return round(100.0 * passed / total, 1) if total else 0.0


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    total = len(results)
    passed = sum(1 for result in results if result["passed"])
    categories: dict[str, dict[str, Any]] = {}
    for result in results:
        entry = categories.setdefault(result["category"], {"total": 0, "passed": 0, "failed": 0, "pass_rate": 0.0})
        entry["total"] += 1
        entry["passed" if result["passed"] else "failed"] += 1
    for entry in categories.values():
        entry["pass_rate"] = _rate(entry["passed"], entry["total"])
    average = sum(result["execution_time"] for result in results) / total if total else 0.0
    return {
        "summary": {
            "total_tests": total,
            "passed_tests": passed,
            "failed_tests": total - passed,
            "pass_rate": _rate(passed, total),
            "avg_execution_time": round(average, 3),
        },
        "categories": categories,
        "results": results,
    }


async def run_datasets(
    names: Sequence[str], runtime: AgentRuntime, progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Run the cases of several datasets one after another; one combined report."""
    cases = [(name, case) for name in names for case in load_dataset(name).cases]
    results: list[dict[str, Any]] = []
    for done, (name, case) in enumerate(cases, start=1):
        result = await run_case(case, runtime, name)
        results.append(result)
        if progress is not None:
            maybe = progress(done, len(cases), result)
            if inspect.isawaitable(maybe):
                await maybe
    return summarise(results)


async def run_dataset(
    name: str, runtime: AgentRuntime | None = None, progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """Run one dataset. Without a runtime, one is built from the environment's settings
    (``MOCHUNG_LLM`` and friends), as the worker would."""
    load_dataset(name)  # an unknown name fails before any runtime is built
    if runtime is None:
        from mochung.agents.runtime import build_runtime
        from mochung.settings import load_settings

        runtime = build_runtime(load_settings())
    return await run_datasets([name], runtime, progress)
