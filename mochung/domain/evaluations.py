"""The record of evaluation runs, and the lock that lets one dataset run at a time across
every web process.

A dataset run is a row of ``evaluation_runs`` holding the lock (``lock = "evaluation"``, a
unique column) from the moment it is created until it ends; a second ``claim`` cannot
insert another holder, so it either joins the run of the same dataset or is refused
(:class:`Conflict`). The lock lives in the database, not in a process: every web process
sees the same holder, and the holder's heartbeat tells whether its process is still
alive. A holder silent for longer than ``stale_after`` is marked failed and releases the
lock. Reruns of one case take no lock (they are one agent turn each).

Each finished case is written as it completes (``EvaluationCaseResult``), so progress and
partial results are visible from any process, and runs outlive a restart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from mochung.domain import audit
from mochung.domain.errors import Conflict, Invalid, NotFound
from mochung.domain.listing import DEFAULT_LIMIT, Slice, paginate
from mochung.domain.models import EvaluationCaseResult, EvaluationRun

LOCK = "evaluation"
RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED)  # a run with a result to show (a cancelled one has none)
CLAIM_ATTEMPTS = 5


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ending(run: EvaluationRun, status: str, **columns: Any) -> dict[str, Any]:
    """The columns that end ``run`` now with ``status`` (its lock given back), plus ``columns``."""
    moment = now()
    duration = round((moment - run.started_at).total_seconds(), 3)
    return {"status": status, "lock": None, "finished_at": moment, "duration": duration, **columns}


async def _start(
    connection: BaseDBAsyncClient, dataset: str, total: int, admin_id: uuid.UUID | None, owner: str, **columns: Any
) -> EvaluationRun:
    """A run of ``dataset`` going from now, owned by the process ``owner``, plus ``columns``."""
    moment = now()
    return await EvaluationRun.create(
        dataset=dataset,
        status=RUNNING,
        owner=owner,
        heartbeat_at=moment,
        started_at=moment,
        total=total,
        started_by_id=admin_id,
        using_db=connection,
        **columns,
    )


async def release_if_stale(run: EvaluationRun, stale_after: float) -> bool:
    """Mark a silent holder failed and give its lock back; ``True`` if it was stale. It is
    released only if it is still silent (another process may have refreshed it since)."""
    threshold = now() - dt.timedelta(seconds=stale_after)
    if run.status != RUNNING or run.heartbeat_at is None or run.heartbeat_at >= threshold:
        return False
    error = f"abandoned: its process ({run.owner}) stopped answering"
    released = await EvaluationRun.filter(id=run.id, status=RUNNING, heartbeat_at__lt=threshold).update(
        **_ending(run, FAILED, error=error)
    )
    return released > 0


async def active(stale_after: float) -> EvaluationRun | None:
    """The dataset run holding the lock, if any (after releasing a stale one)."""
    holder = await EvaluationRun.get_or_none(lock=LOCK)
    if holder is not None and await release_if_stale(holder, stale_after):
        return None
    return holder


async def claim(
    dataset: str, total: int, admin_id: uuid.UUID | None, owner: str, *, stale_after: float, trigger: str = "run"
) -> tuple[EvaluationRun, bool]:
    """A new run of ``dataset`` holding the lock (``True``), or the run of ``dataset``
    already going (``False``); :class:`Conflict` while another dataset runs. A new run is
    audited in the same transaction."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            async with in_transaction() as connection:
                run = await _start(connection, dataset, total, admin_id, owner, lock=LOCK)
                await audit.record_evaluation_run(admin_id, dataset, str(run.id), trigger, connection=connection)
            return run, True
        except IntegrityError:
            holder = await active(stale_after)
            if holder is None:
                continue  # it ended (or was stale) meanwhile: try again
            if holder.dataset == dataset:
                return holder, False
            raise Conflict(f"the dataset {holder.dataset!r} is being evaluated; try again when it is done") from None
    raise Conflict("the evaluation lock is busy; try again")


async def start_rerun(source: EvaluationRun, case_name: str, admin_id: uuid.UUID | None, owner: str) -> EvaluationRun:
    """A run of one case of ``source``'s dataset (no lock), audited with it."""
    async with in_transaction() as connection:
        run = await _start(
            connection, source.dataset, 1, admin_id, owner, scope="case", case_name=case_name, rerun_of_id=source.id
        )
        await audit.record(
            admin_id,
            "evaluation.rerun",
            f"dataset:{source.dataset}",
            {"runId": str(run.id), "rerunOf": str(source.id), "case": case_name},
            connection=connection,
        )
    return run


async def heartbeat(run_id: uuid.UUID) -> None:
    await EvaluationRun.filter(id=run_id, status=RUNNING).update(heartbeat_at=now())


async def record_case(run_id: uuid.UUID, position: int, total: int, result: dict[str, Any]) -> None:
    """A finished case of a run, and the run's progress."""
    await EvaluationCaseResult.create(
        run_id=run_id,
        position=position,
        name=str(result.get("name") or ""),
        category=str(result.get("category") or ""),
        success=bool(result.get("success")),
        execution_time=float(result.get("execution_time") or 0.0),
        result=result,
    )
    await EvaluationRun.filter(id=run_id).update(done=position + 1, total=total, heartbeat_at=now())


async def finish(
    run_id: uuid.UUID,
    status: str,
    *,
    summary: dict[str, Any],
    category_breakdown: dict[str, Any],
    judge: str | None = None,
    error: str | None = None,
) -> EvaluationRun:
    """End a run (done, failed or cancelled) and give its lock back."""
    run = await EvaluationRun.get(id=run_id)
    await EvaluationRun.filter(id=run_id).update(
        **_ending(run, status, summary=summary, category_breakdown=category_breakdown, judge=judge, error=error)
    )
    return await EvaluationRun.get(id=run_id)


async def get_run(run_id: str | uuid.UUID) -> EvaluationRun:
    try:
        key = uuid.UUID(str(run_id))
    except ValueError:
        raise NotFound(f"no evaluation run {run_id!r}") from None
    run = await EvaluationRun.filter(id=key).select_related("started_by").first()
    if run is None:
        raise NotFound(f"no evaluation run {run_id!r}")
    return run


async def latest(dataset: str) -> EvaluationRun | None:
    """The last finished (done or failed) run of the whole dataset: its result."""
    return (
        await EvaluationRun.filter(dataset=dataset, scope="dataset", status__in=FINISHED)
        .order_by("-started_at", "-id")
        .select_related("started_by")
        .first()
    )


async def previous(run: EvaluationRun) -> EvaluationRun | None:
    """The finished run of the same dataset before ``run`` (what it is compared with)."""
    return (
        await EvaluationRun.filter(
            dataset=run.dataset, scope="dataset", status__in=FINISHED, started_at__lt=run.started_at
        )
        .exclude(id=run.id)
        .order_by("-started_at", "-id")
        .first()
    )


async def cases_of(run_id: uuid.UUID) -> list[dict[str, Any]]:
    """A run's case results (``test_results`` entries), in order."""
    rows = await EvaluationCaseResult.filter(run_id=run_id).order_by("position")
    return [row.result for row in rows]


async def history(dataset: str | None, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Slice[EvaluationRun]:
    """Every run (reruns included), newest first."""
    query = EvaluationRun.all().select_related("started_by")
    if dataset:
        query = query.filter(dataset=dataset)
    return await paginate(query, limit=limit, cursor=cursor)


async def cancel_owned(owner: str) -> int:
    """At a process's shutdown: its runs still going are cancelled and their locks freed."""
    moment = now()
    return await EvaluationRun.filter(owner=owner, status=RUNNING).update(
        status=CANCELLED, lock=None, finished_at=moment
    )


def check_comparable(first: EvaluationRun, second: EvaluationRun) -> None:
    if first.dataset != second.dataset:
        raise Invalid(
            f"runs of different datasets ({first.dataset}, {second.dataset}) cannot be compared", field="from"
        )
