"""The invitation pages of PROTOCOL.md "Pages": publish, mine, public by slug, get, update, delete."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pydantic import Field, StrictBool, field_validator
from pydantic.config import JsonDict

from mochung.aio import running
from mochung.domain import pages
from mochung.domain.components import ComponentData, parse_components, readable
from mochung.domain.guests import settings as guest_settings
from mochung.domain.guests.wedding import SEOUL, wedding_facts
from mochung.domain.models import Page, User
from mochung.domain.ports import FileStorage
from mochung.server import keys
from mochung.server.http.replies import filled, with_storage
from mochung.server.http.wire import HAS_TEXT, UtcDatetime, WireModel, endpoint, respond
from mochung.server.pages.views import MemorySeenViews, RedisSeenViews, SeenViews, ViewCounter, flush_every

routes = web.RouteTableDef()
# the owner's routes (all but the public page): tagged "pages", for a logged-in user
_owners_endpoint = functools.partial(endpoint, tag="pages", auth="user")
VISITOR_COOKIE = "mochung_visitor"
_VISITOR_IN_HEADER = re.compile(rf"(?:^|;)\s*{VISITOR_COOKIE}=([0-9a-f]{{32}})(?:;|\s*$)")
_YEAR_SECONDS = 365 * 24 * 3600
KOREA_OFFSET_SECONDS = 9 * 3600  # view days are Korean days (no DST there)


class RsvpSettings(WireModel):
    enabled: StrictBool = False
    deadline: UtcDatetime | None = Field(
        default=None,
        description="answers are refused from this instant on; a date alone (YYYY-MM-DD) means the end "
        "of that day in Korea",
    )
    ask_meal: StrictBool = False
    max_party_size: int = Field(
        default=guest_settings.DEFAULT_MAX_PARTY_SIZE, ge=1, le=guest_settings.MAX_PARTY_SIZE_LIMIT
    )

    @field_validator("deadline", mode="before")
    @classmethod
    def _date_means_end_of_day(cls, value: object) -> object:
        if value is not None and not isinstance(value, (str, dt.datetime)):
            # pydantic would read a number as seconds since 1970: the wire says a string (the
            # response model is built from stored datetimes)
            raise ValueError("deadline must be a date (YYYY-MM-DD) or a date-time string")
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                return value  # pydantic names the problem
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=SEOUL)
        return value


class GuestbookSettings(WireModel):
    enabled: StrictBool = False


class PageSettings(WireModel):
    """The guest features (PROTOCOL.md "Guests"); an update replaces the sections it names."""

    rsvp: RsvpSettings | None = None
    guestbook: GuestbookSettings | None = None


class PageSettingsOut(WireModel):
    rsvp: RsvpSettings
    guestbook: GuestbookSettings


# What ``pages.check_slug`` accepts: [a-z0-9-]{3,64} once trimmed and lowercased.
_SLUG_SCHEMA: JsonDict = {"pattern": r"^\s*[A-Za-z0-9-]{3,64}\s*$"}


class PublishBody(WireModel):
    title: str = Field(min_length=1, max_length=200, pattern=HAS_TEXT)
    slug: str | None = Field(default=None, max_length=64, json_schema_extra=_SLUG_SCHEMA)
    component_data: ComponentData = Field(default_factory=ComponentData)
    settings: PageSettings | None = None


class UpdateBody(WireModel):
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=HAS_TEXT)
    slug: str | None = Field(default=None, max_length=64, json_schema_extra=_SLUG_SCHEMA)
    component_data: ComponentData | None = None
    is_published: StrictBool | None = None
    settings: PageSettings | None = None


class PageResponse(WireModel):
    id: str
    user_id: str
    title: str
    slug: str
    markdown_path: str | None
    markdown_url: str | None
    component_data: dict[str, Any]
    is_published: bool
    version: int
    view_count: int
    plan: str | None = Field(default=None, description="the plan paid for this page (PortOne), if any")
    settings: PageSettingsOut
    created_at: UtcDatetime
    updated_at: UtcDatetime


class Directions(WireModel):
    """Links that open directions to the venue: app schemes, and web pages as fallbacks."""

    kakao: str
    kakao_web: str
    naver: str
    naver_web: str
    tmap: str


class PublicPageResponse(PageResponse):
    directions: Directions | None = Field(description="map-app links to the Location; null without a place")


def _settings_out(stored: object) -> PageSettingsOut:
    current = guest_settings.read_settings(stored)
    rsvp = current.rsvp
    return PageSettingsOut(
        rsvp=RsvpSettings(
            enabled=rsvp.enabled, deadline=rsvp.deadline, ask_meal=rsvp.ask_meal, max_party_size=rsvp.max_party_size
        ),
        guestbook=GuestbookSettings(enabled=current.guestbook.enabled),
    )


def _settings_in(body: PageSettings | None, stored: object) -> dict[str, Any] | None:
    """The stored settings after ``body`` (None: nothing to change)."""
    if body is None:
        return None
    rsvp = (
        guest_settings.check_rsvp(body.rsvp.enabled, body.rsvp.deadline, body.rsvp.ask_meal, body.rsvp.max_party_size)
        if body.rsvp is not None
        else None
    )
    guestbook = guest_settings.GuestbookSettings(enabled=body.guestbook.enabled) if body.guestbook else None
    return guest_settings.read_settings(stored).merged(rsvp, guestbook).stored()


def _directions(page: Page) -> Directions | None:
    links = wedding_facts(page.component_data).directions()
    if links is None:
        return None
    return Directions(
        kakao=links["kakao_app"],
        kakao_web=links["kakao_web"],
        naver=links["naver"],
        naver_web=links["naver_web"],
        tmap=links["tmap"],
    )


def _component_data(data: ComponentData) -> dict[str, Any]:
    """Validated, JSON-ready ``{"components": [...]}``; every component gets an id.

    Known types get their validated props; anything else a component carries (an unknown
    type's whole body, extra keys) is kept as it came, for the builder's newer versions.
    """
    raw = data.model_dump(mode="json")
    pages.check_component_data_size(raw)
    return {**raw, "components": parse_components(raw)}


async def _response(page: Page, storage: FileStorage) -> PageResponse:
    return filled(
        PageResponse,
        page,
        id=str(page.id),
        user_id=str(page.user_id),
        markdown_url=await storage.url(page.markdown_path) if page.markdown_path else None,
        component_data=readable(page.component_data),
        settings=_settings_out(page.settings),
    )


@routes.post("/api/page/publish")
@_owners_endpoint(
    summary="Publish a new invitation page",
    body=PublishBody,
    response=PageResponse,
    status=201,
    errors=(400, 409, 413, 503),
)
async def publish(request: web.Request, caller: User, body: PublishBody) -> web.Response:
    title = pages.check_title(body.title)
    slug = pages.check_slug(body.slug) if body.slug is not None else None
    storage = request.app[keys.STORAGE]
    settings = _settings_in(body.settings, {})
    page = await pages.publish_page(caller, title, slug, _component_data(body.component_data), storage, settings)
    return respond(await _response(page, storage), status=201)


@routes.get("/api/page/my-pages")
@_owners_endpoint(summary="My pages, newest first", response=list[PageResponse])
async def my_pages(request: web.Request, caller: User) -> web.Response:
    return respond(await with_storage(request, await pages.pages_of(caller), _response))


def _anonymous_visitor(request: web.Request) -> str:
    seen_as = f"{request.remote or ''}\n{request.headers.get('User-Agent', '')}".encode()
    return hmac.new(request.app[keys.JWT_KEY].encode(), seen_as, hashlib.sha256).hexdigest()[:32]


@routes.get("/api/page/public/{slug}")
@endpoint(
    summary="A published page, as guests see it; counts one view per visitor per day",
    tag="pages",
    response=PublicPageResponse,
    errors=(404,),
    extra={
        "description": f"The visitor is recognised by the `{VISITOR_COOKIE}` cookie, set on the first visit "
        "(without it, by a keyed hash of IP address and User-Agent). "
        "Served from a 2-second per-process cache, so a change can take that long to show."
    },
)
async def public(request: web.Request) -> web.Response:
    cache = request.app[keys.PUBLIC_PAGES]
    views = request.app[keys.VIEWS]
    slug = request.match_info["slug"].lower()

    async def load() -> dict[str, Any]:
        page = await pages.public_page(slug)
        response = await _response(page, request.app[keys.STORAGE])
        public = PublicPageResponse(**dict(response), directions=_directions(page))
        loaded = public.model_dump(mode="json", by_alias=True)
        loaded["viewCount"] += views.pending(str(page.id))  # counted here, not yet written
        return loaded

    cached = await cache.page_or_load(slug, load)
    # Read straight from the header: the generic cookie parser is a good share of this
    # route's cost, and only our own 32-hex-digit id matters here.
    found = _VISITOR_IN_HEADER.search(request.headers.get("Cookie", ""))
    visitor = found.group(1) if found else ""
    new_visitor = not visitor
    if new_visitor:
        # No cookie: the visitor is who they appear to be (IP + User-Agent, hashed with the
        # server's key), so cookieless requests count once per day, not once each.
        visitor = _anonymous_visitor(request)
    day_number = int((time.time() + KOREA_OFFSET_SECONDS) // 86400)  # cheaper than building a date
    view = (cached.page_id, visitor, day_number)
    if not cache.counted(view):
        # no database write here: a first view of the day is buffered (server.views)
        if await views.view(cached.page_id, visitor, day_number):
            cached.view_count += 1
        cache.remember_counted(view)
    response = web.Response(body=cached.body(), content_type="application/json")
    if new_visitor:
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=_YEAR_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=request.app[keys.SETTINGS].base_url.startswith("https://"),
        )
    return response


@routes.get("/api/page/{id}")
@_owners_endpoint(summary="One of my pages (any page for an admin)", response=PageResponse, errors=(404,))
async def get_page(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    page = await pages.owned_page(str(path_id), caller, admin_allowed=True)
    return respond(await _response(page, request.app[keys.STORAGE]))


async def own_page(page_id: uuid.UUID, caller: User) -> Page:
    """The caller's own page (not even an admin's reach), for a route's ``load``: 404 first."""
    return await pages.owned_page(str(page_id), caller, admin_allowed=False)


@routes.put("/api/page/{id}")
@_owners_endpoint(
    summary="Update my page; version + 1 and a fresh Markdown snapshot",
    body=UpdateBody,
    response=PageResponse,
    errors=(400, 404, 409, 413, 503),
    load=own_page,  # 404 before judging the body
)
async def update(request: web.Request, caller: User, path_id: uuid.UUID, found: Page, body: UpdateBody) -> web.Response:
    changes = pages.PageChanges(
        title=pages.check_title(body.title) if body.title is not None else None,
        slug=pages.check_slug(body.slug) if body.slug is not None else None,
        component_data=_component_data(body.component_data) if body.component_data is not None else None,
        is_published=body.is_published,
        settings=_settings_in(body.settings, found.settings),
    )
    storage = request.app[keys.STORAGE]
    page = await pages.update_page(str(path_id), caller, changes, storage)
    request.app[keys.PUBLIC_PAGES].forget(found.slug, page.slug)
    return respond(await _response(page, storage))


@routes.delete("/api/page/{id}")
@_owners_endpoint(summary="Delete a page and its Markdown snapshot", status=204, errors=(404, 503))
async def delete(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    slug = await pages.delete_page(str(path_id), caller, request.app[keys.STORAGE])
    request.app[keys.PUBLIC_PAGES].forget(slug)
    return web.Response(status=204)


async def view_counting(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context, after the database's and Redis's (so it stops before they close):
    the view counter, its flusher (every second), and the last flush on shutdown."""
    redis = app[keys.REDIS]
    seen: SeenViews = (
        RedisSeenViews(redis, app[keys.SETTINGS].broker_namespace) if redis is not None else MemorySeenViews()
    )
    counter = app[keys.VIEWS] = ViewCounter(seen)
    async with running(flush_every(counter), "view-flusher"):
        yield
    await counter.flush()
