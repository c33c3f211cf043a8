"""Rows the admin tests look at, created straight through the models (the pages and chat
features own their own write paths; these tests only need the rows to exist)."""

from __future__ import annotations

import uuid
from typing import Any

from mochung.domain.models import AgentRun, ChatMessage, ChatSession, Page, Payment, RunStatus


async def page(user_id: str, *, published: bool = True, hidden: bool = False, title: str = "우리 결혼합니다") -> Page:
    return await Page.create(
        user_id=user_id,
        title=title,
        slug=f"page-{uuid.uuid4().hex[:10]}",
        component_data={"components": [{"type": "Cover", "id": "cover", "props": {"title": title}}]},
        is_published=published,
        is_hidden=hidden,
    )


async def session(user_id: str, page_id: Any = None) -> ChatSession:
    return await ChatSession.create(user_id=user_id, room=f"room-{uuid.uuid4().hex[:10]}", page_id=page_id)


async def turn(chat: ChatSession, text: str, answer: str, status: RunStatus = RunStatus.DONE) -> list[ChatMessage]:
    message_id = uuid.uuid4()
    asked = await ChatMessage.create(session=chat, message_id=message_id, role="user", content=text)
    answered = await ChatMessage.create(session=chat, message_id=message_id, role="assistant", content=answer)
    await AgentRun.create(message_id=message_id, session=chat, status=status)
    return [asked, answered]


async def payment(user_id: str, amount: int = 9900, **fields: Any) -> Payment:
    return await Payment.create(
        user_id=user_id,
        plan_id="basic",
        merchant_uid=f"mc-{uuid.uuid4().hex}",
        amount=amount,
        customer_name="김신랑",
        **fields,
    )
