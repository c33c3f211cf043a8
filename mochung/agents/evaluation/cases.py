"""The evaluation datasets (YAML under ``datasets/``) and wedding fixtures (``fixtures/``).

A case names a query (or ``query_repeat`` for generated long input), a category, the
wedding fixture it runs against (``null`` for no page; ``wedding_inline`` for a page
written in the case itself), the history before it, and what a good run looks like: tools
that must and must not run, the trajectory compared with ``reference_trajectory`` by
``trajectory_mode``, the components and words the answer must contain, and its language.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

HERE = Path(__file__).parent
DATASETS = HERE / "datasets"
FIXTURES = HERE / "fixtures"
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class EvaluationError(ValueError):
    """An unknown or broken dataset or fixture; ``message`` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Repeat(BaseModel):
    text: str
    times: int = Field(gt=0, le=100_000)


class Case(BaseModel):
    id: str
    category: str
    query: str | None = None
    query_repeat: Repeat | None = None
    wedding: str | None = None
    wedding_inline: dict[str, Any] | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    mandatory_tools: list[str] = Field(default_factory=list)
    forbidden_tools: list[str] = Field(default_factory=list)
    trajectory_mode: Literal["strict", "unordered", "subset", "superset"] = "superset"
    reference_trajectory: list[str] | None = None
    expected_content: list[str] = Field(default_factory=list)
    unexpected_content: list[str] = Field(default_factory=list)
    expected_components: list[str] = Field(default_factory=list)
    expect_error: bool = False
    language: Literal["ko", "en"] | None = None

    @model_validator(mode="after")
    def _has_query(self) -> Case:
        if self.query is None and self.query_repeat is None:
            raise ValueError("a case needs a query or a query_repeat")
        return self

    @property
    def text(self) -> str:
        if self.query_repeat is not None:
            return self.query_repeat.text * self.query_repeat.times
        return self.query or ""


class Dataset(BaseModel):
    name: str
    description: str = ""
    cases: list[Case]


def dataset_names() -> list[str]:
    return sorted(path.stem for path in DATASETS.glob("*.yaml"))


def _read_yaml(path: Path, what: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise EvaluationError(f"cannot read {what} {path.name}: {error}") from None


@cache
def load_dataset(name: str) -> Dataset:
    if not SAFE_NAME.match(name) or not (DATASETS / f"{name}.yaml").is_file():
        known = ", ".join(dataset_names())
        raise EvaluationError(f"unknown dataset {name!r} (known: {known})")
    try:
        dataset = Dataset.model_validate(_read_yaml(DATASETS / f"{name}.yaml", "dataset"))
    except ValidationError as error:
        raise EvaluationError(f"dataset {name!r} is invalid: {error}") from None
    ids = [case.id for case in dataset.cases]
    if len(ids) != len(set(ids)):
        raise EvaluationError(f"dataset {name!r} repeats a case id")
    return dataset


@cache
def load_fixture(name: str) -> dict[str, Any]:
    if not SAFE_NAME.match(name) or not (FIXTURES / f"{name}.yaml").is_file():
        raise EvaluationError(f"unknown wedding fixture {name!r}")
    data = _read_yaml(FIXTURES / f"{name}.yaml", "fixture")
    if not isinstance(data, dict):
        raise EvaluationError(f"wedding fixture {name!r} is not a mapping")
    return data


def wedding_for(case: Case) -> dict[str, Any] | None:
    if case.wedding_inline is not None:
        return case.wedding_inline
    return load_fixture(case.wedding) if case.wedding else None
