"""Admin moderation: pages (list by status, hide with a reason, unhide) and chat messages
(list by room/session, hide with a reason, unhide)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from mochung.domain import moderation
from mochung.domain.components import readable
from mochung.domain.listing import Slice
from mochung.domain.models import ChatMessage, Page, User
from mochung.server import keys
from mochung.server.admin.kit import AdminRoutes, acting_as, mapped
from mochung.server.http.listing import SliceQuery
from mochung.server.http.replies import filled
from mochung.server.http.wire import UtcDatetime, WireModel

routes = AdminRoutes()


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


def _components(page: Page) -> dict[str, Any]:
    """``componentTypes`` and ``componentData`` of :class:`AdminPage`: both empty when the
    stored data is not an object."""
    data = page.component_data
    if not isinstance(data, dict):
        return {"component_types": [], "component_data": {}}
    components = data.get("components")
    if not isinstance(components, list):
        components = []
    types = [str(c.get("type")) for c in components if isinstance(c, dict) and c.get("type")]
    return {"component_types": types, "component_data": readable(data)}


def page_out(page: Page) -> AdminPage:
    return filled(AdminPage, page, user_email=page.user.email, **_components(page))


def message_out(message: ChatMessage) -> AdminChatMessage:
    session, component = message.session, message.component
    return filled(
        AdminChatMessage,
        message,
        session_id=session.id,
        room=session.room,
        user_id=session.user_id,
        component=component if isinstance(component, dict) else None,
    )


@routes.listing(
    "/api/admin/pages", PagesQuery, AdminPage, summary="Pages by status (published, draft, hidden, all), newest first"
)
async def list_pages(request: web.Request, query: PagesQuery) -> Slice[AdminPage]:
    return mapped(await moderation.list_pages(query.status, query.limit, query.cursor), page_out)


async def _moderate_page(request: web.Request, caller: User, page_id: uuid.UUID, reason: str | None) -> AdminPage:
    storage = request.app[keys.STORAGE]
    if reason is None:
        page = await moderation.unhide_page(caller, page_id, storage)
    else:
        page = await moderation.hide_page(caller, page_id, reason, storage)
    # The public route keeps pages for a moment; this process's copy goes at once, so the
    # moderator sees the link answer 404 right away (other processes within their 2 s TTL).
    request.app[keys.PUBLIC_PAGES].forget(page.slug)
    return page_out(page)


routes.moderated(
    "/api/admin/pages",
    AdminPage,
    _moderate_page,
    ("Hide a page: its public link answers 404", "Make a hidden page public again"),
)


@routes.listing(
    "/api/admin/chats", ChatsQuery, AdminChatMessage, summary="Chat messages by room or session, newest first"
)
async def list_chats(request: web.Request, query: ChatsQuery) -> Slice[AdminChatMessage]:
    found = await moderation.list_messages(query.room, query.session_id, query.hidden, query.limit, query.cursor)
    return mapped(found, message_out)


routes.moderated(
    "/api/admin/chats",
    AdminChatMessage,
    acting_as(moderation.hide_message, moderation.unhide_message, message_out),
    ("Hide a chat message: it leaves roomHistory and the agents' context", "Show a hidden chat message again"),
)
