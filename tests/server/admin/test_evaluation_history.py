"""The evaluation run history over HTTP: history (paged, by dataset), one run, compare
(flips, deltas), rerunning one case, and exporting a run as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from aiohttp.test_utils import TestClient

from mochung.domain.models import AuditEntry, EvaluationCaseResult
from tests.server.admin.test_evaluation import settle
from tests.support.users import user_with_headers

BASE = "/api/admin/evaluation"


async def _run(client: TestClient, headers: dict[str, str], dataset: str) -> dict[str, Any]:
    started = await (await client.post(f"{BASE}/run/{dataset}", headers=headers)).json()
    await settle(client)
    response = await client.get(f"{BASE}/runs/{started['run_id']}", headers=headers)
    assert response.status == 200
    return dict(await response.json())


async def test_history_lists_every_run_newest_first(client: TestClient) -> None:
    admin, headers = await user_with_headers(admin=True)
    first = await _run(client, headers, "edge_cases")
    second = await _run(client, headers, "edge_cases")
    other = await _run(client, headers, "paraphrases")

    body = await (await client.get(f"{BASE}/history", headers=headers)).json()
    assert [item["run_id"] for item in body["items"]] == [other["run_id"], second["run_id"], first["run_id"]]
    assert body["nextCursor"] is None
    item = body["items"][1]
    assert item["dataset"] == "edge_cases" and item["status"] == "done" and item["scope"] == "dataset"
    assert item["started_by"] == {"id": admin["id"], "email": admin["email"]}
    assert item["started_at"].endswith("Z") and item["finished_at"] and item["duration"] >= 0
    assert item["summary"] == second["summary"] and item["progress"]["done"] == item["progress"]["total"] > 0
    assert "test_results" not in item

    page = await (await client.get(f"{BASE}/history?dataset=edge_cases&limit=1", headers=headers)).json()
    assert [item["run_id"] for item in page["items"]] == [second["run_id"]] and page["nextCursor"]
    rest = await (
        await client.get(f"{BASE}/history?dataset=edge_cases&limit=1&cursor={page['nextCursor']}", headers=headers)
    ).json()
    assert [item["run_id"] for item in rest["items"]] == [first["run_id"]]
    assert (await client.get(f"{BASE}/history?dataset=a.b", headers=headers)).status == 400
    assert (await client.get(f"{BASE}/history?cursor=garbage", headers=headers)).status == 400


async def test_a_run_keeps_each_case_and_its_trajectory(client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    run = await _run(client, headers, "main_agent_scenarios")
    venue = next(case for case in run["test_results"] if case["name"] == "wedding_venue_location")
    assert venue["trajectory"][0] == {"type": "human", "content": "예식장이 어디예요?"}
    assert [step["tool"] for step in venue["steps"]] == venue["tools"]
    assert "call_map_agent" in venue["tools"] and venue["agent_response"]
    assert await EvaluationCaseResult.filter(run_id=run["run_id"]).count() == len(run["test_results"])
    assert (await client.get(f"{BASE}/runs/not-a-uuid", headers=headers)).status == 404


async def test_compare_says_what_flipped(client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    before = await _run(client, headers, "paraphrases")
    after = await _run(client, headers, "paraphrases")
    # make one case of the second run a failure, as a regression would
    row = await EvaluationCaseResult.get(run_id=after["run_id"], name="para-ko-naver")
    row.result = {**row.result, "success": False}
    await row.save()

    response = await client.get(f"{BASE}/compare?from={before['run_id']}&to={after['run_id']}", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["from"]["run_id"] == before["run_id"] and body["to"]["run_id"] == after["run_id"]
    assert body["broke"] == ["para-ko-naver"] and body["fixed"] == []
    [flip] = body["flipped"]
    assert (flip["name"], flip["from"], flip["to"], flip["change"]) == ("para-ko-naver", True, False, "broke")
    assert body["pass_rate_delta"] == 0.0  # the stored summaries did not change
    assert isinstance(body["avg_execution_time_delta"], float) and isinstance(body["duration_delta"], float)
    assert len(body["cases"]) == len(after["test_results"]) and body["added"] == body["removed"] == []

    # without `from`: the run of the same dataset before `to`
    implied = await (await client.get(f"{BASE}/compare?to={after['run_id']}", headers=headers)).json()
    assert implied["from"]["run_id"] == before["run_id"]
    assert (await client.get(f"{BASE}/compare?to={before['run_id']}", headers=headers)).status == 404
    other = await _run(client, headers, "edge_cases")
    assert (
        await client.get(f"{BASE}/compare?from={other['run_id']}&to={after['run_id']}", headers=headers)
    ).status == 400


async def test_rerun_one_case(client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    source = await _run(client, headers, "main_agent_scenarios")
    response = await client.post(f"{BASE}/runs/{source['run_id']}/cases/simple_greeting/rerun", headers=headers)
    assert response.status == 201
    rerun = await response.json()
    assert (
        rerun["scope"] == "case" and rerun["case_name"] == "simple_greeting" and rerun["rerun_of"] == source["run_id"]
    )
    assert rerun["status"] == "done" and [case["name"] for case in rerun["test_results"]] == ["simple_greeting"]
    assert rerun["summary"]["total_tests"] == 1
    # the dataset's result is still the last whole run
    latest = await (await client.get(f"{BASE}/results/main_agent_scenarios", headers=headers)).json()
    assert latest["run_id"] == source["run_id"]
    history = await (await client.get(f"{BASE}/history", headers=headers)).json()
    assert history["items"][0]["run_id"] == rerun["run_id"]
    compared = await (
        await client.get(f"{BASE}/compare?from={source['run_id']}&to={rerun['run_id']}", headers=headers)
    ).json()
    assert [case["name"] for case in compared["cases"]] == ["simple_greeting"] and compared["flipped"] == []
    assert await AuditEntry.filter(action="evaluation.rerun").count() == 1
    missing = await client.post(f"{BASE}/runs/{source['run_id']}/cases/nope/rerun", headers=headers)
    assert missing.status == 404


async def test_export_a_run_as_csv_and_json(client: TestClient) -> None:
    _, headers = await user_with_headers(admin=True)
    run = await _run(client, headers, "main_agent_scenarios")
    response = await client.get(f"{BASE}/runs/{run['run_id']}/export?format=csv", headers=headers)
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = await response.read()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == [case["name"] for case in run["test_results"]]
    first = rows[0]
    assert first["run_id"] == run["run_id"] and first["success"] in ("pass", "fail")
    assert first["trajectory_llm_judge"] == ""  # offline: not run
    assert first["no_error"] == "pass" and first["agent_response"]

    response = await client.get(f"{BASE}/runs/{run['run_id']}/export?format=json", headers=headers)
    assert response.status == 200 and response.headers["Content-Disposition"].endswith('.json"')
    assert json.loads(await response.read()) == run
    assert (await client.get(f"{BASE}/runs/{run['run_id']}/export?format=xml", headers=headers)).status == 400
