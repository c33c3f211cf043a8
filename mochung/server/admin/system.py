"""Admin: the running system — every web and worker process with its load (the System
screen) and the chat pipeline minute by minute over the last hour (the dashboard's
sparklines). Processes report themselves to Redis (distributed) or in-process (embedded):
see ``mochung.tasks.processes``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from aiohttp import web
from pydantic import Field

from mochung.domain import activity
from mochung.server import keys
from mochung.server.admin.kit import AdminRoutes, admin_endpoint
from mochung.server.admin.stats import queue_depth
from mochung.server.http.replies import filled
from mochung.server.http.wire import UtcDatetime, WireModel, respond

routes = AdminRoutes()


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


class ProcessOut(WireModel):
    id: str = Field(description="kind:host:pid")
    kind: Literal["web", "worker"]
    host: str
    pid: int
    mode: str = Field(description="embedded or distributed")
    in_flight: int = Field(description="chat turns running in the process now (workers)")
    concurrency: int = Field(description="chat turns the process may run at once (workers; 0 for web)")
    sockets: int = Field(description="sockets joined to a chat room on the process (web)")
    started_at: UtcDatetime
    seen_at: UtcDatetime = Field(description="its last report (every 5 s)")


class SystemOut(WireModel):
    processes: list[ProcessOut]
    queue_depth: int | None = Field(description="chat turns waiting for a worker; null if the broker is down")
    generated_at: UtcDatetime


class MinuteOut(WireModel):
    start: UtcDatetime
    turns: int = Field(description="turns that ended in this minute")
    errors: int = Field(description="…of which failed")
    p50_ms: float | None = Field(description="median answer latency (accepted → ended); null: no turn")
    p95_ms: float | None


class ActivityOut(WireModel):
    minutes: list[MinuteOut] = Field(description="the last 60 minutes, oldest first, the current one last")
    generated_at: UtcDatetime


@routes.get("/api/admin/system")
@admin_endpoint(summary="Running web and worker processes, with turns in flight and the queue", response=SystemOut)
async def system(request: web.Request) -> web.Response:
    reports = await request.app[keys.PROCESSES].gather()
    processes = [filled(ProcessOut, r, started_at=_utc(r.started_at), seen_at=_utc(r.seen_at)) for r in reports]
    body = SystemOut(
        processes=processes, queue_depth=await queue_depth(request.app), generated_at=dt.datetime.now(dt.UTC)
    )
    return respond(body)


@routes.get("/api/admin/activity")
@admin_endpoint(summary="Chat turns, errors and answer latency per minute over the last hour", response=ActivityOut)
async def chat_activity(request: web.Request) -> web.Response:
    minutes = await activity.last_hour()
    body = ActivityOut(
        minutes=[
            MinuteOut(start=m.start, turns=m.turns, errors=m.errors, p50_ms=m.p50_ms, p95_ms=m.p95_ms) for m in minutes
        ],
        generated_at=dt.datetime.now(dt.UTC),
    )
    return respond(body)
