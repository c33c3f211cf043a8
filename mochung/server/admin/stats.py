"""Admin: the dashboard numbers and the chat sessions with their live sockets.

Live sockets and queue depth belong to the realtime side (gateway and broker). They are
read through :func:`live_sockets` and :func:`queue_depth`, which answer zero when that
side is not wired into this app, so the admin API never fails because of it.
"""

from __future__ import annotations

import logging
import uuid

from aiohttp import web
from pydantic import Field

from mochung.domain import stats as stats_rules
from mochung.domain.listing import Slice
from mochung.domain.models import ChatSession
from mochung.server import keys
from mochung.server.admin.kit import AdminRoutes, admin_endpoint, mapped
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import filled
from mochung.server.http.wire import UtcDatetime, WireModel, respond

log = logging.getLogger("mochung.admin")
routes = AdminRoutes()


class UserCounts(WireModel):
    total: int
    active: int
    admins: int


class PageCounts(WireModel):
    total: int
    published: int = Field(description="published and not hidden")
    draft: int = Field(description="unpublished and not hidden")
    hidden: int


class PaymentCounts(WireModel):
    by_status: dict[str, int] = Field(description="ready, paid, failed, cancelled, refunded")
    revenue: int = Field(description="paid + refunded amounts minus refunded amounts, KRW")
    currency: str = "KRW"
    awaiting_review: int = Field(description="flagged payments with no review decision yet")


class AdminStats(WireModel):
    users: UserCounts
    pages: PageCounts
    chats_today: int = Field(description="chat messages stored since 00:00 UTC")
    sessions_today: int = Field(description="chat sessions active since 00:00 UTC")
    agent_runs: dict[str, int] = Field(description="queued, running, done, failed, cancelled")
    payments: PaymentCounts
    live_sockets: int = Field(description="sockets joined to a chat room on this web process")
    queue_depth: int | None = Field(description="chat turns waiting for a worker; null if the broker is down")
    generated_at: UtcDatetime


class AdminSession(WireModel):
    id: uuid.UUID
    room: str
    user_id: uuid.UUID
    user_email: str
    page_id: uuid.UUID | None
    message_count: int
    live_sockets: int = Field(description="sockets in this session's room on this web process")
    last_activity_at: UtcDatetime
    created_at: UtcDatetime


def live_sockets(app: web.Application) -> tuple[int, dict[str, int]]:
    """(sockets joined to a chat room, sockets per session id) on this web process, from the
    relay's registry; zeros when the realtime side is not wired into this app."""
    registry = app.get(keys.LIVE_SOCKETS)
    if registry is None:
        return 0, {}
    return registry.total(), registry.per_session()


async def queue_depth(app: web.Application) -> int | None:
    """Chat turns waiting for a worker; None when the broker cannot say (e.g. Redis down),
    so the dashboard shows "unknown" rather than failing."""
    measure = app.get(keys.QUEUE_DEPTH)
    if measure is None:
        return 0
    try:
        return int(await measure())
    except Exception:
        log.warning("queue depth unavailable", exc_info=True)
        return None


@routes.get("/api/admin/stats")
@admin_endpoint(summary="Dashboard numbers", response=AdminStats)
async def stats(request: web.Request) -> web.Response:
    counts = await stats_rules.gather_stats()
    total_sockets, _ = live_sockets(request.app)
    return respond(
        AdminStats(
            users=UserCounts(**counts.users),
            pages=PageCounts(**counts.pages),
            chats_today=counts.chats_today,
            sessions_today=counts.sessions_today,
            agent_runs=counts.agent_runs,
            payments=PaymentCounts(
                by_status=counts.payments, revenue=counts.revenue, awaiting_review=counts.flagged_payments
            ),
            live_sockets=total_sockets,
            queue_depth=await queue_depth(request.app),
            generated_at=counts.generated_at,
        )
    )


@routes.listing(
    "/api/admin/sessions",
    SliceQuery,
    AdminSession,
    summary="Chat sessions, most recently active first, with their live sockets",
)
async def list_sessions(request: web.Request, query: SliceQuery) -> Slice[AdminSession]:
    found, counts = await stats_rules.list_sessions(query.limit, query.cursor)
    _, per_session = live_sockets(request.app)

    def out(session: ChatSession) -> AdminSession:
        sockets = per_session.get(str(session.id), 0)
        return filled(
            AdminSession,
            session,
            user_id=session.user.id,
            user_email=session.user.email,
            message_count=counts.get(session.id, 0),
            live_sockets=sockets,
        )

    return mapped(found, out)
