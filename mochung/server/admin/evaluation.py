"""Admin: the agents' trajectory evaluation — list datasets, run one, read its last results.

Decisions:
- A run takes a while (every case is a full agent turn), so ``POST …/run/:dataset``
  starts it as a background task of this web process and answers 202 at once with the
  run (``status: "running"``). Posting again while that dataset runs answers 202 with the
  same run instead of starting a second one.
- ``GET …/results/:dataset`` answers the latest run of the dataset: the running one, or
  the last finished one. Finished runs are cached as JSON in
  ``{data_dir}/evaluation/{dataset}.json`` (written atomically), so results survive a
  restart without a database table; a run interrupted by a shutdown is simply not
  cached, and the previous result stays. Never run: 404.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pydantic import Field
from pydantic.alias_generators import to_camel

from mochung.agents.evaluation import list_datasets, run_dataset
from mochung.agents.evaluation.runner import ProgressCallback
from mochung.agents.evaluation.runs import Dataset, EvaluationRun, Evaluations, RunState
from mochung.domain import audit
from mochung.domain.errors import NotFound
from mochung.domain.models import User
from mochung.server import keys
from mochung.server.http.listing import Paginated
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
TAG = "admin"
# values under these keys are data (components' props, tool arguments, a wedding fixture):
# their keys are kept as they are instead of being camel-cased
_OPAQUE = frozenset({"components", "trajectory", "wedding", "answer"})


class DatasetOut(WireModel):
    name: str
    description: str | None = None
    cases: int | None = Field(default=None, description="number of cases")


class RunProgress(WireModel):
    done: int = 0
    total: int = 0


class EvaluationRunOut(WireModel):
    run_id: str
    dataset: str
    status: RunState
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    error: str | None = None
    progress: RunProgress
    summary: dict[str, Any] = Field(
        default_factory=dict, description="totalTests, passedTests, failedTests, passRate (0-100), avgExecutionTime (s)"
    )
    categories: dict[str, Any] = Field(
        default_factory=dict, description="per category: total, passed, failed, passRate"
    )
    cases: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per case: id, dataset, category, query, passed, checks, tools, trajectory, answer, "
        "components, error, executionTime",
    )


def camel_keys(value: Any) -> Any:
    """The runner's snake_case report in the REST API's camelCase."""
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    if isinstance(value, dict):
        return {to_camel(k): (v if k in _OPAQUE else camel_keys(v)) for k, v in value.items()}
    return value


def dataset_out(dataset: Dataset) -> DatasetOut:
    return DatasetOut(name=dataset.name, description=dataset.description, cases=dataset.cases)


def run_out(run: EvaluationRun) -> EvaluationRunOut:
    categories = run.report.get("categories") or {}
    return EvaluationRunOut(
        run_id=run.run_id,
        dataset=run.dataset,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
        progress=RunProgress(done=run.done, total=run.total),
        summary=camel_keys(run.report.get("summary") or {}),
        categories={name: camel_keys(entry) for name, entry in categories.items()},
        cases=camel_keys(run.report.get("results") or []),
    )


def _agents_evaluation(app: web.Application) -> Evaluations:
    """Runs use the agents' runtime built from this app's settings (or the runtime factory
    a test or the embedded worker put in the app), like a chat turn would."""
    settings = app[keys.SETTINGS]
    folder = settings.data_dir / "evaluation"

    async def runner(name: str, progress: ProgressCallback) -> dict[str, Any]:
        factory = app.get(keys.AGENT_RUNTIME_FACTORY)
        if factory is not None:
            runtime = factory(settings, app[keys.HTTP])
        else:
            from mochung.agents import build_runtime

            runtime = build_runtime(settings, http=app[keys.HTTP])
        return await run_dataset(name, runtime, progress)

    return Evaluations(folder, list_datasets, runner)


async def evaluations_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the registry of runs; in-flight runs are cancelled at shutdown."""
    registry = _agents_evaluation(app)
    app[keys.EVALUATIONS] = registry
    yield
    for task in list(registry.tasks):
        task.cancel()
    await asyncio.gather(*registry.tasks, return_exceptions=True)


@routes.get("/api/admin/evaluation/datasets")
@endpoint(summary="Evaluation datasets", tag=TAG, auth="admin", response=Paginated[DatasetOut], errors=(503,))
async def datasets(request: web.Request) -> web.Response:
    items = [dataset_out(dataset) for dataset in request.app[keys.EVALUATIONS].datasets()]
    return respond(Paginated[DatasetOut](items=items, next_cursor=None))


@routes.get("/api/admin/evaluation/results/{dataset}")
@endpoint(
    summary="The latest run of a dataset: running, or the last finished one (cached)",
    tag=TAG,
    auth="admin",
    response=EvaluationRunOut,
    errors=(404, 503),
)
async def results(request: web.Request) -> web.Response:
    registry = request.app[keys.EVALUATIONS]
    name = request.match_info["dataset"]
    registry.require(name)
    run = registry.latest(name)
    if run is None:
        raise NotFound(f"dataset {name!r} has not been run yet")
    return respond(run_out(run))


@routes.post("/api/admin/evaluation/run/{dataset}")
@endpoint(
    summary="Run a dataset in the background; poll the results route for its outcome",
    tag=TAG,
    auth="admin",
    response=EvaluationRunOut,
    status=202,
    errors=(404, 503),
)
async def run(request: web.Request, caller: User) -> web.Response:
    registry = request.app[keys.EVALUATIONS]
    name = request.match_info["dataset"]
    started, is_new = registry.start(registry.require(name))
    if is_new:
        await audit.record_evaluation_run(caller.id, name, started.run_id)
    return respond(run_out(started), status=202)
