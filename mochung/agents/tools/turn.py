"""What one chat turn shares with its tools: the wedding, the map search, and the record
of what ran (trajectory) and what was produced (components).

It reaches the tools as the LangGraph run context (``ToolRuntime.context``), so the
compiled agent graphs stay shared and stateless across turns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mochung.agents.wedding import WeddingContext
from mochung.domain.ports import MapSearch


@dataclass
class TurnContext:
    wedding: WeddingContext | None
    maps: MapSearch
    language: str
    trajectory: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)

    @contextmanager
    def record(self, agent: str, tool: str, args: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Note a tool call in the trajectory when it starts, and its duration when it ends."""
        entry: dict[str, Any] = {"agent": agent, "tool": tool, "args": args, "ms": 0.0}
        self.trajectory.append(entry)
        started = time.perf_counter()
        try:
            yield entry
        finally:
            entry["ms"] = round((time.perf_counter() - started) * 1000, 2)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
