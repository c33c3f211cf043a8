"""The admin Evaluation page's sequence across two real web processes (distributed mode, one
PostgreSQL): a run started on one is seen running on the other (202), joined rather than
doubled, another dataset is refused (409) by either, and the result is read from both.

The agents use a hosted model (the fake OpenAI server, answering slowly), so the run takes
long enough to be seen running, and the LLM judge runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.stack import START_SECONDS, Stack, ThreadedServer, _post
from tests.support.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.e2e
ADMIN, PASSWORD = "eval-admin@example.com", "a-long-admin-password"
POLL = 0.2  # the page polls every 3 s


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


def test_two_web_processes_share_one_evaluation(make_stack: Callable[..., Stack], openai: str) -> None:
    stack = make_stack(MOCHUNG_LLM="openai:gpt-4o-mini", OPENAI_BASE_URL=openai, OPENAI_API_KEY="test")
    first, second = stack.serve("serve-a"), stack.serve("serve-b")
    subprocess.run(
        [sys.executable, "-m", "mochung", "admin", "create", ADMIN, "--password-stdin"],
        input=PASSWORD.encode(),
        env=stack.env(),
        cwd=stack.workdir,
        check=True,
        capture_output=True,
        timeout=START_SECONDS,
    )
    token = _post(f"{first}/api/auth/login", {"email": ADMIN, "password": PASSWORD})["access_token"]

    status, names = _call("GET", f"{second}/api/admin/evaluation/datasets", token)
    assert status == 200 and "main_agent_scenarios" in names
    status, started = _call("POST", f"{first}/api/admin/evaluation/run?dataset=edge_cases", token)
    assert status == 202 and started["status"] == "running" and started["dataset"] == "edge_cases"

    # the other process sees it running, joins it, and refuses another dataset
    status, seen = _call("GET", f"{second}/api/admin/evaluation/results/edge_cases", token)
    assert status == 202 and seen["run_id"] == started["run_id"] and seen["message"]
    status, joined = _call("POST", f"{second}/api/admin/evaluation/run/edge_cases", token)
    assert status == 202 and joined["run_id"] == started["run_id"]
    for url in (first, second):
        assert _call("POST", f"{url}/api/admin/evaluation/run/en_basics", token)[0] == 409

    deadline = time.monotonic() + 300
    while True:
        status, result = _call("GET", f"{second}/api/admin/evaluation/results?dataset=edge_cases", token)
        if status != 202:
            break
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(POLL)
    assert status == 200 and result["run_id"] == started["run_id"] and result["status"] == "done"
    assert result["summary"]["total_tests"] == len(result["test_results"]) > 0
    assert _call("GET", f"{first}/api/admin/evaluation/results/edge_cases", token)[1]["run_id"] == started["run_id"]
    judged = [e for case in result["test_results"] for e in case["evaluations"] if e["key"] == "trajectory_llm_judge"]
    assert judged and all(e["score"] is True for e in judged if not e["comment"].startswith("judge failed"))
    # the lock is free again, on either process
    assert _call("POST", f"{second}/api/admin/evaluation/run/en_basics", token)[0] == 202
