"""RSVP routes: a guest answers (and changes the answer with ``X-RSVP-Token``); the couple
lists with a summary, exports CSV, deletes. A new or changed answer is announced live to
the couple's open sockets as ``rsvp-received`` (documented in docs/api-notes.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
import uuid
from typing import Literal

from aiohttp import web
from pydantic import Field, StrictBool

from mochung.domain.errors import Unauthenticated
from mochung.domain.guests import rsvps
from mochung.domain.models import Page, Rsvp
from mochung.server import keys
from mochung.server.chat.handoff import NAMESPACES
from mochung.server.guests.owner import GuestRoutes
from mochung.server.guests.visitors import limit_guest_write, remember_visitor
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import download, filled
from mochung.server.http.wire import HAS_PRINTABLE, UtcDatetime, WireModel, endpoint, respond
from mochung.server.pages import own_page

routes = GuestRoutes()
TAG = "guests"
TOKEN_HEADER = "X-RSVP-Token"
NOTICE_EVENT = "rsvp-received"
log = logging.getLogger("mochung.guests")


class RsvpBody(WireModel):
    side: Literal["groom", "bride"]
    # the domain's limits, stated as the document can: it counts what is left after trimming
    name: str = Field(min_length=1, max_length=rsvps.MAX_NAME, pattern=HAS_PRINTABLE)
    attending: StrictBool
    party_size: int = Field(default=1, ge=0, le=1000)
    meal: Literal["yes", "no", "undecided"] | None = None
    phone: str | None = Field(default=None, max_length=100, pattern=rsvps.PHONE_OR_BLANK)
    message: str | None = Field(default=None, max_length=rsvps.MAX_MESSAGE)

    def answer(self) -> rsvps.Answer:
        return rsvps.Answer(**self.model_dump())  # the body's fields are the answer's, name for name


class RsvpOut(WireModel):
    id: uuid.UUID
    side: str
    name: str
    attending: bool
    party_size: int
    meal: str | None
    phone: str | None
    message: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CreatedRsvp(RsvpOut):
    edit_token: str = Field(description=f"keep it: send it as {TOKEN_HEADER} to change this answer; shown once")


class SideSummary(WireModel):
    attending: int
    guests: int


class MealSummary(WireModel):
    yes: int
    no: int
    undecided: int


class RsvpSummary(WireModel):
    responses: int
    attending: int
    not_attending: int
    guests: int = Field(description="people coming: the party sizes of attending answers")
    by_side: dict[Literal["groom", "bride"], SideSummary]
    meals: MealSummary = Field(description="people (party sizes) of attending answers, by meal")


class RsvpList(WireModel):
    items: list[RsvpOut]
    next_cursor: str | None
    summary: RsvpSummary


class RsvpQuery(SliceQuery):
    side: Literal["groom", "bride"] | None = None
    attending: bool | None = None


class RsvpNotice(WireModel):
    """The Socket.IO ``rsvp-received`` payload (snake_case, like every socket payload)."""

    page_id: str
    rsvp_id: str
    side: str
    name: str
    attending: bool
    party_size: int
    meal: str | None
    message: str | None
    updated: bool
    created_at: str
    timestamp: int


def rsvp_out(rsvp: Rsvp) -> RsvpOut:
    return RsvpOut.model_validate(rsvp)


def summary_out(found: rsvps.Summary) -> RsvpSummary:
    return RsvpSummary(
        responses=found.responses,
        attending=found.attending,
        not_attending=found.not_attending,
        guests=found.guests,
        by_side={side: SideSummary(attending=c.attending, guests=c.guests) for side, c in found.by_side.items()},
        meals=MealSummary(**found.meals),
    )


async def _notify_couple(request: web.Request, rsvp: Rsvp, *, updated: bool) -> None:
    """Best effort: an answer is stored whether or not the couple is online."""
    owner = await Page.filter(id=rsvp.page_id).values_list("user_id", flat=True)
    if not owner:
        return
    created_at = rsvp.created_at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ids = {"page_id": str(rsvp.page_id), "rsvp_id": str(rsvp.id)}
    moment = {"created_at": created_at, "timestamp": int(time.time() * 1000)}
    notice = filled(RsvpNotice, rsvp, updated=updated, **ids, **moment).model_dump()
    sio = request.app[keys.SOCKETIO]
    try:
        for namespace in NAMESPACES:
            await sio.emit(NOTICE_EVENT, notice, room=f"user:{owner[0]}", namespace=namespace)
    except Exception as error:  # the socket layer (Redis) is down: the answer stands
        log.warning("could not announce RSVP %s: %s", rsvp.id, type(error).__name__)


async def _page_id_of(slug: str) -> str:
    found = await Page.filter(slug=slug.lower()).values_list("id", flat=True)
    return str(found[0]) if found else "unknown"


@routes.post("/api/page/public/{slug}/rsvp")
@endpoint(
    summary="Answer the invitation (no account); keep the editToken to change the answer",
    tag=TAG,
    body=RsvpBody,
    response=CreatedRsvp,
    status=201,
    errors=(400, 404, 409, 429),
    extra={"description": "409 with `code: rsvp_closed` when RSVP is off or past its deadline."},
)
async def answer(request: web.Request, body: RsvpBody) -> web.StreamResponse:
    slug = request.match_info["slug"]
    await limit_guest_write(request, await _page_id_of(slug))
    rsvp, token = await rsvps.answer(slug, body.answer(), dt.datetime.now(dt.UTC))
    await _notify_couple(request, rsvp, updated=False)
    return remember_visitor(request, respond(CreatedRsvp(**dict(rsvp_out(rsvp)), edit_token=token), status=201))


@routes.put("/api/page/public/{slug}/rsvp/{id}")
@endpoint(
    summary=f"Change an answer with its edit token ({TOKEN_HEADER})",
    tag=TAG,
    body=RsvpBody,
    response=RsvpOut,
    errors=(400, 401, 403, 404, 409, 429),
)
async def change(request: web.Request, path_id: uuid.UUID, body: RsvpBody) -> web.StreamResponse:
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if not token:
        raise Unauthenticated(f"the {TOKEN_HEADER} header (the editToken of the answer) is required")
    slug = request.match_info["slug"]
    await limit_guest_write(request, await _page_id_of(slug))
    rsvp = await rsvps.change(slug, path_id, token, body.answer(), dt.datetime.now(dt.UTC))
    await _notify_couple(request, rsvp, updated=True)
    return remember_visitor(request, respond(rsvp_out(rsvp)))


@routes.get("/api/page/{id}/rsvps")
@endpoint(
    summary="The answers to my page, newest first, with a summary of all of them",
    tag=TAG,
    auth="user",
    query=RsvpQuery,
    response=RsvpList,
    errors=(400, 404),
    load=own_page,
)
async def list_answers(request: web.Request, found: Page, query: RsvpQuery) -> web.Response:
    listed = await rsvps.list_rsvps(found, query.side, query.attending, query.limit, query.cursor)
    summary = summary_out(await rsvps.summary(found.id))
    items = [rsvp_out(r) for r in listed.items]
    return respond(RsvpList(items=items, next_cursor=listed.next_cursor, summary=summary))


@routes.get("/api/page/{id}/rsvps.csv")
@endpoint(
    summary="Every answer to my page as CSV (UTF-8 with BOM: Excel opens it with Korean intact)",
    tag=TAG,
    auth="user",
    response="text/csv",
    errors=(404,),
    load=own_page,
)
async def export(request: web.Request, found: Page) -> web.Response:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rsvps.csv_rows(await rsvps.all_rsvps(found)))
    body = "\ufeff".encode() + buffer.getvalue().encode()
    return download(body, "text/csv; charset=utf-8", f"rsvps-{found.slug}.csv")


routes.removal("/api/page/{id}/rsvps/{rsvpId}", rsvps.delete_rsvp, "Delete an answer (spam) from my page")
