"""The chat pipeline minute by minute over the last hour (the admin dashboard's sparklines):
turns ended, turns failed and the answer latency (message accepted → turn ended), p50 and
p95, from the stored runs — so every web process answers the same, whichever worker ran
the turns."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from mochung.domain.models import AgentRun, RunStatus

MINUTES = 60


@dataclass(frozen=True)
class Minute:
    start: dt.datetime
    turns: int
    errors: int
    p50_ms: float | None  # None: no turn ended in that minute
    p95_ms: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def last_hour(now: dt.datetime | None = None, minutes: int = MINUTES) -> list[Minute]:
    """``minutes`` one-minute buckets, oldest first, the last one being the current minute."""
    now = _utc(now or dt.datetime.now(dt.UTC))
    end = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    start = end - dt.timedelta(minutes=minutes)
    rows = await AgentRun.filter(finished_at__gte=start).values_list("created_at", "finished_at", "status")
    latencies: list[list[float]] = [[] for _ in range(minutes)]
    errors = [0] * minutes
    for created_at, finished_at, status in rows:
        if finished_at is None:
            continue
        finished = _utc(finished_at)
        index = int((finished - start).total_seconds() // 60)
        if not 0 <= index < minutes:
            continue
        latencies[index].append(max(0.0, (finished - _utc(created_at)).total_seconds() * 1000))
        if status in (RunStatus.FAILED, RunStatus.FAILED.value):
            errors[index] += 1
    return [
        Minute(
            start=start + dt.timedelta(minutes=i),
            turns=len(latencies[i]),
            errors=errors[i],
            p50_ms=percentile(latencies[i], 0.5),
            p95_ms=percentile(latencies[i], 0.95),
        )
        for i in range(minutes)
    ]
