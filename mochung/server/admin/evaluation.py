"""Admin: the agents' trajectory evaluation — the admin web page's contract (PROTOCOL.md
"Admin evaluation", snake_case on purpose) and the run history (docs/admin-api.md).

Decisions:
- A run takes a while (every case is a full agent turn), so ``POST …/run`` starts it as a
  background task of this web process and answers 202 ``{status: "running", dataset,
  message}`` at once; posting again while that dataset runs joins the same run (202, no
  second run); another dataset while one runs: 409. The lock is a row of the database
  (``mochung.domain.evaluations``), so every web process agrees on what is running.
- ``GET …/results`` answers 202 while the dataset runs (the page polls every 3 s), else
  the last finished run of the dataset (200). A dataset never run, with nothing running,
  is run then and there and its result answered (200) — or 202 if it takes longer than
  ``RESULTS_WAIT_SECONDS`` (the page then polls); with another dataset running: 409.
- Both forms of ``results`` and ``run`` work: ``?dataset=X`` and ``/X``; no name means
  ``main_agent_scenarios``; a name breaking ``[a-zA-Z0-9_-]+`` is 400, an unknown one 404.
- Every run is kept (``history``), with each case's result and trajectory, so results
  survive a restart; ``compare`` says what flipped between two runs; one case can be run
  again (``…/runs/:id/cases/:case/rerun``, a run of its own, answered when done); a run
  exports as CSV or JSON.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from mochung.agents.evaluation.cases import DATASET_NAME, Case
from mochung.agents.evaluation.report import compare as compare_reports
from mochung.agents.evaluation.report import to_csv, to_json
from mochung.agents.evaluation.runner import ProgressCallback, run_cases, summarise
from mochung.agents.evaluation.runs import DEFAULT_DATASET, Evaluations
from mochung.domain import evaluations as records
from mochung.domain.errors import Conflict, NotFound
from mochung.domain.listing import Slice
from mochung.domain.models import EvaluationRun, User
from mochung.server import keys
from mochung.server.admin.kit import AdminRoutes, admin_endpoint
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import download
from mochung.server.http.wire import Handler, WireModel, iso_utc, respond

routes = AdminRoutes()
RESULTS_WAIT_SECONDS = 120.0  # how long GET …/results runs a never-run dataset before answering 202


class _Snake(BaseModel):
    """An evaluation body: snake_case (the page's names), extra fields allowed."""

    model_config = ConfigDict(extra="allow")


class EvaluationScore(_Snake):
    key: str
    score: bool | float | None = Field(description="true/false, a number (a judge's), or null when it did not run")
    comment: str = ""
    details: dict[str, Any] | None = None


class EvaluationTestResult(_Snake):
    name: str
    category: str
    description: str = ""
    success: bool
    execution_time: float = Field(description="seconds")
    evaluations: list[EvaluationScore]
    agent_response: str = ""


class EvaluationSummary(_Snake):
    total_tests: int
    passed_tests: int
    failed_tests: int
    pass_rate: float = Field(description="0–1")
    avg_execution_time: float = Field(description="seconds per case")


class EvaluationCategory(_Snake):
    count: int
    passed: int
    pass_rate: float = Field(description="0–1")


class EvaluationProgress(_Snake):
    done: int
    total: int


class EvaluationStarter(_Snake):
    id: str
    email: str | None = None


class EvaluationRunInfo(_Snake):
    """What every run carries beside its result."""

    run_id: str
    dataset: str
    status: Literal["running", "done", "failed", "cancelled"]
    scope: Literal["dataset", "case"] = "dataset"
    case_name: str | None = None
    rerun_of: str | None = None
    started_by: EvaluationStarter | None = None
    started_at: str
    finished_at: str | None = None
    duration: float | None = Field(default=None, description="seconds")
    judge: str | None = Field(default=None, description="the LLM judge's model; null offline")
    error: str | None = None
    progress: EvaluationProgress
    summary: EvaluationSummary | dict[str, Any] = Field(default_factory=dict)


class EvaluationResult(EvaluationRunInfo):
    """The admin page's result: ``summary``, ``category_breakdown``, ``test_results``."""

    category_breakdown: dict[str, EvaluationCategory] = Field(default_factory=dict)
    test_results: list[EvaluationTestResult] = Field(default_factory=list)


class EvaluationRunning(_Snake):
    status: Literal["running"] = "running"
    dataset: str
    message: str
    run_id: str
    progress: EvaluationProgress
    started_at: str


class EvaluationComparison(_Snake):
    from_: EvaluationRunInfo | dict[str, Any] = Field(alias="from")
    to: EvaluationRunInfo | dict[str, Any]
    pass_rate_delta: float | None
    avg_execution_time_delta: float | None
    duration_delta: float | None
    flipped: list[dict[str, Any]]
    fixed: list[str]
    broke: list[str]
    added: list[str]
    removed: list[str]
    cases: list[dict[str, Any]]


# a dataset name, in the path or the query: the page's rule (400 otherwise), then a known one (404)
_NAME = DATASET_NAME.pattern
_NAME_IN_PATH = {"dataset": _NAME}


class DatasetQuery(WireModel):
    dataset: str | None = Field(default=None, pattern=_NAME, description="default: main_agent_scenarios")


class HistoryQuery(SliceQuery):
    dataset: str | None = Field(default=None, pattern=_NAME)


class CompareQuery(WireModel):
    from_: str | None = Field(
        default=None, alias="from", description="default: the run of the same dataset before `to`"
    )
    to: str


class ExportQuery(WireModel):
    format: Literal["csv", "json"] = "csv"


# -- shapes ----------------------------------------------------------------------------


async def run_info(run: EvaluationRun) -> dict[str, Any]:
    started_by = None
    if run.started_by_id is not None:
        user = await User.get_or_none(id=run.started_by_id)
        started_by = {"id": str(run.started_by_id), "email": user.email if user else None}
    return {
        "run_id": str(run.id),
        "dataset": run.dataset,
        "status": run.status,
        "scope": run.scope,
        "case_name": run.case_name,
        "rerun_of": str(run.rerun_of_id) if run.rerun_of_id else None,
        "started_by": started_by,
        "started_at": iso_utc(run.started_at),
        "finished_at": iso_utc(run.finished_at) if run.finished_at else None,
        "duration": run.duration,
        "judge": run.judge,
        "error": run.error,
        "progress": {"done": run.done, "total": run.total},
        "summary": run.summary,
    }


async def result_of(run: EvaluationRun) -> dict[str, Any]:
    """A run in the page's shape, with the run's fields."""
    test_results = await records.cases_of(run.id)
    report = summarise(test_results)
    info = await run_info(run)
    return {
        **info,
        "summary": run.summary or report["summary"],
        "category_breakdown": run.category_breakdown or report["category_breakdown"],
        "test_results": test_results,
    }


def running(run: EvaluationRun) -> web.Response:
    message = f"evaluation of {run.dataset} is running ({run.done}/{run.total} cases done)"
    body = EvaluationRunning(
        dataset=run.dataset,
        message=message,
        run_id=str(run.id),
        progress=EvaluationProgress(done=run.done, total=run.total),
        started_at=iso_utc(run.started_at),
    )
    return respond(body, status=202)


async def answer(run: EvaluationRun, status: int = 200) -> web.Response:
    """The run's result as stored, checked against the documented shape (nothing is added
    or renamed on the way: the export is the same object)."""
    result = await result_of(run)
    EvaluationResult.model_validate(result)
    return respond(result, status=status)


def _dataset(request: web.Request, query: DatasetQuery) -> str:
    return request.match_info.get("dataset") or query.dataset or DEFAULT_DATASET


# -- the registry ------------------------------------------------------------------------


def _agents_evaluation(app: web.Application) -> Evaluations:
    """Runs use the agents' runtime built from this app's settings (or the runtime factory
    a test or the embedded worker put in the app), like a chat turn would."""
    settings = app[keys.SETTINGS]

    async def runner(cases: Sequence[tuple[str, Case]], progress: ProgressCallback) -> dict[str, Any]:
        factory = app.get(keys.AGENT_RUNTIME_FACTORY)
        if factory is not None:
            runtime = factory(settings, app[keys.HTTP])
        else:
            from mochung.agents import build_runtime

            runtime = build_runtime(settings, http=app[keys.HTTP])
        return await run_cases(cases, runtime, progress)

    return Evaluations(runner)


async def evaluations_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the registry of runs; this process's runs in flight are cancelled
    (and recorded so) at shutdown."""
    registry = _agents_evaluation(app)
    app[keys.EVALUATIONS] = registry
    yield
    await registry.close()


# -- the page's routes ---------------------------------------------------------------------


@routes.get("/api/admin/evaluation/datasets")
@admin_endpoint(summary="Evaluation dataset names", response=list[str])
async def datasets(request: web.Request) -> web.Response:
    return respond(request.app[keys.EVALUATIONS].datasets())


# A route naming a dataset, in its query or its path: the page's rule for the name (400),
# then a known one (404); another dataset running is 409.
_on_dataset = functools.partial(
    admin_endpoint, query=DatasetQuery, errors=(400, 404, 409, 503), path_patterns=_NAME_IN_PATH
)


def _both_forms(method: Callable[[str], Callable[[Handler], Handler]], path: str) -> Callable[[Handler], Handler]:
    """The handler at ``path`` and at ``path/{dataset}``: both forms name the dataset."""

    def attach(handler: Handler) -> Handler:
        method(f"{path}/{{dataset}}")(handler)
        return method(path)(handler)

    return attach


@_both_forms(routes.get, "/api/admin/evaluation/results")
@_on_dataset(
    summary="The last result of a dataset; 202 {status: running, dataset, message} while it runs; "
    "a dataset never run is run now and its result answered",
    response=EvaluationResult,
    also={202: EvaluationRunning},
)
async def results(request: web.Request, caller: User, query: DatasetQuery) -> web.Response:
    registry = request.app[keys.EVALUATIONS]
    name = _dataset(request, query)
    registry.require(name)
    holder = await registry.active()
    if holder is not None and holder.dataset == name:
        return running(holder)
    last = await records.latest(name)
    if last is not None:
        return await answer(last)
    if holder is not None:
        raise Conflict(f"{name!r} has no result yet and the dataset {holder.dataset!r} is being evaluated")
    started, _ = await registry.start(name, caller.id, trigger="results")
    run = await registry.wait(started.id, RESULTS_WAIT_SECONDS)
    return running(run) if run.status == records.RUNNING else await answer(run)


@_both_forms(routes.post, "/api/admin/evaluation/run")
@_on_dataset(
    summary="Start a dataset (or join its run in progress): 202 {status: running, dataset, message}; "
    "409 while another dataset runs",
    response=EvaluationRunning,
    status=202,
)
async def run(request: web.Request, caller: User, query: DatasetQuery) -> web.Response:
    started, _ = await request.app[keys.EVALUATIONS].start(_dataset(request, query), caller.id)
    return running(started)


# -- history ---------------------------------------------------------------------------------


@routes.listing(
    "/api/admin/evaluation/history",
    HistoryQuery,
    EvaluationRunInfo,
    errors=(400, 404, 503),
    summary="Every evaluation run, newest first (reruns of one case included)",
)
async def history(request: web.Request, query: HistoryQuery) -> Slice[EvaluationRunInfo]:
    registry = request.app[keys.EVALUATIONS]
    if query.dataset:
        registry.require(query.dataset)
    await registry.active()  # a run whose process died is marked so before it is listed
    found = await records.history(query.dataset, query.limit, query.cursor)
    return Slice([EvaluationRunInfo.model_validate(await run_info(item)) for item in found.items], found.next_cursor)


@routes.get("/api/admin/evaluation/runs/{id}")
@admin_endpoint(summary="One run's result", response=EvaluationResult, errors=(404, 503))
async def run_result(request: web.Request, path_id: uuid.UUID) -> web.Response:
    return await answer(await records.get_run(path_id))


@routes.get("/api/admin/evaluation/compare")
@admin_endpoint(
    summary="What changed between two runs of a dataset: flipped cases, pass-rate and time deltas",
    query=CompareQuery,
    response=EvaluationComparison,
    errors=(400, 404, 503),
)
async def compare(request: web.Request, query: CompareQuery) -> web.Response:
    after = await records.get_run(query.to)
    if query.from_:
        before = await records.get_run(query.from_)
    else:
        found = await records.previous(after)
        if found is None:
            raise NotFound(f"no run of {after.dataset!r} before {query.to}")
        before = found
    records.check_comparable(before, after)
    comparison = compare_reports(await result_of(before), await result_of(after))
    return respond(EvaluationComparison.model_validate(comparison))


@routes.post("/api/admin/evaluation/runs/{id}/cases/{case}/rerun")
@admin_endpoint(
    summary="Run one case of a run's dataset again, now: a run of its own, answered when done",
    response=EvaluationResult,
    status=201,
    errors=(404, 503),
)
async def rerun(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    registry = request.app[keys.EVALUATIONS]
    done = await registry.rerun(str(path_id), request.match_info["case"], caller.id)
    return await answer(done, status=201)


@routes.get("/api/admin/evaluation/runs/{id}/export")
@admin_endpoint(
    summary="A run as a file: CSV (one row per case, UTF-8 with BOM) or JSON (the whole result)",
    query=ExportQuery,
    errors=(400, 404, 503),
)
async def export(request: web.Request, path_id: uuid.UUID, query: ExportQuery) -> web.Response:
    found = await records.get_run(path_id)
    result = await result_of(found)
    filename = f"evaluation-{found.dataset}-{str(found.id)[:8]}.{query.format}"
    if query.format == "csv":
        return download(to_csv(result).encode(), "text/csv; charset=utf-8", filename)
    return download(to_json(result).encode(), "application/json; charset=utf-8", filename)
