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
from mochung.domain.models import GuestbookEntry, Page, User
from mochung.server.guests.rsvps import RsvpSummary, summary_out
from mochung.server.http.listing import Paginated, SliceQuery, respond_slice
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
TAG = "admin"


class HideBody(WireModel):
    reason: str = Field(min_length=1, max_length=guestbook.MAX_REASON)


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
    return AdminGuestbookEntry(
        id=entry.id,
        page_id=entry.page_id,
        page_slug=entry.page.slug,
        name=entry.name,
        content=entry.content,
        is_hidden=entry.is_hidden,
        hidden_reason=entry.hidden_reason,
        created_at=entry.created_at,
    )


@routes.get("/api/admin/guestbook")
@endpoint(
    summary="Guestbook entries, by page and hidden or not, newest first",
    tag=TAG,
    auth="admin",
    query=GuestbookQuery,
    response=Paginated[AdminGuestbookEntry],
    errors=(400,),
)
async def list_entries(request: web.Request, query: GuestbookQuery) -> web.Response:
    found = await guestbook.list_for_admin(query.page_id, query.hidden, query.limit, query.cursor)
    return respond_slice(found, Paginated[AdminGuestbookEntry], entry_out)


@routes.post("/api/admin/guestbook/{id}/hide")
@endpoint(
    summary="Hide a guestbook entry: it leaves the public guestbook at once",
    tag=TAG,
    auth="admin",
    body=HideBody,
    response=AdminGuestbookEntry,
    errors=(400, 404),
)
async def hide(request: web.Request, caller: User, path_id: uuid.UUID, body: HideBody) -> web.Response:
    return respond(entry_out(await guestbook.hide(caller, path_id, body.reason)))


@routes.post("/api/admin/guestbook/{id}/unhide")
@endpoint(
    summary="Show a hidden guestbook entry again", tag=TAG, auth="admin", response=AdminGuestbookEntry, errors=(404,)
)
async def unhide(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    return respond(entry_out(await guestbook.unhide(caller, path_id)))


@routes.get("/api/admin/pages/{id}/rsvps/summary")
@endpoint(
    summary="A page's RSVP summary: responses, attending, people by side, meals",
    tag=TAG,
    auth="admin",
    response=RsvpSummary,
    errors=(404,),
)
async def rsvp_summary(request: web.Request, path_id: uuid.UUID) -> web.Response:
    if not await Page.filter(id=path_id).exists():
        raise NotFound("page not found")
    return respond(summary_out(await rsvps.summary(path_id)))
