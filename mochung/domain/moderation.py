"""Moderation of pages and chat messages by admins. Every change writes its audit entry in the
same transaction, so a change and its record never part.

Moderation is idempotent: hiding a hidden page again replaces its reason (and is audited
again, because an admin did act); unhiding a visible page changes nothing and writes
nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from mochung.domain import audit, pages
from mochung.domain.errors import Invalid, NotFound
from mochung.domain.listing import Slice, paginate, where
from mochung.domain.models import (
    ChatMessage,
    GuestbookEntry,
    Page,
    User,
)
from mochung.domain.ports import FileStorage

PAGE_STATUSES = ("published", "draft", "hidden", "all")
MAX_REASON = 500


def check_reason(reason: str) -> str:
    """A hiding reason, stripped: required, at most :data:`MAX_REASON` characters."""
    reason = reason.strip()
    if not reason:
        raise Invalid("a reason is required", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(f"must be at most {MAX_REASON} characters", field="reason")
    return reason


async def apply_hidden(
    admin: User,
    row: ChatMessage | GuestbookEntry,
    reason: str | None,
    action: str,
    target: str,
    details: dict[str, str],
    connection: BaseDBAsyncClient,
) -> None:
    """Hide ``row`` (with ``reason``) or unhide it (``None``), and audit it as
    ``{action}.hide``/``{action}.unhide`` on ``{target}:{id}`` with ``details`` plus the
    reason (or the previous one), in the caller's transaction."""
    if reason is not None:
        details["reason"] = reason
    else:
        details["previousReason"] = row.hidden_reason or ""
    row.is_hidden, row.hidden_reason = reason is not None, reason
    await row.save(using_db=connection, update_fields=["is_hidden", "hidden_reason"])
    verb = "hide" if reason is not None else "unhide"
    await audit.record(admin.id, f"{action}.{verb}", f"{target}:{row.id}", details, connection)


async def list_pages(status: str, limit: int, cursor: str | None) -> Slice[Page]:
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


async def hide_page(admin: User, page_id: uuid.UUID, reason: str, storage: FileStorage) -> Page:
    """A hidden page's public link and Markdown snapshot answer 404 until it is unhidden;
    the owner keeps it."""
    reason = check_reason(reason)
    async with in_transaction() as connection:
        page = await _page_for_update(page_id, connection)
        page.is_hidden, page.hidden_reason = True, reason
        await page.save(using_db=connection, update_fields=["is_hidden", "hidden_reason"])
        await pages.sync_snapshot(page, storage)
        await audit.record(admin.id, "page.hide", f"page:{page.id}", {"slug": page.slug, "reason": reason}, connection)
    return await Page.get(id=page_id).select_related("user")


async def unhide_page(admin: User, page_id: uuid.UUID, storage: FileStorage) -> Page:
    async with in_transaction() as connection:
        page = await _page_for_update(page_id, connection)
        if page.is_hidden:
            previous = page.hidden_reason
            page.is_hidden, page.hidden_reason = False, None
            await page.save(using_db=connection, update_fields=["is_hidden", "hidden_reason"])
            await pages.sync_snapshot(page, storage)
            details = {"slug": page.slug, "previousReason": previous}
            await audit.record(admin.id, "page.unhide", f"page:{page.id}", details, connection)
    return await Page.get(id=page_id).select_related("user")


async def list_messages(
    room: str | None, session_id: uuid.UUID | None, hidden: bool | None, limit: int, cursor: str | None
) -> Slice[ChatMessage]:
    query = ChatMessage.all().select_related("session")
    query = where(query, session__room=room or None, session_id=session_id, is_hidden=hidden)
    return await paginate(query, limit=limit, cursor=cursor)


async def _set_message_hidden(admin: User, message_id: uuid.UUID, reason: str | None) -> ChatMessage:
    async with in_transaction() as connection:
        message = await ChatMessage.filter(id=message_id).using_db(connection).select_for_update().first()
        if message is None:
            raise NotFound("chat message not found")
        changed = message.is_hidden != (reason is not None) or message.hidden_reason != reason
        if changed:
            details = {"sessionId": str(message.session_id), "role": message.role}
            await apply_hidden(admin, message, reason, "chat", "chat_message", details, connection)
    return await ChatMessage.get(id=message_id).select_related("session")


async def hide_message(admin: User, message_id: uuid.UUID, reason: str) -> ChatMessage:
    """A hidden message leaves ``roomHistory`` and the agents' context (the chat code
    filters on ``is_hidden``); it stays stored so the decision can be reviewed."""
    return await _set_message_hidden(admin, message_id, check_reason(reason))


async def unhide_message(admin: User, message_id: uuid.UUID) -> ChatMessage:
    return await _set_message_hidden(admin, message_id, None)
