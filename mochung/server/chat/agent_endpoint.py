"""POST /api/agent/chat: the seed's agent-manager entry point, so another backend can hand
a turn to the agents. It enqueues the same actor as the Socket.IO ``chat-message``; the
answer streams on ``chat:{session_id}`` to any socket in that session's room."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from mochung.domain import chat, rooms
from mochung.domain.models import ChatSession, Page, User
from mochung.server import keys
from mochung.server.chat.handoff import hand_off
from mochung.server.chat.payloads import parse_uuid
from mochung.server.http.wire import HAS_TEXT, RefusesNul, endpoint, respond

routes = web.RouteTableDef()


class AgentChatBody(RefusesNul):
    """snake_case like the seed's agent manager (PROTOCOL.md "Agent endpoint")."""

    model_config = ConfigDict(extra="ignore")
    message: str = Field(min_length=1, pattern=HAS_TEXT)
    session_id: uuid.UUID
    wedding_context: dict[str, Any] | None = None


class AgentChatAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message_id: str


async def _link_page(session_id: uuid.UUID, wedding_context: dict[str, Any] | None) -> None:
    """A wedding_context naming an existing page (``page_id``) becomes the session's page."""
    if not wedding_context:
        return
    page_id = wedding_context.get("page_id") or wedding_context.get("wedding_id")
    if page_id is None:
        return
    page = await Page.get_or_none(id=parse_uuid(page_id, "wedding_context.page_id"))
    if page is not None:
        await ChatSession.filter(id=session_id).update(page_id=page.id)


@routes.post("/api/agent/chat")
@endpoint(
    summary="Hand a chat turn to the agents (agent-manager entry point)",
    tag="chat",
    auth="admin",
    body=AgentChatBody,
    response=AgentChatAccepted,
    status=202,
    errors=(400, 429, 503),  # and 401/403, as for every admin route (docs.py)
)
async def agent_chat(request: web.Request, caller: User, body: AgentChatBody) -> web.Response:
    settings = request.app[keys.SETTINGS]
    text = chat.check_text(body.message, settings.chat_max_chars)
    session = await rooms.session_for_agent(body.session_id, caller)
    await _link_page(session.id, body.wedding_context)
    message_id = await hand_off(request.app[keys.CHAT], request.app[keys.SOCKETIO], session.id, text, posted_by=caller)
    return respond(AgentChatAccepted(message_id=str(message_id)), status=202)
