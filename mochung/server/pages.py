"""The invitation pages of PROTOCOL.md "Pages": publish, mine, public by slug, get, update, delete."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

from aiohttp import web
from pydantic import Field

from mochung.domain import pages
from mochung.domain.components import ComponentData, parse_components
from mochung.domain.models import Page, User
from mochung.domain.ports import FileStorage
from mochung.server import keys
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
VISITOR_COOKIE = "mochung_visitor"
_VISITOR_IN_HEADER = re.compile(rf"(?:^|;)\s*{VISITOR_COOKIE}=([0-9a-f]{{32}})(?:;|\s*$)")
_YEAR_SECONDS = 365 * 24 * 3600
KOREA_OFFSET_SECONDS = 9 * 3600  # view days are Korean days (no DST there)
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class PublishBody(WireModel):
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=64)
    component_data: ComponentData = Field(default_factory=ComponentData)


class UpdateBody(WireModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=64)
    component_data: ComponentData | None = None
    is_published: bool | None = None


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
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _component_data(data: ComponentData) -> dict[str, Any]:
    """Validated, JSON-ready ``{"components": [...]}``; every component gets an id.

    Known types get their validated props; anything else a component carries (an unknown
    type's whole body, extra keys) is kept as it came, for the builder's newer versions.
    """
    raw = data.model_dump(mode="json")
    pages.check_component_data_size(raw)
    return {**raw, "components": parse_components(raw)}


async def _response(page: Page, storage: FileStorage) -> PageResponse:
    return PageResponse(
        id=str(page.id),
        user_id=str(page.user_id),  # type: ignore[attr-defined]
        title=page.title,
        slug=page.slug,
        markdown_path=page.markdown_path,
        markdown_url=await storage.url(page.markdown_path) if page.markdown_path else None,
        component_data=page.component_data or {"components": []},
        is_published=page.is_published,
        version=page.version,
        view_count=page.view_count,
        plan=page.plan,
        created_at=page.created_at,
        updated_at=page.updated_at,
    )


@routes.post("/api/page/publish")
@endpoint(
    summary="Publish a new invitation page",
    tag="pages",
    auth="user",
    body=PublishBody,
    response=PageResponse,
    status=201,
    errors=(400, 409, 413, 503),
)
async def publish(request: web.Request, caller: User, body: PublishBody) -> web.Response:
    title = pages.check_title(body.title)
    slug = pages.check_slug(body.slug) if body.slug is not None else None
    storage = request.app[keys.STORAGE]
    page = await pages.publish_page(caller, title, slug, _component_data(body.component_data), storage)
    return respond(await _response(page, storage), status=201)


@routes.get("/api/page/my-pages")
@endpoint(summary="My pages, newest first", tag="pages", auth="user", response=list[PageResponse])
async def my_pages(request: web.Request, caller: User) -> web.Response:
    storage = request.app[keys.STORAGE]
    return respond([await _response(page, storage) for page in await pages.pages_of(caller)])


@routes.get("/api/page/public/{slug}")
@endpoint(
    summary="A published page, as guests see it; counts one view per visitor per day",
    tag="pages",
    response=PageResponse,
    errors=(404,),
    extra={
        "description": f"The visitor is recognised by the `{VISITOR_COOKIE}` cookie, set on the first visit. "
        "Served from a 2-second per-process cache, so a change can take that long to show."
    },
)
async def public(request: web.Request) -> web.Response:
    cache = request.app[keys.PUBLIC_PAGES]
    slug = request.match_info["slug"].lower()

    async def load() -> dict[str, Any]:
        page = await pages.public_page(slug)
        return (await _response(page, request.app[keys.STORAGE])).model_dump(mode="json", by_alias=True)

    cached = await cache.page_or_load(slug, load)
    # Read straight from the header: the generic cookie parser is a good share of this
    # route's cost, and only our own 32-hex-digit id matters here.
    found = _VISITOR_IN_HEADER.search(request.headers.get("Cookie", ""))
    visitor = found.group(1) if found else ""
    new_visitor = not visitor
    if new_visitor:
        visitor = uuid.uuid4().hex
    day_number = int((time.time() + KOREA_OFFSET_SECONDS) // 86400)  # cheaper than building a date
    view = (cached.page_id, visitor, day_number)
    if not cache.counted(view):
        day = dt.date.fromordinal(EPOCH_ORDINAL + day_number)
        cached.view_count = await pages.count_view(cached.page_id, visitor, day)
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
@endpoint(
    summary="One of my pages (any page for an admin)", tag="pages", auth="user", response=PageResponse, errors=(404,)
)
async def get_page(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    page = await pages.owned_page(str(path_id), caller, admin_allowed=True)
    return respond(await _response(page, request.app[keys.STORAGE]))


async def _own_page(page_id: uuid.UUID, caller: User) -> Page:
    return await pages.owned_page(str(page_id), caller, admin_allowed=False)


@routes.put("/api/page/{id}")
@endpoint(
    summary="Update my page; version + 1 and a fresh Markdown snapshot",
    tag="pages",
    auth="user",
    body=UpdateBody,
    response=PageResponse,
    errors=(400, 404, 409, 413, 503),
    load=_own_page,  # 404 before judging the body
)
async def update(request: web.Request, caller: User, path_id: uuid.UUID, found: Page, body: UpdateBody) -> web.Response:
    changes = pages.PageChanges(
        title=pages.check_title(body.title) if body.title is not None else None,
        slug=pages.check_slug(body.slug) if body.slug is not None else None,
        component_data=_component_data(body.component_data) if body.component_data is not None else None,
        is_published=body.is_published,
    )
    storage = request.app[keys.STORAGE]
    page = await pages.update_page(str(path_id), caller, changes, storage)
    request.app[keys.PUBLIC_PAGES].forget(found.slug, page.slug)
    return respond(await _response(page, storage))


@routes.delete("/api/page/{id}")
@endpoint(summary="Delete a page and its Markdown snapshot", tag="pages", auth="user", status=204, errors=(404, 503))
async def delete(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    slug = await pages.delete_page(str(path_id), caller, request.app[keys.STORAGE])
    request.app[keys.PUBLIC_PAGES].forget(slug)
    return web.Response(status=204)
