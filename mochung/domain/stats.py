"""The admin dashboard's numbers, and the chat sessions with their message counts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count, Sum

from mochung.domain.listing import Slice, paginate
from mochung.domain.models import (
    AgentRun,
    ChatMessage,
    ChatSession,
    Page,
    Payment,
    PaymentStatus,
    RunStatus,
    User,
)


@dataclass(frozen=True)
class Stats:
    users: dict[str, int]
    pages: dict[str, int]
    chats_today: int
    sessions_today: int
    agent_runs: dict[str, int]
    payments: dict[str, int]
    revenue: int
    flagged_payments: int
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def start_of_today() -> dt.datetime:
    """Midnight UTC: every time on the wire is UTC, so "today" is the UTC day too."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def _counts_by(model: Any, column: str, names: list[str]) -> dict[str, int]:
    rows = await model.annotate(count=Count("id")).group_by(column).values(column, "count")
    counts = dict.fromkeys(names, 0)
    for row in rows:
        counts[str(row[column])] = int(row["count"])
    return counts


async def _revenue() -> int:
    """Money kept: paid and refunded payments minus what was given back (partial refunds)."""
    rows = (
        await Payment.filter(status__in=[PaymentStatus.PAID, PaymentStatus.REFUNDED])
        .annotate(total=Sum("amount"), refunded=Sum("refunded_amount"))
        .values("total", "refunded")
    )
    if not rows:
        return 0
    return int(rows[0]["total"] or 0) - int(rows[0]["refunded"] or 0)


async def gather_stats() -> Stats:
    today = start_of_today()
    hidden = await Page.filter(is_hidden=True).count()
    published = await Page.filter(is_hidden=False, is_published=True).count()
    draft = await Page.filter(is_hidden=False, is_published=False).count()
    return Stats(
        users={
            "total": await User.all().count(),
            "active": await User.filter(is_active=True).count(),
            "admins": await User.filter(is_admin=True).count(),
        },
        pages={"total": hidden + published + draft, "published": published, "draft": draft, "hidden": hidden},
        chats_today=await ChatMessage.filter(created_at__gte=today).count(),
        sessions_today=await ChatSession.filter(last_activity_at__gte=today).count(),
        agent_runs=await _counts_by(AgentRun, "status", [status.value for status in RunStatus]),
        payments=await _counts_by(Payment, "status", [status.value for status in PaymentStatus]),
        revenue=await _revenue(),
        flagged_payments=await Payment.filter(flagged=True, review_decision=None).count(),
    )


async def list_sessions(limit: int, cursor: str | None) -> tuple[Slice[ChatSession], dict[uuid.UUID, int]]:
    """Sessions, most recently active first, and how many messages each holds."""
    page = await paginate(ChatSession.all().select_related("user"), limit=limit, cursor=cursor, key="last_activity_at")
    ids = [session.id for session in page.items]
    rows = (
        await ChatMessage.filter(session_id__in=ids)
        .annotate(count=Count("id"))
        .group_by("session_id")
        .values("session_id", "count")
        if ids
        else []
    )
    counts = {uuid.UUID(str(row["session_id"])): int(row["count"]) for row in rows}
    return page, counts
