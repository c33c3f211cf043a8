"""Evaluators: each looks at one aspect of a finished turn and reports ``{key, score,
comment, details?}`` (the admin page's ``evaluations[]``), and :func:`decide` turns them
into the case's pass or fail.

**Trajectory match** (``trajectory_{mode}_match``), with ``agentevals``' matchers, after
the normalisation of the seed's runner, applied to the reference and to what ran alike:
the first human message is kept (later ones dropped); AI messages keep their tool calls
only (text dropped, an AI message without calls dropped); each call becomes a message of
its own; call ids become ``call_0, call_1, …`` and arguments ``{}`` (a model words its
requests differently every time; what is judged is which tools ran); each call is
followed by one tool message with an empty output. Modes:
- ``strict``: the same calls in the same order;
- ``unordered``: the same calls, any order;
- ``subset``: nothing ran that the reference does not list (no extra tools);
- ``superset``: everything the reference lists ran (extra tools allowed).
A reference naming only the main agent's tools (``call_*_agent``) is compared with the
main agent's calls; one naming any sub-agent tool, with every agent's calls in start order.

**LLM as judge** (``trajectory_llm_judge``), ``agentevals``' trajectory-accuracy prompt
(with the reference when the case has one), run by the hosted chat model when one is
configured; offline it is reported with ``score: null`` and a comment saying it was skipped.

**Pass/fail policy** (:func:`decide`), the real runner's for the real format: an error
fails the case; the tool checks (``mandatory_tools``, ``forbidden_tools``, present when
the case lists tools) gate; ``require_match: true`` adds the match checks (trajectory match
and the judge's verdict, when it gave one); with no tool checks the match checks alone
gate. Our first format keeps its rule: every check gates (its content, component and
language checks included); the judge is reported but does not gate it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agentevals.trajectory.llm import (
    TRAJECTORY_ACCURACY_PROMPT,
    TRAJECTORY_ACCURACY_PROMPT_WITH_REFERENCE,
    create_async_trajectory_llm_as_judge,
)
from agentevals.trajectory.match import create_trajectory_match_evaluator
from langchain_core.language_models import BaseChatModel

from mochung.agents.evaluation.cases import Case, MessageRecord, TrajectoryMode, records_from_tool_names
from mochung.agents.offline import OfflineChatModel

log = logging.getLogger("mochung.agents.evaluation")
MAIN_AGENT = "main"
# the main agent's tools: the three specialised agents it calls (mochung.agents.graph)
MAIN_AGENT_TOOLS = frozenset({"call_context_agent", "call_map_agent", "call_output_agent"})
JUDGE_KEY = "trajectory_llm_judge"
MAX_OUTPUT_CHARS = 2000  # of a tool's output, in the trajectory shown to the judge and stored
Kind = Literal["error", "tool", "match", "content", "judge"]
Score = bool | float | None


@dataclass
class Outcome:
    """What a turn produced, as the couple would have seen it."""

    answer: str = ""
    components: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    tools: list[str] = field(default_factory=list)  # every agent's tools, in start order
    chunks: int = 0
    steps: list[dict[str, Any]] = field(default_factory=list)  # the runtime's trajectory


@dataclass(frozen=True)
class Check:
    """One evaluation: ``key`` and its ``score`` (``True``/``False``, a number, or ``None``
    when it did not run), why, and what it compared."""

    name: str
    passed: bool | None
    detail: str = ""
    kind: Kind = "content"
    score: float | None = None  # a judge's number, when it gave one instead of a verdict
    details: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def evaluation(self) -> dict[str, Any]:
        """The admin page's ``{key, score, comment, details?}``."""
        score: Score = self.passed if self.score is None else self.score
        entry: dict[str, Any] = {"key": self.name, "score": score, "comment": self.detail}
        if self.details is not None:
            entry["details"] = self.details
        return entry


# -- trajectories ---------------------------------------------------------------------


def actual_records(query: str, steps: list[dict[str, Any]], answer: str) -> list[dict[str, Any]]:
    """What ran, as message records (the reference's format): the question, each tool call
    (with its agent, arguments and, when recorded, output), then the answer."""
    records: list[dict[str, Any]] = [{"type": "human", "content": query}]
    for number, step in enumerate(steps):
        call_id = f"call_{number}"
        call = {"id": call_id, "name": step.get("tool"), "args": step.get("args") or {}}
        records.append({"type": "ai", "agent": step.get("agent"), "tool_calls": [call]})
        output = step.get("output")
        records.append({"type": "tool", "tool_call_id": call_id, "content": "" if output is None else str(output)})
    if answer:
        records.append({"type": "ai", "content": answer, "tool_calls": []})
    return records


def _tool_names(records: list[MessageRecord]) -> list[str]:
    return [call.name for record in records if record.type == "ai" for call in record.tool_calls]


def reference_level(reference: list[MessageRecord]) -> Literal["main", "all"]:
    names = _tool_names(reference)
    return "main" if names and set(names) <= MAIN_AGENT_TOOLS else "all"


def normalise(names: list[str]) -> list[dict[str, Any]]:
    """The canonical trajectory of these calls, as OpenAI messages for ``agentevals``."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": ""}]
    for number, name in enumerate(names):
        call_id = f"call_{number}"
        function = {"name": name, "arguments": "{}"}
        messages.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": call_id, "type": "function", "function": function}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "content": ""})
    return messages


def normalised_reference(reference: list[MessageRecord]) -> list[str]:
    """The reference's calls after the normalisation: everything after the first human
    message that is an AI tool call, one per message, in order."""
    humans = [index for index, record in enumerate(reference) if record.type == "human"]
    start = humans[0] if humans else 0
    return _tool_names(reference[start:])


def trajectory_matches(mode: str, actual: list[str], reference: list[str]) -> bool:
    """Whether the tools that ran match the reference's, in ``mode`` (agentevals)."""
    evaluator = create_trajectory_match_evaluator(trajectory_match_mode=mode, tool_args_match_mode="ignore")
    result = evaluator(outputs=normalise(actual), reference_outputs=normalise(reference))
    return bool(result["score"])


def match_check(mode: TrajectoryMode, steps: list[dict[str, Any]], reference: list[MessageRecord]) -> Check:
    level = reference_level(reference)
    want = normalised_reference(reference)
    # steps without an agent (a bare list of tool names) cannot be told apart: all are kept
    got = [str(step.get("tool")) for step in steps if level == "all" or step.get("agent") in (MAIN_AGENT, None)]
    ok = trajectory_matches(mode, got, want)
    detail = "" if ok else f"{mode}: got {got}, reference {want}"
    details = {"mode": mode, "level": level, "actual": got, "reference": want}
    return Check(f"trajectory_{mode}_match", ok, detail, kind="match", details=details)


# -- the LLM judge ---------------------------------------------------------------------


def _openai_messages(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message records as OpenAI chat messages (what the judge reads)."""
    messages: list[dict[str, Any]] = []
    for record in records:
        kind = record.get("type")
        if kind == "human":
            messages.append({"role": "user", "content": str(record.get("content") or "")})
        elif kind == "tool":
            content = str(record.get("content") or "")[:MAX_OUTPUT_CHARS]
            messages.append({"role": "tool", "tool_call_id": record.get("tool_call_id") or "", "content": content})
        elif kind == "ai":
            message: dict[str, Any] = {"role": "assistant", "content": str(record.get("content") or "")}
            calls = [
                {
                    "id": call.get("id") or f"call_{number}",
                    "type": "function",
                    "function": {
                        "name": call.get("name"),
                        "arguments": json.dumps(call.get("args") or {}, ensure_ascii=False),
                    },
                }
                for number, call in enumerate(record.get("tool_calls") or [])
            ]
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
    return messages


class Judge:
    """The LLM-as-judge evaluator; ``model`` is ``None`` when no hosted model is configured."""

    def __init__(self, model: BaseChatModel | None, name: str | None = None) -> None:
        self.model = model
        self.name = name

    @classmethod
    def for_model(cls, model: BaseChatModel) -> Judge:
        """The runtime's own chat model judges, unless it is the offline one."""
        if isinstance(model, OfflineChatModel):
            return cls(None)
        name = getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
        return cls(model, str(name))

    async def __call__(self, actual: list[dict[str, Any]], reference: list[MessageRecord] | None) -> Check:
        if self.model is None:
            return Check(JUDGE_KEY, None, "skipped: no hosted model is configured (MOCHUNG_LLM=offline)", kind="judge")
        reference_messages = _openai_messages([record.as_dict() for record in reference]) if reference else None
        evaluator = create_async_trajectory_llm_as_judge(
            judge=self.model,
            prompt=TRAJECTORY_ACCURACY_PROMPT_WITH_REFERENCE if reference_messages else TRAJECTORY_ACCURACY_PROMPT,
            feedback_key=JUDGE_KEY,
        )
        try:
            result: Any = await evaluator(outputs=_openai_messages(actual), reference_outputs=reference_messages)
        except Exception as error:  # the judge is advisory: its failure is reported, never raised
            log.warning("the LLM judge failed: %s", type(error).__name__, exc_info=True)
            return Check(JUDGE_KEY, None, f"judge failed: {type(error).__name__}: {error}"[:500], kind="judge")
        score = result.get("score")
        comment = str(result.get("comment") or "")
        details = {"model": self.name}
        if isinstance(score, bool) or score is None:
            return Check(JUDGE_KEY, score, comment, kind="judge", details=details)
        try:
            number = float(score)
        except (TypeError, ValueError):  # a verdict that is neither yes/no nor a number
            return Check(
                JUDGE_KEY, None, f"judge failed: unreadable score {score!r}"[:500], kind="judge", details=details
            )
        return Check(JUDGE_KEY, number >= 0.5, comment, kind="judge", score=number, details=details)


# -- the checks and the policy -----------------------------------------------------------


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
    """Every check of the case but the judge's (which needs a model call: see :class:`Judge`)."""
    checks: list[Check] = []
    if case.expect_error:
        checks.append(Check("error", outcome.error is not None, outcome.error or "no error event", kind="error"))
    else:
        checks.append(Check("no_error", outcome.error is None, outcome.error or "", kind="error"))
    if case.mandatory_tools or not case.real_format:
        missing = [tool for tool in case.mandatory_tools if tool not in outcome.tools]
        checks.append(Check("mandatory_tools", not missing, f"missing: {missing}" if missing else "", kind="tool"))
    if case.forbidden_tools or not case.real_format:
        used = [tool for tool in case.forbidden_tools if tool in outcome.tools]
        checks.append(Check("forbidden_tools", not used, f"used: {used}" if used else "", kind="tool"))
    reference = case.reference()
    if reference is not None:
        steps = outcome.steps or [{"agent": None, "tool": tool} for tool in outcome.tools]
        checks.append(match_check(case.trajectory_mode, steps, reference))
    if case.real_format:
        return checks
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


def decide(case: Case, checks: list[Check]) -> bool:
    """The case's pass or fail from its checks (the policy in the module's docstring)."""
    if not case.real_format:
        return all(check.passed is not False for check in checks if check.kind != "judge")
    if any(check.passed is False for check in checks if check.kind == "error"):
        return False
    tools = [check for check in checks if check.kind == "tool"]
    matches = [check for check in checks if check.kind in ("match", "judge") and check.passed is not None]
    gating = tools + (matches if case.require_match or not tools else [])
    return all(check.passed for check in gating)


__all__ = [
    "Check",
    "Judge",
    "Outcome",
    "actual_records",
    "decide",
    "evaluate",
    "match_check",
    "records_from_tool_names",
    "trajectory_matches",
]
