"""What is made of a finished run's report: the comparison of two runs (which cases
flipped, the pass-rate and time deltas) and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

FIXED, BROKE = "fixed", "broke"


def _delta(after: float | None, before: float | None, digits: int = 4) -> float | None:
    if after is None or before is None:
        return None
    return round(after - before, digits)


def _side(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "dataset", "status", "scope", "case_name", "started_at", "finished_at", "duration", "summary")
    return {key: run.get(key) for key in keys}


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """How ``after`` differs from ``before`` (two results in the page's shape, with the run
    fields): the cases whose verdict flipped (``fixed``: failed then passed; ``broke``:
    passed then failed), those only in one run, and the deltas (after − before) of the pass
    rate, the average time per case and the run's duration; per common case its verdicts
    and time delta."""
    old = {result["name"]: result for result in before.get("test_results", [])}
    new = {result["name"]: result for result in after.get("test_results", [])}
    cases: list[dict[str, Any]] = []
    flipped: list[dict[str, Any]] = []
    for name, result in new.items():
        if name not in old:
            continue
        was, now = bool(old[name]["success"]), bool(result["success"])
        entry = {
            "name": name,
            "category": result.get("category"),
            "from": was,
            "to": now,
            "flipped": was != now,
            "execution_time_delta": _delta(result.get("execution_time"), old[name].get("execution_time"), 3),
        }
        cases.append(entry)
        if was != now:
            flipped.append({**entry, "change": FIXED if now else BROKE})
    summary_before, summary_after = before.get("summary") or {}, after.get("summary") or {}
    return {
        "from": _side(before),
        "to": _side(after),
        "pass_rate_delta": _delta(summary_after.get("pass_rate"), summary_before.get("pass_rate")),
        "avg_execution_time_delta": _delta(
            summary_after.get("avg_execution_time"), summary_before.get("avg_execution_time"), 3
        ),
        "duration_delta": _delta(after.get("duration"), before.get("duration"), 3),
        "flipped": flipped,
        "fixed": [entry["name"] for entry in flipped if entry["change"] == FIXED],
        "broke": [entry["name"] for entry in flipped if entry["change"] == BROKE],
        "added": [name for name in new if name not in old],
        "removed": [name for name in old if name not in new],
        "cases": cases,
    }


def _score(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "pass" if value else "fail"
    return str(value)


def to_csv(run: dict[str, Any]) -> str:
    """One row per case: the run, the case, its verdict and time, one column per
    evaluation's score (pass, fail, a number, or empty when it did not run), the tools that
    ran and the answer. UTF-8 with a BOM, so Excel opens Korean text correctly."""
    results = run.get("test_results") or []
    keys: list[str] = []
    for result in results:
        for evaluation in result.get("evaluations") or []:
            if evaluation["key"] not in keys:
                keys.append(evaluation["key"])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    head = ["run_id", "dataset", "name", "category", "description", "success", "execution_time"]
    writer.writerow([*head, *keys, "tools", "agent_response", "error"])
    for result in results:
        scores = {evaluation["key"]: evaluation.get("score") for evaluation in result.get("evaluations") or []}
        writer.writerow(
            [
                run.get("run_id"),
                result.get("dataset") or run.get("dataset"),
                result.get("name"),
                result.get("category"),
                result.get("description", ""),
                "pass" if result.get("success") else "fail",
                result.get("execution_time"),
                *[_score(scores.get(key)) for key in keys],
                " ".join(str(tool) for tool in result.get("tools") or []),
                result.get("agent_response", ""),
                result.get("error") or "",
            ]
        )
    return "\ufeff" + buffer.getvalue()


def to_json(run: dict[str, Any]) -> str:
    return json.dumps(run, ensure_ascii=False, indent=2)
