"""Evaluators: each looks at one aspect of a finished turn and says pass or fail, and why.

Trajectory modes compare the tools that ran (every agent's, in start order) with the
case's reference, as multisets where order does not matter:
- ``strict``: the same tools in the same order;
- ``unordered``: the same tools, any order;
- ``subset``: nothing ran that the reference does not list (no extra tools);
- ``superset``: everything the reference lists ran (extra tools allowed).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from mochung.agents.evaluation.cases import Case


@dataclass
class Outcome:
    """What a turn produced, as the couple would have seen it."""

    answer: str = ""
    components: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    tools: list[str] = field(default_factory=list)
    chunks: int = 0


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def trajectory_matches(mode: str, actual: list[str], reference: list[str]) -> bool:
    if mode == "strict":
        return actual == reference
    have, want = Counter(actual), Counter(reference)
    if mode == "unordered":
        return have == want
    if mode == "subset":
        return not (have - want)
    return not (want - have)  # superset


def _visible_text(outcome: Outcome) -> str:
    parts = [outcome.answer, outcome.error or ""]
    parts += [json.dumps(component, ensure_ascii=False) for component in outcome.components]
    return "\n".join(parts).casefold()


def _language_of(text: str) -> str:
    text = re.sub(r"https?://\S+|\w+://\S+", "", text)
    hangul = len(re.findall(r"[가-힣]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "ko" if hangul >= latin else "en"


def evaluate(case: Case, outcome: Outcome) -> list[Check]:
    checks: list[Check] = []
    if case.expect_error:
        checks.append(Check("error", outcome.error is not None, outcome.error or "no error event"))
    else:
        checks.append(Check("no_error", outcome.error is None, outcome.error or ""))
    missing = [tool for tool in case.mandatory_tools if tool not in outcome.tools]
    checks.append(Check("mandatory_tools", not missing, f"missing: {missing}" if missing else ""))
    used = [tool for tool in case.forbidden_tools if tool in outcome.tools]
    checks.append(Check("forbidden_tools", not used, f"used: {used}" if used else ""))
    if case.reference_trajectory is not None:
        ok = trajectory_matches(case.trajectory_mode, outcome.tools, case.reference_trajectory)
        detail = "" if ok else f"{case.trajectory_mode}: got {outcome.tools}, reference {case.reference_trajectory}"
        checks.append(Check(f"trajectory_{case.trajectory_mode}", ok, detail))
    visible = _visible_text(outcome)
    absent = [text for text in case.expected_content if text.casefold() not in visible]
    checks.append(Check("expected_content", not absent, f"absent: {absent}" if absent else ""))
    if case.unexpected_content:
        present = [text for text in case.unexpected_content if text.casefold() in outcome.answer.casefold()]
        checks.append(Check("unexpected_content", not present, f"present: {present}" if present else ""))
    made = [component.get("type") for component in outcome.components]
    lacking = [kind for kind in case.expected_components if kind not in made]
    checks.append(Check("components", not lacking, f"missing {lacking}, got {made}" if lacking else ""))
    if case.language and not case.expect_error:
        language = _language_of(outcome.answer)
        checks.append(Check("language", language == case.language, f"answer looks {language}"))
    return checks
