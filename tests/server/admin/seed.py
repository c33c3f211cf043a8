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


async def member(email: str | None = None, name: str | None = None) -> dict[str, Any]:
    """An account that never logs in (no password hashing: the slow part of registering),
    shaped like the register response the tests read ``id`` and ``email`` from."""
    from mochung.domain.models import User

    email = email or f"member-{uuid.uuid4().hex[:8]}@example.com"
    user = await User.create(email=email, email_key=email.lower(), password_hash="!", name=name)
    return {"id": str(user.id), "email": user.email, "name": user.name}


async def signed_in(client: Any, *, admin: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """An account and the bearer headers of a token the app issued for it, without the
    password round trip (argon2 is slow on purpose; the auth tests cover login)."""
    from mochung.domain.models import User
    from mochung.domain.security import issue_token
    from mochung.server import keys

    account = await member()
    await User.filter(id=account["id"]).update(is_admin=admin)
    app = client.server.app
    token = issue_token(account["id"], account["email"], app[keys.JWT_KEY], app[keys.SETTINGS].jwt_expires_seconds)
    return account, {"Authorization": f"Bearer {token}"}
