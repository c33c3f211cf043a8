"""Running datasets through a runtime and summarising the results.

The report is the admin page's result (PROTOCOL.md "Admin evaluation"), also what the
admin API stores and ``mochung eval run --format json`` prints::

    {"summary": {"total_tests", "passed_tests", "failed_tests", "pass_rate", "avg_execution_time"},
     "category_breakdown": {category: {"count", "passed", "failed", "pass_rate"}},
     "test_results": [{"name", "category", "description", "success", "execution_time",
                       "evaluations": [{"key", "score", "comment", "details"?}], "agent_response",
                       # extra fields, never read by the page:
                       "id", "dataset", "query", "fixture", "tools", "trajectory", "steps",
                       "components", "error"}]}

``pass_rate`` is a fraction (0–1, four decimals); times are seconds. ``trajectory`` is what
ran as message records (the reference's format); ``steps`` the runtime's own record.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mochung.agents.evaluation.cases import Case, dataset_names, load_dataset, wedding_for
from mochung.agents.evaluation.evaluators import Judge, Outcome, actual_records, decide, evaluate
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


def _echo(query: str) -> str:
    return query if len(query) <= MAX_QUERY_ECHO else f"{query[:MAX_QUERY_ECHO]}… ({len(query)} characters)"


async def run_case(case: Case, runtime: AgentRuntime, dataset: str = "", judge: Judge | None = None) -> dict[str, Any]:
    """One case through the agents, judged: its entry of ``test_results``."""
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
    elapsed = time.perf_counter() - started  # the agent's time; the judge's is not the agent's
    outcome.steps = [dict(step) for step in turn.trajectory]
    outcome.tools = [str(step["tool"]) for step in outcome.steps]
    checks = evaluate(case, outcome)
    query = _echo(case.text)
    trajectory = actual_records(query, outcome.steps, outcome.answer)
    checks.append(await (judge or Judge(None))(trajectory, case.reference()))
    return {
        "name": case.id,
        "category": case.category,
        "description": case.description,
        "success": decide(case, checks),
        "execution_time": round(elapsed, 3),
        "evaluations": [check.evaluation() for check in checks],
        "agent_response": outcome.answer or (f"error: {outcome.error}" if outcome.error else ""),
        "id": case.id,
        "dataset": dataset,
        "query": query,
        "fixture": case.wedding,
        "tools": outcome.tools,
        "trajectory": trajectory,
        "steps": outcome.steps,
        "components": outcome.components,
        "error": outcome.error,
    }


def _rate(passed: int, total: int) -> float:
    return round(passed / total, 4) if total else 0.0


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """``{summary, category_breakdown, test_results}`` of these case results."""
    total = len(results)
    passed = sum(1 for result in results if result["success"])
    categories: dict[str, dict[str, Any]] = {}
    for result in results:
        entry = categories.setdefault(result["category"], {"count": 0, "passed": 0, "failed": 0, "pass_rate": 0.0})
        entry["count"] += 1
        entry["passed" if result["success"] else "failed"] += 1
    for entry in categories.values():
        entry["pass_rate"] = _rate(entry["passed"], entry["count"])
    average = sum(result["execution_time"] for result in results) / total if total else 0.0
    return {
        "summary": {
            "total_tests": total,
            "passed_tests": passed,
            "failed_tests": total - passed,
            "pass_rate": _rate(passed, total),
            "avg_execution_time": round(average, 3),
        },
        "category_breakdown": categories,
        "test_results": results,
    }


def cases_of(names: Sequence[str], only: str | None = None) -> list[tuple[str, Case]]:
    """The (dataset, case) pairs to run: every case of ``names``, or the one named ``only``."""
    cases = [(name, case) for name in names for case in load_dataset(name).cases]
    if only is not None:
        cases = [(name, case) for name, case in cases if case.id == only]
    return cases


async def run_cases(
    cases: Sequence[tuple[str, Case]],
    runtime: AgentRuntime,
    progress: ProgressCallback | None = None,
    judge: Judge | None = None,
) -> dict[str, Any]:
    """Run these cases one after another; one report. The judge defaults to the runtime's
    model when it is a hosted one."""
    judge = judge if judge is not None else Judge.for_model(runtime.model)
    results: list[dict[str, Any]] = []
    for done, (name, case) in enumerate(cases, start=1):
        result = await run_case(case, runtime, name, judge)
        results.append(result)
        if progress is not None:
            maybe = progress(done, len(cases), result)
            if inspect.isawaitable(maybe):
                await maybe
    report = summarise(results)
    report["judge"] = judge.name
    return report


async def run_datasets(
    names: Sequence[str], runtime: AgentRuntime, progress: ProgressCallback | None = None, judge: Judge | None = None
) -> dict[str, Any]:
    """Run the cases of several datasets one after another; one combined report."""
    return await run_cases(cases_of(names), runtime, progress, judge)


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
