"""The guestbook (방명록): entries newest first; a writer deletes theirs with its password,
the couple any on their page, an admin hides and unhides (audited, in the same transaction).

Entries are plain text: nothing here (or anywhere on the server) renders them as HTML;
the frontend escapes them. The password is hashed with argon2 in the hashing pool, off the
event loop. Hidden entries leave the public list at once (it is read from the database on
every request, never cached).
"""

from __future__ import annotations

import re
import uuid

from tortoise.transactions import in_transaction

from mochung.domain import moderation, security
from mochung.domain.errors import Forbidden, Invalid, NotFound
from mochung.domain.guests.settings import read_settings
from mochung.domain.listing import Slice, paginate, where
from mochung.domain.models import GuestbookEntry, Page, User
from mochung.domain.moderation import apply_hidden, check_reason
from mochung.domain.pages import public_page

MAX_NAME = 40
MAX_CONTENT = 500
MIN_PASSWORD, MAX_PASSWORD = 4, 32
MAX_REASON = moderation.MAX_REASON
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # keeps \t and \n: a note may have lines


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n")).strip()


def check_entry(name: str, content: str, password: str) -> tuple[str, str]:
    name, content = _clean(name), _clean(content)
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"name must be 1-{MAX_NAME} characters", field="name")
    if not 1 <= len(content) <= MAX_CONTENT:
        raise Invalid(f"content must be 1-{MAX_CONTENT} characters", field="content")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters", field="password")
    return name, content


async def guestbook_page(slug: str) -> Page:
    """The published, visible page whose guestbook is on; NotFound otherwise."""
    page = await public_page(slug)
    if not read_settings(page.settings).guestbook.enabled:
        raise NotFound("this page has no guestbook")
    return page


async def entries(page: Page, limit: int, cursor: str | None) -> Slice[GuestbookEntry]:
    """The public list: visible entries, newest first."""
    return await paginate(GuestbookEntry.filter(page_id=page.id, is_hidden=False), limit=limit, cursor=cursor)


async def write(page: Page, name: str, content: str, password: str) -> GuestbookEntry:
    name, content = check_entry(name, content, password)
    password_hash = await security.hash_guest_secret_off_loop(password)  # argon2id, lighter: see security
    return await GuestbookEntry.create(page_id=page.id, name=name, content=content, password_hash=password_hash)


async def delete_by_writer(page: Page, entry_id: uuid.UUID, password: str) -> None:
    """403 on a wrong password; the entry stays."""
    entry = await GuestbookEntry.filter(id=entry_id, page_id=page.id).first()
    if entry is None:
        raise NotFound("guestbook entry not found")
    if not password or not await security.verify_password_off_loop(entry.password_hash, password):
        raise Forbidden("wrong password for this guestbook entry")
    await GuestbookEntry.filter(id=entry.id).delete()


async def delete_by_owner(page: Page, entry_id: uuid.UUID) -> None:
    if not await GuestbookEntry.filter(id=entry_id, page_id=page.id).delete():
        raise NotFound("guestbook entry not found")


async def latest(page_id: uuid.UUID, limit: int = 5) -> list[GuestbookEntry]:
    """The newest visible entries (what the couple's agent reads)."""
    return await GuestbookEntry.filter(page_id=page_id, is_hidden=False).order_by("-created_at", "-id").limit(limit)


# ---- moderation (admins) ------------------------------------------------------------------


async def list_for_admin(
    page_id: uuid.UUID | None, hidden: bool | None, limit: int, cursor: str | None
) -> Slice[GuestbookEntry]:
    query = where(GuestbookEntry.all().select_related("page"), page_id=page_id, is_hidden=hidden)
    return await paginate(query, limit=limit, cursor=cursor)


async def _set_hidden(admin: User, entry_id: uuid.UUID, reason: str | None) -> GuestbookEntry:
    """Hide (with a reason) or unhide; a change and its audit entry are one transaction.
    Hiding again replaces the reason (audited again); unhiding a visible entry writes nothing."""
    async with in_transaction() as connection:
        entry = await GuestbookEntry.filter(id=entry_id).using_db(connection).select_for_update().first()
        if entry is None:
            raise NotFound("guestbook entry not found")
        if reason is not None or entry.is_hidden:
            details = {"pageId": str(entry.page_id), "name": entry.name}
            await apply_hidden(admin, entry, reason, "guestbook", "guestbook_entry", details, connection)
    return await GuestbookEntry.get(id=entry_id).select_related("page")


async def hide(admin: User, entry_id: uuid.UUID, reason: str) -> GuestbookEntry:
    return await _set_hidden(admin, entry_id, check_reason(reason))


async def unhide(admin: User, entry_id: uuid.UUID) -> GuestbookEntry:
    return await _set_hidden(admin, entry_id, None)
