"""The evaluation routes with the agents' real runner and offline model: list, run in the
background (202), read the cached results, and the cache surviving a restart."""

from __future__ import annotations

import asyncio

from mochung.domain.models import AuditEntry
from mochung.server import keys
from mochung.server.app import create_app
from tests.support.users import user_with_headers


async def _settle(client) -> None:
    """Wait for the background runs this app started (instead of polling on a clock)."""
    await asyncio.gather(*client.server.app[keys.EVALUATIONS].tasks)


async def test_datasets_are_listed(client) -> None:
    _, headers = await user_with_headers(admin=True)
    response = await client.get("/api/admin/evaluation/datasets", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["nextCursor"] is None
    by_name = {d["name"]: d for d in body["items"]}
    assert {"edge_cases", "ko_basics", "en_basics"} <= set(by_name)
    assert by_name["edge_cases"]["cases"] > 0 and by_name["edge_cases"]["description"]


async def test_run_then_read_results(client, settings) -> None:
    admin, headers = await user_with_headers(admin=True)
    assert (await client.get("/api/admin/evaluation/results/edge_cases", headers=headers)).status == 404

    response = await client.post("/api/admin/evaluation/run/edge_cases", headers=headers)
    assert response.status == 202
    started = await response.json()
    assert started["status"] == "running" and started["dataset"] == "edge_cases"
    assert started["progress"]["total"] > 0
    again = await (await client.post("/api/admin/evaluation/run/edge_cases", headers=headers)).json()
    assert again["runId"] == started["runId"]  # one run per dataset at a time
    await _settle(client)

    response = await client.get("/api/admin/evaluation/results/edge_cases", headers=headers)
    assert response.status == 200
    result = await response.json()
    assert result["runId"] == started["runId"] and result["status"] == "done"
    assert result["finishedAt"].endswith("Z") and result["error"] is None
    summary = result["summary"]
    assert summary["totalTests"] == len(result["cases"]) == result["progress"]["done"] > 0
    assert summary["passedTests"] + summary["failedTests"] == summary["totalTests"]
    case = result["cases"][0]
    assert {"id", "category", "query", "passed", "checks", "tools", "trajectory", "executionTime"} <= set(case)
    assert set(next(iter(result["categories"].values()))) >= {"total", "passed", "failed", "passRate"}
    assert (settings.data_dir / "evaluation" / "edge_cases.json").exists()

    entries = await AuditEntry.filter(action="evaluation.run")
    assert [(e.target, str(e.admin_id)) for e in entries] == [("dataset:edge_cases", admin["id"])]


async def test_results_survive_a_restart(aiohttp_client, settings, client) -> None:
    _, headers = await user_with_headers(admin=True)
    await client.post("/api/admin/evaluation/run/paraphrases", headers=headers)
    await _settle(client)
    first = await (await client.get("/api/admin/evaluation/results/paraphrases", headers=headers)).json()
    await client.close()  # the first app shuts down; a new process-like app reads the cache

    fresh = await aiohttp_client(create_app(settings))
    response = await fresh.get("/api/admin/evaluation/results/paraphrases", headers=headers)
    assert response.status == 200
    assert (await response.json())["runId"] == first["runId"]


async def test_unknown_datasets_are_404(client) -> None:
    _, headers = await user_with_headers(admin=True)
    for name in ("nope", "..", "edge_cases.json"):
        assert (await client.post(f"/api/admin/evaluation/run/{name}", headers=headers)).status == 404
        assert (await client.get(f"/api/admin/evaluation/results/{name}", headers=headers)).status == 404
    assert await AuditEntry.all().count() == 0
