"""Admin moderation of guestbooks: list entries (by page, hidden or not), hide with a
reason, unhide. Each change is audited in its own transaction (``domain.guests.guestbook``);
a hidden entry leaves the public list at once. Also a page's RSVP summary (read only: the
admin's page detail; the answers themselves, with phones, stay the couple's)."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import Field

from mochung.domain.errors import NotFound
from mochung.domain.guests import guestbook, rsvps
from mochung.domain.listing import Slice
from mochung.domain.models import GuestbookEntry, Page
from mochung.server.admin.kit import AdminRoutes, acting_as, admin_endpoint, mapped
from mochung.server.guests.rsvps import RsvpSummary, summary_out
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import filled
from mochung.server.http.wire import UtcDatetime, WireModel, respond

routes = AdminRoutes()


class GuestbookQuery(SliceQuery):
    page_id: uuid.UUID | None = None
    hidden: bool | None = Field(default=None, description="true: only hidden; false: only visible")


class AdminGuestbookEntry(WireModel):
    id: uuid.UUID
    page_id: uuid.UUID
    page_slug: str
    name: str
    content: str = Field(description="plain text, as written")
    is_hidden: bool
    hidden_reason: str | None
    created_at: UtcDatetime


def entry_out(entry: GuestbookEntry) -> AdminGuestbookEntry:
    return filled(AdminGuestbookEntry, entry, page_slug=entry.page.slug)


@routes.listing(
    "/api/admin/guestbook",
    GuestbookQuery,
    AdminGuestbookEntry,
    summary="Guestbook entries, by page and hidden or not, newest first",
)
async def list_entries(request: web.Request, query: GuestbookQuery) -> Slice[AdminGuestbookEntry]:
    return mapped(await guestbook.list_for_admin(query.page_id, query.hidden, query.limit, query.cursor), entry_out)


routes.moderated(
    "/api/admin/guestbook",
    AdminGuestbookEntry,
    acting_as(guestbook.hide, guestbook.unhide, entry_out),
    ("Hide a guestbook entry: it leaves the public guestbook at once", "Show a hidden guestbook entry again"),
)


@routes.get("/api/admin/pages/{id}/rsvps/summary")
@admin_endpoint(
    summary="A page's RSVP summary: responses, attending, people by side, meals", response=RsvpSummary, errors=(404,)
)
async def rsvp_summary(request: web.Request, path_id: uuid.UUID) -> web.Response:
    if not await Page.filter(id=path_id).exists():
        raise NotFound("page not found")
    return respond(summary_out(await rsvps.summary(path_id)))
