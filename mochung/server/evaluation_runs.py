"""Evaluation runs of this web process and the JSON cache of finished ones
(see ``mochung.server.admin_evaluation`` for the decisions)."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from mochung.domain.errors import NotFound
from mochung.server.wire import UtcDatetime, WireModel

log = logging.getLogger("mochung.admin.evaluation")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
RunState = Literal["running", "done", "failed"]


class DatasetOut(WireModel):
    name: str
    description: str | None = None
    cases: int | None = Field(default=None, description="number of cases")


class EvaluationRunOut(WireModel):
    run_id: str
    dataset: str
    status: RunState
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None
    error: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    categories: Any = None
    cases: list[Any] = Field(default_factory=list, description="one result per case, as the runner reports it")


@dataclass
class EvaluationRun:
    dataset: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: RunState = "running"
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    def wire(self) -> EvaluationRunOut:
        cases = self.result.get("results", self.result.get("cases", []))
        return EvaluationRunOut(
            run_id=self.run_id,
            dataset=self.dataset,
            status=self.status,
            started_at=self.started_at,
            finished_at=self.finished_at,
            error=self.error,
            summary=self.result.get("summary") or {},
            categories=self.result.get("categories"),
            cases=cases if isinstance(cases, list) else [],
        )


def _plain(value: Any) -> Any:
    """The runner's result as JSON-ready data, whatever it returned (dict, pydantic, dataclass)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return json.loads(json.dumps(dataclasses.asdict(value), default=str))
    return json.loads(json.dumps(value, default=str))


def _dataset_out(item: Any) -> DatasetOut:
    if isinstance(item, str):
        return DatasetOut(name=item)
    data = _plain(item)
    cases = data.get("cases")
    return DatasetOut(
        name=str(data.get("name")),
        description=data.get("description"),
        cases=len(cases) if isinstance(cases, list) else cases if isinstance(cases, int) else None,
    )


class Evaluations:
    """The evaluation runs of this process and the cache of finished ones."""

    def __init__(self, folder: Path, list_datasets: Callable[[], Any], run_dataset: Callable[[str], Any]) -> None:
        self.folder = folder
        self._list_datasets = list_datasets
        self._run_dataset = run_dataset
        self.running: dict[str, EvaluationRun] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def datasets(self) -> list[DatasetOut]:
        return [_dataset_out(item) for item in self._list_datasets()]

    def require(self, name: str) -> None:
        if not SAFE_NAME.match(name) or name not in {d.name for d in self.datasets()}:
            raise NotFound(f"no evaluation dataset named {name!r}")

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def latest(self, name: str) -> EvaluationRun | None:
        if name in self.running:
            return self.running[name]
        path = self._path(name)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return EvaluationRun(
            dataset=name,
            run_id=data["runId"],
            status=data["status"],
            started_at=dt.datetime.fromisoformat(data["startedAt"]),
            finished_at=dt.datetime.fromisoformat(data["finishedAt"]),
            error=data.get("error"),
            result=data.get("result") or {},
        )

    def _save(self, run: EvaluationRun) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {
            "runId": run.run_id,
            "status": run.status,
            "startedAt": run.started_at.isoformat(),
            "finishedAt": (run.finished_at or run.started_at).isoformat(),
            "error": run.error,
            "result": run.result,
        }
        temporary = self._path(run.dataset).with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False))
        os.replace(temporary, self._path(run.dataset))

    def start(self, name: str) -> EvaluationRun:
        if name in self.running:
            return self.running[name]
        run = EvaluationRun(dataset=name)
        self.running[name] = run
        task = asyncio.get_running_loop().create_task(self._execute(run), name=f"evaluation:{name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return run

    async def _execute(self, run: EvaluationRun) -> None:
        try:
            if inspect.iscoroutinefunction(self._run_dataset):
                outcome = await self._run_dataset(run.dataset)
            else:  # a synchronous runner must not block the web process's loop
                outcome = await asyncio.to_thread(self._run_dataset, run.dataset)
            run.result = _plain(outcome)
            run.status = "done"
        except asyncio.CancelledError:
            self.running.pop(run.dataset, None)
            raise
        except Exception as error:
            log.exception("evaluation of %s failed", run.dataset)
            run.status, run.error = "failed", f"{type(error).__name__}: {error}"
        run.finished_at = dt.datetime.now(dt.UTC)
        await asyncio.to_thread(self._save, run)
        self.running.pop(run.dataset, None)
