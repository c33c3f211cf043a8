"""The admin Evaluation page's contract (PROTOCOL.md "Admin evaluation") over HTTP with the
agents' real runner and offline model: the page's own call sequence in both route forms,
the 202 while running, the 409, names, and runs surviving a restart.

The page polls every 3 s; these tests poll every ``POLL`` seconds. A run is held at a gate
(the registry's runner waits on an event) where a test needs to see it running."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mochung.agents.evaluation.cases import Case
from mochung.agents.evaluation.runner import ProgressCallback
from mochung.agents.evaluation.runs import Evaluations
from mochung.domain.models import AuditEntry, EvaluationRun
from mochung.server import keys
from mochung.server.app import create_app
from tests.support.evaluation_page import DEFAULT, assert_page_result, assert_running
from tests.support.users import user_with_headers

POLL = 0.05


def registry(client: TestClient) -> Evaluations:
    return client.server.app[keys.EVALUATIONS]


def gate(client: TestClient) -> asyncio.Event:
    """Hold every run of this app before its first case until the event is set."""
    opened = asyncio.Event()
    evaluations = registry(client)
    real = evaluations.runner

    async def gated(cases: Sequence[tuple[str, Case]], progress: ProgressCallback) -> dict[str, Any]:
        await opened.wait()
        return await real(cases, progress)

    evaluations.runner = gated
    return opened


async def settle(client: TestClient) -> None:
    await asyncio.gather(*registry(client).tasks)


def urls(form: str, dataset: str) -> tuple[str, str]:
    """(results, run) URLs of the page in the query or the path form."""
    if form == "query":
        return f"/api/admin/evaluation/results?dataset={dataset}", f"/api/admin/evaluation/run?dataset={dataset}"
    return f"/api/admin/evaluation/results/{dataset}", f"/api/admin/evaluation/run/{dataset}"


async def poll(client: TestClient, url: str, headers: dict[str, str], dataset: str) -> tuple[int, dict[str, Any], int]:
    """Poll like the page until the answer is not 202: (status, body, how many 202s)."""
    running = 0
    while True:
        response = await client.get(url, headers=headers)
        body = await response.json()
        if response.status != 202:
            return response.status, body, running
        assert_running(body, dataset)
        running += 1
        await asyncio.sleep(POLL)


@pytest.mark.parametrize("form", ["query", "path"])
async def test_the_pages_sequence(client: TestClient, form: str) -> None:
    admin, headers = await user_with_headers(admin=True)
    # 1. the dataset list: plain strings, the page's default among them
    response = await client.get("/api/admin/evaluation/datasets", headers=headers)
    assert response.status == 200
    names = await response.json()
    assert all(isinstance(name, str) for name in names) and DEFAULT in names

    # 2. results of a dataset never run, nothing running: it is run and answered
    results_url, run_url = urls(form, DEFAULT)
    response = await client.get(results_url, headers=headers)
    assert response.status == 200
    first = await response.json()
    assert_page_result(first, DEFAULT)
    assert {case["name"] for case in first["test_results"]} >= {
        "wedding_info_query",
        "wedding_venue_location",
        "wedding_directions",
        "simple_greeting",
    }

    # 3. run: 202 {status, dataset, message}; again while it runs: the same run
    opened = gate(client)
    response = await client.post(run_url, headers=headers)
    assert response.status == 202
    started = await response.json()
    assert_running(started, DEFAULT)
    again = await client.post(run_url, headers=headers)
    assert again.status == 202 and (await again.json())["run_id"] == started["run_id"]

    # 4. poll: 202 while it runs (the page keeps polling), then the new result
    response = await client.get(results_url, headers=headers)
    assert response.status == 202
    body = await response.json()
    assert_running(body, DEFAULT)
    opened.set()
    status, final, _ = await poll(client, results_url, headers, DEFAULT)
    assert status == 200
    assert_page_result(final, DEFAULT)
    assert final["run_id"] == started["run_id"] != first["run_id"]
    assert final["started_by"]["id"] == admin["id"]

    audits = await AuditEntry.filter(action="evaluation.run").order_by("created_at")
    assert [(entry.target, entry.details.get("trigger")) for entry in audits] == [
        (f"dataset:{DEFAULT}", "results"),
        (f"dataset:{DEFAULT}", None),
    ]


async def test_another_dataset_while_one_runs_is_409(client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    opened = gate(client)
    assert (await client.post("/api/admin/evaluation/run/edge_cases", headers=headers)).status == 202
    refused = await client.post("/api/admin/evaluation/run?dataset=en_basics", headers=headers)
    assert refused.status == 409
    assert "edge_cases" in (await refused.json())["message"]
    # results of a dataset never run cannot run it now either
    assert (await client.get("/api/admin/evaluation/results/en_basics", headers=headers)).status == 409
    running = await client.get("/api/admin/evaluation/results?dataset=edge_cases", headers=headers)
    assert running.status == 202
    opened.set()
    await settle(client)
    assert (await client.post("/api/admin/evaluation/run/en_basics", headers=headers)).status == 202
    await settle(client)
    assert await EvaluationRun.filter(lock__isnull=False).count() == 0


async def test_the_default_dataset_and_names(client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    gate(client).set()
    response = await client.post("/api/admin/evaluation/run", headers=headers)
    assert response.status == 202 and (await response.json())["dataset"] == DEFAULT
    await settle(client)
    response = await client.get("/api/admin/evaluation/results", headers=headers)
    assert response.status == 200 and (await response.json())["dataset"] == DEFAULT
    for bad in ("a.b", "no%20spaces", "x$y"):
        assert (await client.post(f"/api/admin/evaluation/run/{bad}", headers=headers)).status == 400
        assert (await client.get(f"/api/admin/evaluation/results?dataset={bad}", headers=headers)).status == 400
    for unknown in ("nope", "edge-cases"):
        assert (await client.post(f"/api/admin/evaluation/run?dataset={unknown}", headers=headers)).status == 404
        assert (await client.get(f"/api/admin/evaluation/results/{unknown}", headers=headers)).status == 404
    _, user_headers = await user_with_headers()
    assert (await client.get("/api/admin/evaluation/datasets", headers=user_headers)).status == 403


async def test_runs_survive_a_restart(aiohttp_client: Any, settings: Any, client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    await client.post("/api/admin/evaluation/run/paraphrases", headers=headers)
    await settle(client)
    first = await (await client.get("/api/admin/evaluation/results/paraphrases", headers=headers)).json()
    await client.close()  # the first app shuts down; a new process-like app reads the database

    fresh = await aiohttp_client(create_app(settings))
    response = await fresh.get("/api/admin/evaluation/results/paraphrases", headers=headers)
    assert response.status == 200
    again = await response.json()
    assert again["run_id"] == first["run_id"] and again["test_results"] == first["test_results"]


async def test_a_run_interrupted_by_shutdown_is_cancelled_and_frees_the_lock(
    aiohttp_client: Any, settings: Any, client: TestClient
) -> None:
    _, headers = await user_with_headers(admin=True)
    gate(client)  # never opened
    started = await (await client.post("/api/admin/evaluation/run/edge_cases", headers=headers)).json()
    await client.close()

    fresh = await aiohttp_client(create_app(settings))
    run = await (await fresh.get(f"/api/admin/evaluation/runs/{started['run_id']}", headers=headers)).json()
    assert run["status"] == "cancelled" and run["error"].startswith("cancelled")
    assert (await fresh.post("/api/admin/evaluation/run/en_basics", headers=headers)).status == 202  # the lock is free


async def test_two_web_processes_agree_on_what_is_running(client: TestClient) -> None:
    """Another process's run, seen through the database: B answers 202 for it, refuses
    another dataset with 409, and takes over the lock once A's heartbeat has gone silent."""
    _, headers = await user_with_headers(admin=True)
    other = registry(client)
    opened = gate(client)
    started = await (await client.post("/api/admin/evaluation/run/edge_cases", headers=headers)).json()
    # "process B": a registry of its own (its own owner, no local task) over the same database
    b = Evaluations(other.runner, stale_after=0.5, poll_seconds=POLL)
    holder = await b.active()
    assert holder is not None and str(holder.id) == started["run_id"] and holder.owner != b.owner
    joined, is_new = await b.start("edge_cases", None)
    assert not is_new and joined.id == holder.id
    with pytest.raises(Exception, match="edge_cases"):
        await b.start("en_basics", None)

    other.heartbeat_seconds = 3600  # A's process "dies": its heartbeat stops
    for task in list(other.tasks):
        task.cancel()
    await asyncio.gather(*other.tasks, return_exceptions=True)
    await EvaluationRun.filter(id=holder.id).update(
        status="running", lock="evaluation"
    )  # as a killed process leaves it
    await asyncio.sleep(0.6)
    taken, is_new = await b.start("en_basics", None)
    assert is_new
    abandoned = await EvaluationRun.get(id=holder.id)
    assert abandoned.status == "failed" and abandoned.error and abandoned.error.startswith("abandoned")
    opened.set()
    await b.close()
    assert (await EvaluationRun.get(id=taken.id)).status == "cancelled"
