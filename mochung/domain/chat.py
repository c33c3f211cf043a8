"""Chat sessions, messages and agent runs: the business rules of a chat turn.

A turn is identified by ``message_id``, the id of the user's message. Its answers carry
the same ``message_id`` with ``position`` 0, 1, … and the unique key
(message_id, role, position) makes storing them idempotent. The run row
(``AgentRun``, one per ``message_id``) moves queued → running → done | failed | cancelled;
every transition is a conditional UPDATE, so a redelivered or concurrent actor call can
never finish a turn twice.

Used by the Socket.IO gateway (web loop), the agent endpoint, the chat actor (Dramatiq's
loop, with its own database context bound) and the admin screens (``room_history``).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from mochung.domain.errors import Forbidden, Invalid, NotFound
from mochung.domain.models import AgentRun, ChatMessage, ChatSession, Page, RunStatus, User

ROOM_MAX_LENGTH = 200
HISTORY_LIMIT = 50
FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
# the rules' messages, also what the gateway answers to a payload of the wrong type
TEXT_REQUIRED = "text must be a non-empty string"
ROOM_RULE = f"room must be a non-empty string of at most {ROOM_MAX_LENGTH} characters"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_text(text: str, max_chars: int) -> str:
    if not text.strip():
        raise Invalid(TEXT_REQUIRED, field="text")
    if len(text) > max_chars:
        raise Invalid(f"text must be at most {max_chars} characters", field="text")
    return text


async def _users_page(user: User, wedding_id: uuid.UUID) -> Page:
    page = await Page.get_or_none(id=wedding_id, user_id=user.id)
    if page is None:
        raise NotFound("no such wedding page")
    return page


async def join_session(user: User, room: str, wedding_id: uuid.UUID | None = None) -> ChatSession:
    """The session of ``room``, created for ``user`` on first use.

    A room belongs to the user who opened it; admins may join any room (to watch).
    ``wedding_id`` must name one of the user's pages; it becomes the session's page.
    """
    if not room.strip() or len(room) > ROOM_MAX_LENGTH:
        raise Invalid(ROOM_RULE, field="room")
    page = await _users_page(user, wedding_id) if wedding_id is not None else None
    session = await ChatSession.get_or_none(room=room)
    if session is None:
        try:
            return await ChatSession.create(room=room, user_id=user.id, page_id=page.id if page else None)
        except IntegrityError:  # a concurrent first join of the same room
            session = await ChatSession.get(room=room)
    if session.user_id != user.id and not user.is_admin:
        raise Forbidden("this room belongs to another user")
    if page is not None and session.user_id == user.id and session.page_id != page.id:
        session.page_id = page.id
        await session.save(update_fields=["page_id"])
    return session


async def users_session(user: User, session_id: uuid.UUID) -> ChatSession:
    """The user's own session (another user's session is "not found")."""
    session = await ChatSession.get_or_none(id=session_id)
    if session is None or session.user_id != user.id:
        raise NotFound("no such chat session")
    return session


async def session_for_agent(session_uuid: uuid.UUID, owner: User) -> ChatSession:
    """The session named by the agent endpoint, created for ``owner`` if it does not exist."""
    session = await ChatSession.get_or_none(id=session_uuid)
    if session is None:
        try:
            session = await ChatSession.create(id=session_uuid, room=f"agent:{session_uuid}", user_id=owner.id)
        except IntegrityError:
            session = await ChatSession.get(id=session_uuid)
    return session


def now_ms() -> int:
    """Epoch milliseconds: the ``timestamp`` of every chat event, on the wire and the bus."""
    return int(time.time() * 1000)

@dataclass(frozen=True)
class AcceptedMessage:
    message: ChatMessage
    run: AgentRun


async def accept_user_message(session: ChatSession | uuid.UUID, text: str) -> AcceptedMessage:
    """Store the user's message and its queued run together: never lost after this point.
    (The session's ``last_activity_at`` moves when the turn is answered or ends, keeping
    this path — the one a user waits on — to two inserts.)"""
    message_uuid = uuid.uuid4()
    session_id = session.id if isinstance(session, ChatSession) else session
    async with in_transaction():
        message = await ChatMessage.create(
            id=message_uuid, session_id=session_id, message_id=message_uuid, role="user", type="text", content=text
        )
        run = await AgentRun.create(message_id=message_uuid, session_id=session_id)
    return AcceptedMessage(message, run)


async def room_history(session: ChatSession | uuid.UUID | str, limit: int = HISTORY_LIMIT) -> list[ChatMessage]:
    """The last ``limit`` visible messages of a session, oldest first (hidden ones excluded)."""
    session_id = session.id if isinstance(session, ChatSession) else session
    newest = (
        await ChatMessage.filter(session_id=session_id, is_hidden=False)
        .order_by("-created_at", "-position")
        .limit(limit)
    )
    return list(reversed(newest))


def message_as_context(message: ChatMessage) -> dict[str, str]:
    if message.type == "component" and message.component is not None:
        kind = message.component.get("type", "component") if isinstance(message.component, dict) else "component"
        content = message.content or f"[{kind} component]"
    else:
        content = message.content or ""
    return {"role": message.role, "content": content}


@dataclass(frozen=True)
class LoadedTurn:
    """Everything the actor needs to run a turn, loaded from the database."""

    session: ChatSession
    user_message: ChatMessage
    page: Page | None
    history: list[dict[str, str]]


async def load_turn(message_id: uuid.UUID, history_limit: int) -> LoadedTurn | None:
    user_message = await ChatMessage.get_or_none(message_id=message_id, role="user", position=0)
    if user_message is None:
        return None
    session = await ChatSession.get(id=user_message.session_id)
    page = await Page.get_or_none(id=session.page_id) if session.page_id else None
    earlier = (
        await ChatMessage.filter(session_id=session.id, is_hidden=False, created_at__lt=user_message.created_at)
        .order_by("-created_at", "-position")
        .limit(history_limit)
    )
    history = [message_as_context(message) for message in reversed(earlier)]
    return LoadedTurn(session=session, user_message=user_message, page=page, history=history)


def wedding_context(page: Page | None) -> dict[str, Any] | None:
    if page is None:
        return None
    return {"page_id": str(page.id), "title": page.title, "slug": page.slug, "componentData": page.component_data}


@dataclass(frozen=True)
class RunStart:
    run: AgentRun | None  # None: do not run the turn
    cancelled_now: bool = False  # the run was cancelled by this call (the client is still waiting)


async def start_run(message_id: uuid.UUID) -> RunStart:
    """Mark the run running (a redelivery of a running run starts it again). The turn is
    not run when it is already finished, or when a cancel was asked for in the meantime."""
    pending = (RunStatus.QUEUED, RunStatus.RUNNING)
    cancelled = await AgentRun.filter(message_id=message_id, status__in=pending, cancel_requested=True).update(
        status=RunStatus.CANCELLED, finished_at=_now(), error="cancelled"
    )
    if cancelled:
        return RunStart(await AgentRun.get(message_id=message_id), cancelled_now=True)
    started = await AgentRun.filter(message_id=message_id, status__in=pending).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1, started_at=_now()
    )
    return RunStart(await AgentRun.get(message_id=message_id) if started else None)


@dataclass(frozen=True)
class Answer:
    type: str  # text | component
    content: str | None
    component: dict[str, Any] | None


async def finish_run(
    run: AgentRun, answers: list[Answer], trajectory: list[Any], timings: dict[str, Any]
) -> list[ChatMessage] | None:
    """Store the answers and mark the run done, atomically; None when another attempt
    already finished — then nothing may be sent. (A cancel that arrives after the last
    event is too late: the answer is complete.)"""
    async with in_transaction():
        finished = await AgentRun.filter(id=run.id, status=RunStatus.RUNNING).update(
            status=RunStatus.DONE, trajectory=trajectory, timings=timings, finished_at=_now(), error=None
        )
        if not finished:
            return None
        stored = [
            await ChatMessage.create(
                session_id=run.session_id,
                message_id=run.message_id,
                role="assistant",
                type=answer.type,
                position=position,
                content=answer.content,
                component=answer.component,
            )
            for position, answer in enumerate(answers)
        ]
        await ChatSession.filter(id=run.session_id).update(last_activity_at=_now())
    return stored


async def end_run(
    run: AgentRun, status: RunStatus, error: str | None, trajectory: list[Any], timings: dict[str, Any]
) -> bool:
    """Mark a running run failed or cancelled; False when it had already finished."""
    ended = await AgentRun.filter(id=run.id, status=RunStatus.RUNNING).update(
        status=status, error=error, trajectory=trajectory, timings=timings, finished_at=_now()
    )
    if ended:
        await ChatSession.filter(id=run.session_id).update(last_activity_at=_now())
    return bool(ended)


async def request_cancel(user: User, message_id: uuid.UUID) -> tuple[AgentRun, bool]:
    """Ask the run of ``message_id`` (the user's own, or any for an admin) to stop.
    A queued run is cancelled at once (the second value is then True); a running one
    stops at the actor's next check, and the actor says so."""
    run = await AgentRun.get_or_none(message_id=message_id)
    if run is None:
        raise NotFound("no such message")
    session = await ChatSession.get(id=run.session_id)
    if session.user_id != user.id and not user.is_admin:
        raise NotFound("no such message")
    if run.status in FINISHED:
        raise Invalid(f"the turn is already {run.status.value}", field="message_id")
    await AgentRun.filter(id=run.id).update(cancel_requested=True)
    cancelled_now = await AgentRun.filter(id=run.id, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, finished_at=_now(), error="cancelled"
    )
    return await AgentRun.get(id=run.id), bool(cancelled_now)


async def abandon_run(message_id: uuid.UUID, reason: str) -> None:
    """A queued run that could not be handed to the workers."""
    await AgentRun.filter(message_id=message_id, status=RunStatus.QUEUED).update(
        status=RunStatus.FAILED, error=reason, finished_at=_now()
    )


async def run_status(message_id: uuid.UUID) -> RunStatus | None:
    run = await AgentRun.get_or_none(message_id=message_id)
    return run.status if run else None


async def answered(message_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these turns have stored answers."""
    rows = await ChatMessage.filter(message_id__in=message_ids, role="assistant").values_list("message_id", flat=True)
    return {uuid.UUID(str(value)) for value in rows}
