"""The registry of evaluation runs a web process starts: it claims the database's lock
(``mochung.domain.evaluations``), runs the cases as a background task of this process,
writes each case's result as it finishes and keeps the run's heartbeat, then records the
summary and gives the lock back. Any web process reads a run's state from the database,
so they all agree on what is running; a process that dies leaves a silent heartbeat that
the next claim or read notices.

Plain data and domain errors: the REST shapes are the server's
(``mochung.server.admin.evaluation``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mochung.agents.evaluation.cases import DATASET_NAME, Case, Dataset, dataset_names, load_dataset
from mochung.agents.evaluation.runner import ProgressCallback, summarise
from mochung.aio import running
from mochung.domain import evaluations as records
from mochung.domain.errors import Invalid, NotFound
from mochung.domain.models import EvaluationRun

log = logging.getLogger("mochung.admin.evaluation")
# runs these cases and reports (``runner.run_cases`` with the runtime of the app's settings)
Runner = Callable[[Sequence[tuple[str, Case]], ProgressCallback], Awaitable[dict[str, Any]]]
DEFAULT_DATASET = "main_agent_scenarios"
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 60.0  # a running run whose heartbeat is older is taken as abandoned


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(value, ensure_ascii=False, default=str))
    return result


class Evaluations:
    """The evaluation runs started by this process, over the shared record of all runs."""

    def __init__(
        self,
        runner: Runner,
        *,
        owner: str | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stale_after: float = STALE_AFTER_SECONDS,
        poll_seconds: float = 0.5,
    ) -> None:
        self.runner = runner  # replaceable (a test gates it)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_after = stale_after
        self.poll_seconds = poll_seconds
        self.tasks: set[asyncio.Task[None]] = set()
        self._local: dict[uuid.UUID, asyncio.Task[None]] = {}

    # -- datasets ------------------------------------------------------------------------

    @staticmethod
    def datasets() -> list[str]:
        return dataset_names()

    @staticmethod
    def require(name: str) -> Dataset:
        """The dataset named so: 400 for a name the page's rule refuses, 404 if unknown."""
        if not DATASET_NAME.match(name):
            raise Invalid("a dataset name may contain only letters, digits, '_' and '-'", field="dataset")
        if name not in dataset_names():
            raise NotFound(f"no evaluation dataset named {name!r}")
        return load_dataset(name)

    # -- runs ----------------------------------------------------------------------------

    async def active(self) -> EvaluationRun | None:
        """The dataset run going on in any process."""
        return await records.active(self.stale_after)

    async def start(self, name: str, admin_id: uuid.UUID | None, trigger: str = "run") -> tuple[EvaluationRun, bool]:
        """Start ``name`` (``True``) or join its run in progress (``False``); ``Conflict``
        while another dataset runs."""
        dataset = self.require(name)
        run, is_new = await records.claim(
            name, len(dataset.cases), admin_id, self.owner, stale_after=self.stale_after, trigger=trigger
        )
        if is_new:
            cases = [(name, case) for case in dataset.cases]
            task = asyncio.get_running_loop().create_task(self._execute(run, cases), name=f"evaluation:{name}")
            self.tasks.add(task)
            self._local[run.id] = task

            def forget(done: asyncio.Task[None]) -> None:
                self.tasks.discard(done)
                self._local.pop(run.id, None)

            task.add_done_callback(forget)
        return run, is_new

    async def wait(self, run_id: uuid.UUID, seconds: float) -> EvaluationRun:
        """The run once it has ended, or as it is after ``seconds``. A run of this
        process is awaited (shielded: the caller leaving does not stop it); another's is
        polled."""
        task = self._local.get(run_id)
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), seconds)
        else:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            while loop.time() < deadline:
                run = await records.get_run(run_id)
                if run.status != records.RUNNING or await records.release_if_stale(run, self.stale_after):
                    break
                await asyncio.sleep(self.poll_seconds)
        return await records.get_run(run_id)

    async def rerun(self, source_id: str, case_name: str, admin_id: uuid.UUID | None) -> EvaluationRun:
        """Run one case of a run's dataset again, now, as a run of its own."""
        source = await records.get_run(source_id)
        dataset = self.require(source.dataset)
        case = next((case for case in dataset.cases if case.id == case_name), None)
        if case is None:
            raise NotFound(f"the dataset {source.dataset!r} has no case {case_name!r}")
        run = await records.start_rerun(source, case_name, admin_id, self.owner)
        await self._execute(run, [(source.dataset, case)])
        return await records.get_run(run.id)

    async def _beat(self, run_id: uuid.UUID) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await records.heartbeat(run_id)
            except Exception:  # a missed beat is not worth stopping the run for
                log.warning("evaluation heartbeat failed", exc_info=True)

    async def _execute(self, run: EvaluationRun, cases: Sequence[tuple[str, Case]]) -> None:
        async def progress(done: int, total: int, result: dict[str, Any]) -> None:
            await records.record_case(run.id, done - 1, total, _plain(result))

        async with running(self._beat(run.id), "evaluation-heartbeat"):
            try:
                report = await self.runner(cases, progress)
                report = _plain(report)
                await records.finish(
                    run.id,
                    records.DONE,
                    summary=report["summary"],
                    category_breakdown=report["category_breakdown"],
                    judge=report.get("judge"),
                )
            except asyncio.CancelledError:  # this process is shutting down
                with contextlib.suppress(Exception):
                    await self._finish_partial(run.id, records.CANCELLED, "cancelled: the server shut down")
                raise
            except Exception as error:
                log.exception("evaluation of %s failed", run.dataset)
                await self._finish_partial(run.id, records.FAILED, f"{type(error).__name__}: {error}")

    async def _finish_partial(self, run_id: uuid.UUID, status: str, error: str) -> None:
        report = summarise(await records.cases_of(run_id))
        await records.finish(
            run_id, status, summary=report["summary"], category_breakdown=report["category_breakdown"], error=error
        )

    async def close(self) -> None:
        """Cancel this process's runs (they are recorded as cancelled, their lock freed)."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await records.cancel_owned(self.owner)
