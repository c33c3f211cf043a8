"""Guestbook routes: the public list and writes (rate-limited per visitor), the writer's
delete with the password, the couple's delete. Entries go out as JSON text, never HTML."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import Field

from mochung.domain.guests import guestbook
from mochung.domain.models import GuestbookEntry
from mochung.server.auth import limit
from mochung.server.guests.owner import GuestRoutes
from mochung.server.guests.visitors import limit_guest_write, remember_visitor
from mochung.server.http.listing import Paginated, SliceQuery, respond_slice
from mochung.server.http.wire import HAS_PRINTABLE, UtcDatetime, WireModel, endpoint, respond

routes = GuestRoutes()
TAG = "guests"
DELETE_ATTEMPTS_PER_ENTRY = 10  # wrong passwords are guessed per entry, whoever guesses


class EntryBody(WireModel):
    # the domain's limits, stated as the document can: it counts what is left after trimming
    name: str = Field(min_length=1, max_length=guestbook.MAX_NAME, pattern=HAS_PRINTABLE)
    content: str = Field(min_length=1, max_length=guestbook.MAX_CONTENT, pattern=HAS_PRINTABLE)
    password: str = Field(min_length=guestbook.MIN_PASSWORD, max_length=guestbook.MAX_PASSWORD)


class PasswordBody(WireModel):
    password: str = Field(default="", max_length=200)


class EntryOut(WireModel):
    id: uuid.UUID
    name: str
    content: str = Field(description="plain text: escape it before showing it")
    created_at: UtcDatetime


def entry_out(entry: GuestbookEntry) -> EntryOut:
    return EntryOut(id=entry.id, name=entry.name, content=entry.content, created_at=entry.created_at)


@routes.get("/api/page/public/{slug}/guestbook")
@endpoint(
    summary="The guestbook, newest first",
    tag=TAG,
    query=SliceQuery,
    response=Paginated[EntryOut],
    errors=(400, 404),
)
async def list_entries(request: web.Request, query: SliceQuery) -> web.Response:
    page = await guestbook.guestbook_page(request.match_info["slug"])
    found = await guestbook.entries(page, query.limit, query.cursor)
    return respond_slice(found, Paginated[EntryOut], entry_out)


@routes.post("/api/page/public/{slug}/guestbook")
@endpoint(
    summary="Write in the guestbook; the password lets the writer delete the entry",
    tag=TAG,
    body=EntryBody,
    response=EntryOut,
    status=201,
    errors=(400, 404, 429),
)
async def write(request: web.Request, body: EntryBody) -> web.StreamResponse:
    page = await guestbook.guestbook_page(request.match_info["slug"])
    await limit_guest_write(request, str(page.id))
    entry = await guestbook.write(page, body.name, body.content, body.password)
    return remember_visitor(request, respond(entry_out(entry), status=201))


@routes.delete("/api/page/public/{slug}/guestbook/{id}")
@endpoint(
    summary="Delete my guestbook entry with its password",
    tag=TAG,
    body=PasswordBody,
    status=204,
    errors=(400, 403, 404, 429),
)
async def delete_mine(request: web.Request, path_id: uuid.UUID, body: PasswordBody) -> web.Response:
    page = await guestbook.guestbook_page(request.match_info["slug"])
    await limit_guest_write(request, str(page.id))
    await limit(request, f"guestbook-delete:{path_id}", DELETE_ATTEMPTS_PER_ENTRY, 600, "attempts on this entry")
    await guestbook.delete_by_writer(page, path_id, body.password)
    return web.Response(status=204)


routes.removal("/api/page/{id}/guestbook/{entryId}", guestbook.delete_by_owner, "Delete a guestbook entry from my page")
