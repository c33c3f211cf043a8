"""Evaluation runs of this web process and the JSON cache of finished ones
(see ``mochung.server.admin.evaluation`` for the decisions and the wire models).
Plain data: the REST shape is the server's."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mochung.agents.evaluation.runner import ProgressCallback
from mochung.domain.errors import NotFound

log = logging.getLogger("mochung.admin.evaluation")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
RunState = Literal["running", "done", "failed"]
Runner = Callable[[str, ProgressCallback], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str | None = None
    cases: int | None = None  # number of cases

    @classmethod
    def from_listing(cls, item: dict[str, Any]) -> Dataset:
        cases = item.get("cases")
        count = None if cases is None else int(cases)
        return cls(name=str(item["name"]), description=item.get("description"), cases=count)


@dataclass
class EvaluationRun:
    dataset: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: RunState = "running"
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    error: str | None = None
    done: int = 0
    total: int = 0
    report: dict[str, Any] = field(default_factory=dict)  # the runner's report, as it returned it

    def as_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "status": self.status,
            "startedAt": self.started_at.isoformat(),
            "finishedAt": (self.finished_at or self.started_at).isoformat(),
            "error": self.error,
            "done": self.done,
            "total": self.total,
            "report": self.report,
        }

    @classmethod
    def from_json(cls, dataset: str, data: dict[str, Any]) -> EvaluationRun:
        return cls(
            dataset=dataset,
            run_id=data["runId"],
            status=data["status"],
            started_at=dt.datetime.fromisoformat(data["startedAt"]),
            finished_at=dt.datetime.fromisoformat(data["finishedAt"]),
            error=data.get("error"),
            done=int(data.get("done", 0)),
            total=int(data.get("total", 0)),
            report=data.get("report") or {},
        )


class Evaluations:
    """The evaluation runs of this process and the cache of finished ones."""

    def __init__(self, folder: Path, list_datasets: Callable[[], list[dict[str, Any]]], runner: Runner) -> None:
        self.folder = folder
        self._list_datasets = list_datasets
        self._runner = runner
        self.running: dict[str, EvaluationRun] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def datasets(self) -> list[Dataset]:
        return [Dataset.from_listing(item) for item in self._list_datasets()]

    def require(self, name: str) -> Dataset:
        dataset = next((d for d in self.datasets() if d.name == name), None) if SAFE_NAME.match(name) else None
        if dataset is None:
            raise NotFound(f"no evaluation dataset named {name!r}")
        return dataset

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def latest(self, name: str) -> EvaluationRun | None:
        if name in self.running:
            return self.running[name]
        try:
            return EvaluationRun.from_json(name, json.loads(self._path(name).read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable evaluation cache for %s", name, exc_info=True)
            return None

    def _save(self, run: EvaluationRun) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self._path(run.dataset).with_suffix(".json.tmp")
        temporary.write_text(json.dumps(run.as_json(), ensure_ascii=False, default=str))
        os.replace(temporary, self._path(run.dataset))

    def start(self, dataset: Dataset) -> tuple[EvaluationRun, bool]:
        """The dataset's run: a new one, or the one already running (then ``False``)."""
        if dataset.name in self.running:
            return self.running[dataset.name], False
        run = EvaluationRun(dataset=dataset.name, total=dataset.cases or 0)
        self.running[dataset.name] = run
        task = asyncio.get_running_loop().create_task(self._execute(run), name=f"evaluation:{dataset.name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return run, True

    async def _execute(self, run: EvaluationRun) -> None:
        def progress(done: int, total: int, _result: dict[str, Any]) -> None:
            run.done, run.total = done, total

        try:
            run.report = json.loads(json.dumps(await self._runner(run.dataset, progress), default=str))
            run.status = "done"
        except asyncio.CancelledError:  # shutdown: the previous cached result stays
            self.running.pop(run.dataset, None)
            raise
        except Exception as error:
            log.exception("evaluation of %s failed", run.dataset)
            run.status, run.error = "failed", f"{type(error).__name__}: {error}"
        run.finished_at = dt.datetime.now(dt.UTC)
        try:
            await asyncio.to_thread(self._save, run)
        finally:
            self.running.pop(run.dataset, None)
