"""What admins do: look at counts, manage accounts, moderate pages and chat messages,
and read the audit log. Every state change writes its audit entry in the same
transaction, so a change and its record never part.

Moderation is idempotent: hiding a hidden page again replaces its reason (and is audited
again, because an admin did act); unhiding a visible page changes nothing and writes
nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from mochung.domain import audit
from mochung.domain.errors import Forbidden, Invalid, NotFound
from mochung.domain.listing import Page as ResultPage
from mochung.domain.listing import paginate
from mochung.domain.models import (
    AgentRun,
    AuditEntry,
    ChatMessage,
    ChatSession,
    Page,
    Payment,
    PaymentStatus,
    RunStatus,
    User,
)

PAGE_STATUSES = ("published", "draft", "hidden", "all")
MAX_REASON = 500


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


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid("a reason is required", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(f"must be at most {MAX_REASON} characters", field="reason")
    return reason


# Users -------------------------------------------------------------------------------


async def list_users(
    q: str | None,
    limit: int,
    cursor: str | None,
    *,
    is_admin: bool | None = None,
    is_active: bool | None = None,
) -> ResultPage[User]:
    query = User.all()
    if is_admin is not None:
        query = query.filter(is_admin=is_admin)
    if is_active is not None:
        query = query.filter(is_active=is_active)
    if q and q.strip():
        needle = q.strip()
        query = query.filter(Q(email_key__icontains=needle.lower()) | Q(name__icontains=needle))
    return await paginate(query, limit=limit, cursor=cursor)


async def update_user(admin: User, user_id: uuid.UUID, is_active: bool | None, is_admin: bool | None) -> User:
    """Deactivate/reactivate, grant/revoke admin. An admin may not lock themselves out,
    which also guarantees that at least one active admin always remains."""
    if is_active is None and is_admin is None:
        raise Invalid("nothing to change: send isActive and/or isAdmin")
    if user_id == admin.id and is_admin is False:
        raise Forbidden("you cannot remove your own admin right")
    if user_id == admin.id and is_active is False:
        raise Forbidden("you cannot deactivate yourself")
    async with in_transaction() as connection:
        user = await User.filter(id=user_id).using_db(connection).select_for_update().first()
        if user is None:
            raise NotFound("user not found")
        changes: dict[str, dict[str, bool]] = {}
        for name, wanted in (("is_active", is_active), ("is_admin", is_admin)):
            if wanted is not None and getattr(user, name) != wanted:
                changes["isActive" if name == "is_active" else "isAdmin"] = {"from": getattr(user, name), "to": wanted}
                setattr(user, name, wanted)
        if changes:
            await user.save(using_db=connection, update_fields=["is_active", "is_admin", "updated_at"])
            await audit.record(admin.id, "user.update", f"user:{user.id}", {"email": user.email, **changes}, connection)
    return user


# Pages -------------------------------------------------------------------------------


async def list_pages(status: str, limit: int, cursor: str | None) -> ResultPage[Page]:
    filters: dict[str, dict[str, bool]] = {
        "published": {"is_hidden": False, "is_published": True},
        "draft": {"is_hidden": False, "is_published": False},
        "hidden": {"is_hidden": True},
        "all": {},
    }
    if status not in filters:
        raise Invalid(f"must be one of {', '.join(PAGE_STATUSES)}", field="status")
    return await paginate(Page.filter(**filters[status]).select_related("user"), limit=limit, cursor=cursor)


async def _page_for_update(page_id: uuid.UUID, connection: Any) -> Page:
    page = await Page.filter(id=page_id).using_db(connection).select_for_update().first()
    if page is None:
        raise NotFound("page not found")
    return page


async def hide_page(admin: User, page_id: uuid.UUID, reason: str) -> Page:
    """A hidden page's public link answers 404 until it is unhidden; the owner keeps it."""
    reason = _reason(reason)
    async with in_transaction() as connection:
        page = await _page_for_update(page_id, connection)
        page.is_hidden, page.hidden_reason = True, reason
        await page.save(using_db=connection, update_fields=["is_hidden", "hidden_reason"])
        await audit.record(admin.id, "page.hide", f"page:{page.id}", {"slug": page.slug, "reason": reason}, connection)
    return await Page.get(id=page_id).select_related("user")


async def unhide_page(admin: User, page_id: uuid.UUID) -> Page:
    async with in_transaction() as connection:
        page = await _page_for_update(page_id, connection)
        if page.is_hidden:
            previous = page.hidden_reason
            page.is_hidden, page.hidden_reason = False, None
            await page.save(using_db=connection, update_fields=["is_hidden", "hidden_reason"])
            details = {"slug": page.slug, "previousReason": previous}
            await audit.record(admin.id, "page.unhide", f"page:{page.id}", details, connection)
    return await Page.get(id=page_id).select_related("user")


# Chats -------------------------------------------------------------------------------


async def list_messages(
    room: str | None, session_id: uuid.UUID | None, hidden: bool | None, limit: int, cursor: str | None
) -> ResultPage[ChatMessage]:
    query = ChatMessage.all().select_related("session")
    if room:
        query = query.filter(session__room=room)
    if session_id is not None:
        query = query.filter(session_id=session_id)
    if hidden is not None:
        query = query.filter(is_hidden=hidden)
    return await paginate(query, limit=limit, cursor=cursor)


async def _set_message_hidden(admin: User, message_id: uuid.UUID, reason: str | None) -> ChatMessage:
    async with in_transaction() as connection:
        message = await ChatMessage.filter(id=message_id).using_db(connection).select_for_update().first()
        if message is None:
            raise NotFound("chat message not found")
        changed = message.is_hidden != (reason is not None) or message.hidden_reason != reason
        if changed:
            details = {"sessionId": str(message.session_id), "role": message.role}
            if reason is not None:
                details["reason"] = reason
            else:
                details["previousReason"] = message.hidden_reason or ""
            message.is_hidden, message.hidden_reason = reason is not None, reason
            await message.save(using_db=connection, update_fields=["is_hidden", "hidden_reason"])
            action = "chat.hide" if reason is not None else "chat.unhide"
            await audit.record(admin.id, action, f"chat_message:{message.id}", details, connection)
    return await ChatMessage.get(id=message_id).select_related("session")


async def hide_message(admin: User, message_id: uuid.UUID, reason: str) -> ChatMessage:
    """A hidden message leaves ``roomHistory`` and the agents' context (the chat code
    filters on ``is_hidden``); it stays stored so the decision can be reviewed."""
    return await _set_message_hidden(admin, message_id, _reason(reason))


async def unhide_message(admin: User, message_id: uuid.UUID) -> ChatMessage:
    return await _set_message_hidden(admin, message_id, None)


# Sessions and audit --------------------------------------------------------------------


async def list_sessions(limit: int, cursor: str | None) -> tuple[ResultPage[ChatSession], dict[uuid.UUID, int]]:
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


async def list_audit(
    action: str | None, admin_id: uuid.UUID | None, limit: int, cursor: str | None, *, target: str | None = None
) -> ResultPage[AuditEntry]:
    query = AuditEntry.all().select_related("admin")
    if target:
        query = query.filter(target=target)
    if action:
        query = query.filter(action=action)
    if admin_id is not None:
        query = query.filter(admin_id=admin_id)
    return await paginate(query, limit=limit, cursor=cursor)
