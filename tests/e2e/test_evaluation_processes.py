"""The admin Evaluation page's sequence across two real web processes (distributed mode, one
PostgreSQL), every field the page reads checked: a dataset never run is run by a results
call; a run started on one process is seen running on the other (202), joined rather than
doubled, another dataset is refused (409) by either, and the result is read from both.

The agents use a hosted model (the fake OpenAI server, answering slowly), so the run takes
long enough to be seen running, and the LLM judge runs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.stack import Stack, ThreadedServer
from tests.support.evaluation_page import DEFAULT, assert_page_result, assert_running
from tests.support.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.e2e
POLL = 0.2  # the page polls every 3 s
DATASET, OTHER = "paraphrases", "en_basics"  # the smallest shipped dataset, and another


@pytest.fixture
def openai() -> Iterator[str]:
    server = ThreadedServer(FakeOpenAI(delay_seconds=0.2).app())
    server.start()
    yield f"{server.url}/v1"
    server.stop()


def _call(method: str, url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _poll(url: str, token: str, dataset: str) -> tuple[int, Any, int]:
    """Poll like the page until the answer is not 202: (status, body, how many 202s)."""
    deadline, running = time.monotonic() + 300, 0
    while True:
        status, body = _call("GET", url, token)
        if status != 202:
            return status, body, running
        assert_running(body, dataset)
        running += 1
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(POLL)


def test_two_web_processes_share_one_evaluation(make_stack: Callable[..., Stack], openai: str) -> None:
    """The page's sequence — datasets → results → run → poll → final results — with each
    step on either process, in both route forms."""
    stack = make_stack(MOCHUNG_LLM="openai:gpt-4o-mini", OPENAI_BASE_URL=openai, OPENAI_API_KEY="test")
    first, second = stack.serve("serve-a"), stack.serve("serve-b")
    token = stack.admin_token(first)

    # 1. the dataset list: plain strings
    status, names = _call("GET", f"{second}/api/admin/evaluation/datasets", token)
    assert status == 200 and all(isinstance(name, str) for name in names)
    assert DEFAULT in names and DATASET in names

    # 2. results of a dataset never run, nothing running: it is run then and there
    status, never_run = _call("GET", f"{first}/api/admin/evaluation/results?dataset={DATASET}", token)
    if status == 202:  # over RESULTS_WAIT_SECONDS on a slow machine: the page polls
        status, never_run, _ = _poll(f"{first}/api/admin/evaluation/results?dataset={DATASET}", token, DATASET)
    assert status == 200
    assert_page_result(never_run, DATASET)
    assert _call("GET", f"{second}/api/admin/evaluation/results/{DATASET}", token)[1] == never_run

    # 3. run on one process: 202; the other sees it running (202), joins it, refuses another dataset
    status, started = _call("POST", f"{first}/api/admin/evaluation/run/{DATASET}", token)
    assert status == 202
    assert_running(started, DATASET)
    status, seen = _call("GET", f"{second}/api/admin/evaluation/results/{DATASET}", token)
    assert status == 202 and seen["run_id"] == started["run_id"]
    assert_running(seen, DATASET)
    status, joined = _call("POST", f"{second}/api/admin/evaluation/run?dataset={DATASET}", token)
    assert status == 202 and joined["run_id"] == started["run_id"]
    for url in (first, second):
        assert _call("POST", f"{url}/api/admin/evaluation/run/{OTHER}", token)[0] == 409
        assert _call("POST", f"{url}/api/admin/evaluation/run?dataset={OTHER}", token)[0] == 409
        assert _call("GET", f"{url}/api/admin/evaluation/results?dataset={OTHER}", token)[0] == 409

    # 4. poll the other process until the run is done: the final result, read from both
    status, result, _ = _poll(f"{second}/api/admin/evaluation/results?dataset={DATASET}", token, DATASET)
    assert status == 200 and result["run_id"] == started["run_id"] != never_run["run_id"]
    assert_page_result(result, DATASET)
    assert _call("GET", f"{first}/api/admin/evaluation/results/{DATASET}", token)[1]["run_id"] == started["run_id"]
    judged = [e for case in result["test_results"] for e in case["evaluations"] if e["key"] == "trajectory_llm_judge"]
    assert judged and all(e["score"] is True for e in judged if not e["comment"].startswith("judge failed"))
    # the lock is free again, on either process
    assert _call("POST", f"{second}/api/admin/evaluation/run/{OTHER}", token)[0] == 202
