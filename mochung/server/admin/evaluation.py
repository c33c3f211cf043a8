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

from mochung.agents.evaluation.runs import DatasetOut, EvaluationRunOut, Evaluations, Progress
from mochung.domain import audit
from mochung.domain.errors import DependencyDown, NotFound
from mochung.server import keys
from mochung.server.auth import current_admin
from mochung.server.http.listing import Paginated
from mochung.server.http.wire import endpoint, respond

routes = web.RouteTableDef()
TAG = "admin"


def _agents_evaluation(app: web.Application) -> Evaluations:
    """Runs use the agents' runtime built from this app's settings (or the runtime factory
    a test or the embedded worker put in the app), like a chat turn would."""
    settings = app[keys.SETTINGS]
    folder = settings.data_dir / "evaluation"
    try:
        from mochung.agents.evaluation import list_datasets, run_dataset
    except ImportError:  # a build without the agents: the routes answer 503

        def missing(*_: Any) -> Any:
            raise DependencyDown("the agents' evaluation runner is not available")

        return Evaluations(folder, missing, missing)

    async def runner(name: str, progress: Progress) -> dict[str, Any]:
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
    await current_admin(request)
    items = request.app[keys.EVALUATIONS].datasets()
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
    await current_admin(request)
    registry = request.app[keys.EVALUATIONS]
    name = request.match_info["dataset"]
    registry.require(name)
    run = registry.latest(name)
    if run is None:
        raise NotFound(f"dataset {name!r} has not been run yet")
    return respond(run.wire())


@routes.post("/api/admin/evaluation/run/{dataset}")
@endpoint(
    summary="Run a dataset in the background; poll the results route for its outcome",
    tag=TAG,
    auth="admin",
    response=EvaluationRunOut,
    status=202,
    errors=(404, 503),
)
async def run(request: web.Request) -> web.Response:
    acting = await current_admin(request)
    registry = request.app[keys.EVALUATIONS]
    name = request.match_info["dataset"]
    started, is_new = registry.start(registry.require(name))
    if is_new:
        await audit.record(acting.id, "evaluation.run", f"dataset:{name}", {"runId": started.run_id})
    return respond(started.wire(), status=202)
