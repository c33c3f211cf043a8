"""Admin moderation: pages (list by status, hide with a reason, unhide) and chat messages
(list by room/session, hide with a reason, unhide)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from mochung.domain import moderation
from mochung.domain.components import readable
from mochung.domain.models import ChatMessage, Page, User
from mochung.server import keys
from mochung.server.http.listing import Paginated, SliceQuery, respond_slice
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

routes = web.RouteTableDef()
TAG = "admin"


class HideBody(WireModel):
    reason: str = Field(min_length=1, max_length=moderation.MAX_REASON)


class AdminPage(WireModel):
    id: uuid.UUID
    user_id: uuid.UUID
    user_email: str
    title: str
    slug: str
    is_published: bool
    is_hidden: bool
    hidden_reason: str | None
    version: int
    view_count: int
    component_types: list[str] = Field(description="the page's component types, in order")
    component_data: dict[str, Any] = Field(description="the page as its owner sees it, to judge it in context")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class PagesQuery(SliceQuery):
    status: Literal["published", "draft", "hidden", "all"] = "all"


class AdminChatMessage(WireModel):
    id: uuid.UUID
    session_id: uuid.UUID
    room: str
    user_id: uuid.UUID = Field(description="the session's owner")
    message_id: uuid.UUID = Field(description="the turn: the user's message id, shared by its answers")
    role: str
    type: str
    content: str | None
    component: dict[str, Any] | None
    is_hidden: bool
    hidden_reason: str | None
    created_at: UtcDatetime


class ChatsQuery(SliceQuery):
    room: str | None = Field(default=None, max_length=200)
    session_id: uuid.UUID | None = None
    hidden: bool | None = Field(default=None, description="true: only hidden; false: only visible")


def _component_types(page: Page) -> list[str]:
    components = (page.component_data or {}).get("components") if isinstance(page.component_data, dict) else None
    if not isinstance(components, list):
        return []
    return [str(c.get("type")) for c in components if isinstance(c, dict) and c.get("type")]


def page_out(page: Page) -> AdminPage:
    return AdminPage(
        id=page.id,
        user_id=page.user.id,
        user_email=page.user.email,
        title=page.title,
        slug=page.slug,
        is_published=page.is_published,
        is_hidden=page.is_hidden,
        hidden_reason=page.hidden_reason,
        version=page.version,
        view_count=page.view_count,
        component_types=_component_types(page),
        component_data=readable(page.component_data) if isinstance(page.component_data, dict) else {},
        created_at=page.created_at,
        updated_at=page.updated_at,
    )


def message_out(message: ChatMessage) -> AdminChatMessage:
    return AdminChatMessage(
        id=message.id,
        session_id=message.session.id,
        room=message.session.room,
        user_id=message.session.user_id,
        message_id=message.message_id,
        role=message.role,
        type=message.type,
        content=message.content,
        component=message.component if isinstance(message.component, dict) else None,
        is_hidden=message.is_hidden,
        hidden_reason=message.hidden_reason,
        created_at=message.created_at,
    )


def _forget_public_copy(request: web.Request, page: Page) -> None:
    """The public route keeps pages for a moment; this process's copy goes at once, so the
    moderator sees the link answer 404 right away (other processes within their 2 s TTL)."""
    request.app[keys.PUBLIC_PAGES].forget(page.slug)


@routes.get("/api/admin/pages")
@endpoint(
    summary="Pages by status (published, draft, hidden, all), newest first",
    tag=TAG,
    auth="admin",
    query=PagesQuery,
    response=Paginated[AdminPage],
    errors=(400,),
)
async def list_pages(request: web.Request, query: PagesQuery) -> web.Response:
    found = await moderation.list_pages(query.status, query.limit, query.cursor)
    return respond_slice(found, Paginated[AdminPage], page_out)


@routes.post("/api/admin/pages/{id}/hide")
@endpoint(
    summary="Hide a page: its public link answers 404",
    tag=TAG,
    auth="admin",
    body=HideBody,
    response=AdminPage,
    errors=(400, 404),
)
async def hide_page(request: web.Request, caller: User, path_id: uuid.UUID, body: HideBody) -> web.Response:
    page = await moderation.hide_page(caller, path_id, body.reason, request.app[keys.STORAGE])
    _forget_public_copy(request, page)
    return respond(page_out(page))


@routes.post("/api/admin/pages/{id}/unhide")
@endpoint(summary="Make a hidden page public again", tag=TAG, auth="admin", response=AdminPage, errors=(404,))
async def unhide_page(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    page = await moderation.unhide_page(caller, path_id, request.app[keys.STORAGE])
    _forget_public_copy(request, page)
    return respond(page_out(page))


@routes.get("/api/admin/chats")
@endpoint(
    summary="Chat messages by room or session, newest first",
    tag=TAG,
    auth="admin",
    query=ChatsQuery,
    response=Paginated[AdminChatMessage],
    errors=(400,),
)
async def list_chats(request: web.Request, query: ChatsQuery) -> web.Response:
    found = await moderation.list_messages(query.room, query.session_id, query.hidden, query.limit, query.cursor)
    return respond_slice(found, Paginated[AdminChatMessage], message_out)


@routes.post("/api/admin/chats/{id}/hide")
@endpoint(
    summary="Hide a chat message: it leaves roomHistory and the agents' context",
    tag=TAG,
    auth="admin",
    body=HideBody,
    response=AdminChatMessage,
    errors=(400, 404),
)
async def hide_chat(request: web.Request, caller: User, path_id: uuid.UUID, body: HideBody) -> web.Response:
    return respond(message_out(await moderation.hide_message(caller, path_id, body.reason)))


@routes.post("/api/admin/chats/{id}/unhide")
@endpoint(summary="Show a hidden chat message again", tag=TAG, auth="admin", response=AdminChatMessage, errors=(404,))
async def unhide_chat(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    return respond(message_out(await moderation.unhide_message(caller, path_id)))
