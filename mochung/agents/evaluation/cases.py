"""The evaluation datasets (YAML under ``datasets/``) and wedding fixtures (``fixtures/``).

Two dataset formats load into the same :class:`Case`:

- **The real format** (the seed's runner, and ``main_agent_scenarios``): a top-level
  ``test_cases:`` list, each ``{id, query, category, description, fixture_id?, context:
  {chat_history?}, requirements: {mandatory_tools, forbidden_tools, trajectory_mode:
  strict|unordered|subset|superset, require_match}, reference_trajectory}`` where the
  reference is a list of message records: ``{type: human, content}``, ``{type: ai,
  content?, tool_calls: [{id?, name, args}]}``, ``{type: tool, tool_call_id, content}``.
  ``fixture_id`` names a wedding under ``fixtures/`` (none: the couple has no page yet).
- **Our first format** (``cases:``): a query (or ``query_repeat`` for generated long input),
  a category, the wedding fixture (``wedding``, ``null`` for no page; ``wedding_inline`` for
  a page written in the case itself), the history before it, the tools that must and must
  not run, ``reference_trajectory`` as a list of tool names, the components and words the
  answer must contain, and its language.

A list of tool names is read as the message records it stands for, so both formats are
judged by the same trajectory match (``mochung.agents.evaluation.evaluators``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

HERE = Path(__file__).parent
DATASETS = HERE / "datasets"
FIXTURES = HERE / "fixtures"
# the admin page's rule for a dataset name (PROTOCOL.md "Admin evaluation")
DATASET_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TrajectoryMode = Literal["strict", "unordered", "subset", "superset"]


class EvaluationError(ValueError):
    """An unknown or broken dataset or fixture; ``message`` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Repeat(BaseModel):
    text: str
    times: int = Field(gt=0, le=100_000)


class ToolCall(BaseModel):
    id: str | None = None
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class MessageRecord(BaseModel):
    """One message of a trajectory, as the seed's datasets write them."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["human", "ai", "tool"]
    content: Any = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type}
        if self.type == "ai":
            if self.content:
                record["content"] = self.content
            record["tool_calls"] = [call.model_dump(exclude_none=True) for call in self.tool_calls]
        elif self.type == "tool":
            record["tool_call_id"] = self.tool_call_id
            record["content"] = self.content if self.content is not None else ""
        else:
            record["content"] = self.content if self.content is not None else ""
        return record


def records_from_tool_names(query: str, names: list[str]) -> list[MessageRecord]:
    """What a list of tool names means as message records: the question, then each call
    and its (unknown) output."""
    records = [MessageRecord(type="human", content=query)]
    for number, name in enumerate(names):
        call_id = f"call_{number}"
        records.append(MessageRecord(type="ai", tool_calls=[ToolCall(id=call_id, name=name)]))
        records.append(MessageRecord(type="tool", tool_call_id=call_id, content=""))
    return records


class Case(BaseModel):
    id: str
    category: str
    description: str = ""
    query: str | None = None
    query_repeat: Repeat | None = None
    wedding: str | None = None
    wedding_inline: dict[str, Any] | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    mandatory_tools: list[str] = Field(default_factory=list)
    forbidden_tools: list[str] = Field(default_factory=list)
    trajectory_mode: TrajectoryMode = "superset"
    # our first format: tool names in start order; the real format: message records
    reference_trajectory: list[str] | None = None
    reference_messages: list[MessageRecord] | None = None
    # the real format's pass/fail policy (see evaluators.decide); ``None``: our first
    # format, where every check of the case gates
    require_match: bool | None = None
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

    @property
    def real_format(self) -> bool:
        return self.require_match is not None

    def reference(self) -> list[MessageRecord] | None:
        """The reference trajectory as message records, whichever format wrote it."""
        if self.reference_messages is not None:
            return self.reference_messages
        if self.reference_trajectory is not None:
            return records_from_tool_names(self.text, self.reference_trajectory)
        return None


class Requirements(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mandatory_tools: list[str] = Field(default_factory=list)
    forbidden_tools: list[str] = Field(default_factory=list)
    trajectory_mode: TrajectoryMode = "superset"
    require_match: bool = False


class CaseContext(BaseModel):
    model_config = ConfigDict(extra="ignore")

    chat_history: list[dict[str, Any]] = Field(default_factory=list)


class RealCase(BaseModel):
    """A case of the real format, as written."""

    model_config = ConfigDict(extra="ignore")

    id: str
    query: str
    category: str = "general"
    description: str = ""
    fixture_id: str | None = None
    context: CaseContext = Field(default_factory=CaseContext)
    requirements: Requirements = Field(default_factory=Requirements)
    reference_trajectory: list[MessageRecord] | None = None

    def as_case(self) -> Case:
        return Case(
            id=self.id,
            category=self.category,
            description=self.description,
            query=self.query,
            wedding=self.fixture_id,
            history=[_history_entry(entry) for entry in self.context.chat_history],
            mandatory_tools=self.requirements.mandatory_tools,
            forbidden_tools=self.requirements.forbidden_tools,
            trajectory_mode=self.requirements.trajectory_mode,
            reference_messages=self.reference_trajectory,
            require_match=self.requirements.require_match,
        )


def _history_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A chat-history entry as the runtime reads it: ``{role: user|assistant, content}``;
    message records (``{type: human|ai, content}``) are accepted too."""
    role = entry.get("role") or {"human": "user", "ai": "assistant"}.get(str(entry.get("type")), entry.get("type"))
    return {"role": role, "content": entry.get("content")}


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


def parse_dataset(name: str, data: Any) -> Dataset:
    """A dataset from its YAML document, in either format."""
    if isinstance(data, dict) and "test_cases" in data:
        raw_cases = data.get("test_cases") or []
        if not isinstance(raw_cases, list):
            raise ValueError("test_cases must be a list")
        cases = [RealCase.model_validate(item).as_case() for item in raw_cases]
        description = str(data.get("description") or "")
        return Dataset(name=str(data.get("name") or name), description=description, cases=cases)
    return Dataset.model_validate(data)


@cache
def load_dataset(name: str) -> Dataset:
    if not DATASET_NAME.match(name) or not (DATASETS / f"{name}.yaml").is_file():
        known = ", ".join(dataset_names())
        raise EvaluationError(f"unknown dataset {name!r} (known: {known})")
    data = _read_yaml(DATASETS / f"{name}.yaml", "dataset")
    try:
        dataset = parse_dataset(name, data)
    except ValueError as error:  # pydantic's ValidationError included
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
