"""The real dataset format (``test_cases:``, requirements, reference trajectories as message
records), the trajectory match in its four modes after the normalisation, the pass/fail
policy, and the LLM judge: against the fake OpenAI server, and skipped offline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from mochung.agents import AgentRuntime, build_runtime
from mochung.agents.evaluation import load_dataset
from mochung.agents.evaluation.cases import Case, parse_dataset
from mochung.agents.evaluation.evaluators import Check, Judge, Outcome, decide, evaluate, match_check
from mochung.agents.evaluation.runner import cases_of, run_cases
from mochung.settings import load_settings
from tests.support.fakes.openai_server import FakeOpenAI

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

DATASET = """
test_cases:
  - id: venue
    query: "예식장이 어디예요?"
    category: venue
    description: where the wedding is
    fixture_id: minsu-jieun
    context:
      chat_history:
        - {type: human, content: "안녕하세요"}
        - {type: ai, content: "안녕하세요!"}
    requirements:
      mandatory_tools: [call_map_agent]
      forbidden_tools: [call_output_agent]
      trajectory_mode: MODE
      require_match: true
    reference_trajectory:
      - {type: human, content: "예식장이 어디예요?"}
      - type: ai
        content: "찾아볼게요"
        tool_calls:
          - {id: x-1, name: call_context_agent, args: {request: venue}}
          - {id: x-2, name: call_map_agent, args: {request: 'Find "더채플앳청담"'}}
      - {type: tool, tool_call_id: x-1, content: '{"place_name": "더채플앳청담"}'}
      - {type: tool, tool_call_id: x-2, content: '{"places": []}'}
      - {type: human, content: "고마워요"}
      - {type: ai, content: "예식 장소는 더채플앳청담이에요."}
"""


def real_case(mode: str) -> Case:
    [case] = parse_dataset("probe", yaml.safe_load(DATASET.replace("MODE", mode))).cases
    return case


def steps(*tools: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"agent": agent, "tool": tool, "args": {"request": f"worded differently {n}"}}
        for n, (agent, tool) in enumerate(tools)
    ]


CONTEXT = ("main", "call_context_agent")
READ = ("context", "get_wedding_info")
MAP = ("main", "call_map_agent")
SEARCH = ("map", "search_place")
OUTPUT = ("main", "call_output_agent")


def test_the_real_format_loads_into_cases() -> None:
    case = real_case("strict")
    assert case.real_format and case.require_match is True
    assert (case.id, case.category, case.description, case.wedding) == (
        "venue",
        "venue",
        "where the wedding is",
        "minsu-jieun",
    )
    assert case.history == [{"role": "user", "content": "안녕하세요"}, {"role": "assistant", "content": "안녕하세요!"}]
    assert case.mandatory_tools == ["call_map_agent"] and case.forbidden_tools == ["call_output_agent"]
    reference = case.reference()
    assert reference is not None and [record.type for record in reference] == [
        "human",
        "ai",
        "tool",
        "tool",
        "human",
        "ai",
    ]
    assert reference[1].tool_calls[1].args == {"request": 'Find "더채플앳청담"'}


def test_the_shipped_default_dataset_is_in_the_real_format() -> None:
    dataset = load_dataset("main_agent_scenarios")
    ids = {case.id for case in dataset.cases}
    assert {"wedding_info_query", "wedding_venue_location", "wedding_directions", "simple_greeting"} <= ids
    assert len(ids) >= 8 and all(case.real_format and case.description for case in dataset.cases)
    assert {case.trajectory_mode for case in dataset.cases} == {"strict", "unordered", "subset", "superset"}
    assert all(case.reference_messages for case in dataset.cases)
    assert any(case.history for case in dataset.cases) and any(case.wedding is None for case in dataset.cases)


@pytest.mark.parametrize(
    ("mode", "ran", "matches"),
    [
        # the reference, normalised: the main agent's call_context_agent then call_map_agent
        ("strict", [CONTEXT, READ, MAP, SEARCH], True),  # sub-agent steps are not the main agent's
        ("strict", [MAP, CONTEXT], False),
        ("strict", [CONTEXT, MAP, MAP], False),
        ("unordered", [MAP, SEARCH, CONTEXT, READ], True),
        ("unordered", [CONTEXT], False),
        ("subset", [CONTEXT, READ], True),
        ("subset", [CONTEXT, MAP, OUTPUT], False),
        ("superset", [CONTEXT, MAP, OUTPUT], True),
        ("superset", [MAP], False),
    ],
)
def test_trajectory_match_in_every_mode(mode: str, ran: list[tuple[str, str]], matches: bool) -> None:
    case = real_case(mode)
    reference = case.reference()
    assert reference is not None
    check = match_check(case.trajectory_mode, steps(*ran), reference)
    assert check.name == f"trajectory_{mode}_match" and check.kind == "match"
    assert check.passed is matches, check.detail
    assert check.details is not None and check.details["level"] == "main"
    assert check.details["reference"] == ["call_context_agent", "call_map_agent"]


def test_a_reference_naming_sub_agent_tools_is_compared_with_every_agent() -> None:
    case = Case(
        id="x",
        category="c",
        query="q",
        trajectory_mode="strict",
        reference_trajectory=["call_context_agent", "get_wedding_info", "call_map_agent", "search_place"],
        require_match=True,
    )
    reference = case.reference()
    assert reference is not None
    assert match_check("strict", steps(CONTEXT, READ, MAP, SEARCH), reference).passed
    assert not match_check("strict", steps(CONTEXT, MAP, SEARCH, READ), reference).passed


def _policy(case: Case, **verdicts: bool | None) -> bool:
    kinds = {
        "no_error": "error",
        "mandatory_tools": "tool",
        "forbidden_tools": "tool",
        "match": "match",
        "judge": "judge",
    }
    return decide(case, [Check(name, passed, kind=kinds[name]) for name, passed in verdicts.items()])  # type: ignore[arg-type]


def test_the_pass_fail_policy() -> None:
    gated = real_case("strict")  # tool checks and require_match: true
    assert _policy(gated, no_error=True, mandatory_tools=True, forbidden_tools=True, match=True, judge=None)
    assert not _policy(gated, no_error=True, mandatory_tools=True, forbidden_tools=True, match=False)
    assert not _policy(gated, no_error=True, mandatory_tools=True, forbidden_tools=True, match=True, judge=False)
    assert not _policy(gated, no_error=False, mandatory_tools=True, forbidden_tools=True, match=True)
    tools_only = gated.model_copy(update={"require_match": False})
    assert _policy(tools_only, no_error=True, mandatory_tools=True, forbidden_tools=True, match=False, judge=False)
    assert not _policy(tools_only, no_error=True, mandatory_tools=False, forbidden_tools=True, match=True)
    match_only = tools_only.model_copy(update={"mandatory_tools": [], "forbidden_tools": []})
    outcome = Outcome(answer="…", steps=steps(MAP), tools=["call_map_agent"])
    checks = evaluate(match_only, outcome)
    assert [check.kind for check in checks] == ["error", "match"]  # no tool checks: match alone gates
    assert not decide(match_only, checks)
    assert decide(match_only, evaluate(match_only, Outcome(answer="…", steps=steps(CONTEXT, MAP))))


async def test_offline_the_default_dataset_passes_and_the_judge_is_skipped(runtime: AgentRuntime) -> None:
    report = await run_cases(cases_of(["main_agent_scenarios"]), runtime)
    assert report["summary"]["pass_rate"] == 1.0 and report["judge"] is None
    for result in report["test_results"]:
        [judge] = [e for e in result["evaluations"] if e["key"] == "trajectory_llm_judge"]
        assert judge["score"] is None and judge["comment"].startswith("skipped: no hosted model")
        assert result["trajectory"][0] == {"type": "human", "content": result["query"]}
        assert [call["name"] for r in result["trajectory"] if r["type"] == "ai" for call in r["tool_calls"]] == result[
            "tools"
        ]


@pytest.mark.parametrize("verdict", [True, False])
async def test_the_llm_judge_runs_against_a_hosted_model(openai: FakeOpenAI, verdict: bool) -> None:
    openai.judge_score = verdict
    runtime = build_runtime(load_settings(llm="openai:gpt-4o-mini", kakao_rest_api_key=None))
    # the fake model's turn: context → map → output agent, which this case allows
    case = real_case("superset").model_copy(update={"forbidden_tools": []})
    report = await run_cases([("probe", case)], runtime)
    assert report["judge"] == "gpt-4o-mini"
    [result] = report["test_results"]
    [judge] = [e for e in result["evaluations"] if e["key"] == "trajectory_llm_judge"]
    assert judge["score"] is verdict and judge["comment"].startswith("The trajectory reaches")
    assert judge["details"] == {"model": "gpt-4o-mini"}
    # the case requires the match: the judge's "no" fails it
    assert result["success"] is verdict
    [asked] = [request for request in openai.requests if request.get("response_format")]
    prompt = asked["messages"][-1]["content"]
    assert "<reference_trajectory>" in prompt and "call_map_agent" in prompt and "예식장이 어디예요?" in prompt
    # the main agent's sub-agent answers reach the judge as tool outputs
    assert "더채플앳청담" in prompt


async def test_a_failing_judge_is_reported_not_raised(openai: FakeOpenAI) -> None:
    openai.judge_score = "not a verdict"  # type: ignore[assignment]
    runtime = build_runtime(load_settings(llm="openai:gpt-4o-mini", kakao_rest_api_key=None))
    judge = Judge.for_model(runtime.model)
    check = await judge([{"type": "human", "content": "hi"}], None)
    assert check.passed is None and check.evaluation()["score"] is None
    assert check.detail.startswith("judge failed")
