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
from typing import Any, TypeVar

from tortoise.expressions import F
from tortoise.models import Model
from tortoise.queryset import UpdateQuery
from tortoise.transactions import in_transaction

from mochung.domain import audit
from mochung.domain.errors import Invalid, NotFound
from mochung.domain.guests.briefing import guest_briefing
from mochung.domain.models import AgentRun, ChatMessage, ChatSession, Page, RunStatus, User

HISTORY_LIMIT = 50
FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
# the rule's message, also what the gateway answers to a payload of the wrong type
TEXT_REQUIRED = "text must be a non-empty string"
M = TypeVar("M", bound=Model)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_text(text: str, max_chars: int) -> str:
    if not text.strip():
        raise Invalid(TEXT_REQUIRED, field="text")
    if len(text) > max_chars:
        raise Invalid(f"text must be at most {max_chars} characters", field="text")
    return text


def now_ms() -> int:
    """Epoch milliseconds: the ``timestamp`` of every chat event, on the wire and the bus."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class AcceptedMessage:
    message: ChatMessage
    run: AgentRun


async def accept_user_message(
    session: ChatSession | uuid.UUID, text: str, posted_by: User | None = None
) -> AcceptedMessage:
    """Store the user's message and its queued run together: never lost after this point.
    (The session's ``last_activity_at`` moves when the turn is answered or ends, keeping
    this path — the one a user waits on — to two inserts.) ``posted_by``: an admin or
    service posting into the session through the agent endpoint, audited in the same
    transaction."""
    message_uuid = uuid.uuid4()
    session_id = session.id if isinstance(session, ChatSession) else session
    async with in_transaction() as connection:
        message = await ChatMessage.create(
            id=message_uuid,
            session_id=session_id,
            message_id=message_uuid,
            role="user",
            type="text",
            content=text,
            using_db=connection,
        )
        run = await AgentRun.create(message_id=message_uuid, session_id=session_id, using_db=connection)
        if posted_by is not None:
            details = {"messageId": str(message_uuid), "chars": len(text)}
            await audit.record(posted_by.id, "chat.agent_message", f"session:{session_id}", details, connection)
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
    guests: dict[str, Any] | None = None  # the page's RSVP summary and latest guestbook entries


async def load_turn(message_id: uuid.UUID, history_limit: int) -> LoadedTurn | None:
    """Two queries: the message with its session and page (joined), then the history; with a
    page, two more for what the agents know of its guests (``guests.briefing``)."""
    user_message = (
        await ChatMessage.filter(message_id=message_id, role="user", position=0).select_related("session__page").first()
    )
    if user_message is None:
        return None
    session = user_message.session
    page = session.page if session.page_id else None
    earlier = (
        await ChatMessage.filter(session_id=session.id, is_hidden=False, created_at__lt=user_message.created_at)
        .order_by("-created_at", "-position")
        .limit(history_limit)
    )
    history = [message_as_context(message) for message in reversed(earlier)]
    guests = await guest_briefing(page) if page is not None else None
    return LoadedTurn(session=session, user_message=user_message, page=page, history=history, guests=guests)


def wedding_context(page: Page | None, guests: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The page as the agents read it; ``guests`` (``guests.briefing``) rides along."""
    if page is None:
        return None
    context = {"page_id": str(page.id), "title": page.title, "slug": page.slug, "componentData": page.component_data}
    if guests is not None:
        context["guests"] = guests
    return context


@dataclass(frozen=True)
class RunStart:
    run: AgentRun | None  # None: do not run the turn
    cancelled_now: bool = False  # the run was cancelled by this call (the client is still waiting)


async def start_run(message_id: uuid.UUID) -> RunStart:
    """Mark the run running (a redelivery of a running run starts it again). The turn is
    not run when it is already finished, or when a cancel was asked for in the meantime.
    One statement when the turn starts (the usual case)."""
    pending = (RunStatus.QUEUED, RunStatus.RUNNING)
    started = await _update_returning(
        AgentRun.filter(message_id=message_id, status__in=pending, cancel_requested=False).update(
            status=RunStatus.RUNNING, attempts=F("attempts") + 1, started_at=_now()
        ),
        AgentRun,
    )
    if started:
        return RunStart(started[0])
    cancelled = await AgentRun.filter(message_id=message_id, status__in=pending, cancel_requested=True).update(
        status=RunStatus.CANCELLED, finished_at=_now(), error="cancelled"
    )
    return RunStart(await AgentRun.get(message_id=message_id), cancelled_now=True) if cancelled else RunStart(None)


async def _update_returning(query: UpdateQuery, model: type[M]) -> list[M]:
    """Run ``query`` (a ``filter(…).update(…)``) as one ``UPDATE … RETURNING`` statement and
    return the rows it changed as they are now (Tortoise's update returns only a count;
    SQLite and PostgreSQL both have RETURNING)."""
    query._choose_db_if_not_chosen(True)
    query._make_query()
    builder: Any = query.query  # the dialect's builder (returning() is not on the base class)
    sql, values = builder.returning("*").get_parameterized_sql()
    rows = await query._db.execute_query_dict(sql, values)
    return [model._init_from_db(**row) for row in rows]


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
            ChatMessage(
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
        if stored:
            await ChatMessage.bulk_create(stored)  # one statement for every answer
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


# -- recovery: runs whose worker is gone (see mochung.tasks.recovery) ---------------------
PENDING = (RunStatus.QUEUED, RunStatus.RUNNING)
MAX_ATTEMPTS = 4  # the first delivery and three more (the actor's retries, or recovery's)


async def pending_runs(limit: int = 1000) -> list[AgentRun]:
    """Runs not finished yet (queued or running), oldest first."""
    return await AgentRun.filter(status__in=PENDING).order_by("created_at").limit(limit)


async def end_orphaned_run(message_id: uuid.UUID, status: RunStatus, reason: str) -> AgentRun | None:
    """End a queued or running run that no worker holds any more (failed, or cancelled when
    a cancel was asked); the run when this call ended it, None when it had finished."""
    ended = await AgentRun.filter(message_id=message_id, status__in=PENDING).update(
        status=status, error=reason, finished_at=_now()
    )
    if not ended:
        return None
    run = await AgentRun.get(message_id=message_id)
    await ChatSession.filter(id=run.session_id).update(last_activity_at=_now())
    return run
