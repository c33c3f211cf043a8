"""What the admin Evaluation page (``Evaluation.tsx``) reads from a result, checked field by
field (PROTOCOL.md "Admin evaluation"): shared by the in-process contract test and the
two-process e2e test."""

from __future__ import annotations

from typing import Any

import pytest

DEFAULT = "main_agent_scenarios"  # the page's default dataset
PAGE_CASE_FIELDS = {"name", "category", "description", "success", "execution_time", "evaluations", "agent_response"}


def assert_page_result(result: dict[str, Any], dataset: str) -> None:
    """Every field the page reads, with its type and meaning."""
    summary = result["summary"]
    assert set(summary) >= {"total_tests", "passed_tests", "failed_tests", "pass_rate", "avg_execution_time"}
    assert summary["total_tests"] == len(result["test_results"]) > 0
    assert summary["passed_tests"] + summary["failed_tests"] == summary["total_tests"]
    assert 0.0 <= summary["pass_rate"] <= 1.0
    assert summary["pass_rate"] == pytest.approx(summary["passed_tests"] / summary["total_tests"], abs=1e-4)
    assert isinstance(summary["avg_execution_time"], float | int) and summary["avg_execution_time"] >= 0
    breakdown = result["category_breakdown"]
    assert sum(entry["count"] for entry in breakdown.values()) == summary["total_tests"]
    for entry in breakdown.values():
        assert {"count", "passed", "pass_rate"} <= set(entry) and 0.0 <= entry["pass_rate"] <= 1.0
    for case in result["test_results"]:
        assert PAGE_CASE_FIELDS <= set(case)
        assert isinstance(case["name"], str) and isinstance(case["description"], str)
        assert isinstance(case["success"], bool) and isinstance(case["agent_response"], str)
        assert case["category"] in breakdown and case["execution_time"] >= 0
        for evaluation in case["evaluations"]:
            assert {"key", "score", "comment"} <= set(evaluation)
            assert isinstance(evaluation["key"], str) and isinstance(evaluation["comment"], str)
            assert evaluation["score"] is None or isinstance(evaluation["score"], bool | float | int)
    assert result["dataset"] == dataset and result["status"] == "done"


def assert_running(body: dict[str, Any], dataset: str) -> None:
    """The 202 the page keeps polling on: ``{status: "running", dataset, message}``."""
    assert body["status"] == "running" and body["dataset"] == dataset
    assert isinstance(body["message"], str) and body["message"]
