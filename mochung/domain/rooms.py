"""Chat rooms: which session a socket's ``joinRoom`` opens, for whom, and in how few queries.

A room name is the user's: the same name given by two users opens two sessions (the second
stored under :func:`scoped_room`), so no user can take or block another's room. Admins
may open another user's room by its stored name, to watch it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from mochung.aio import Coalesced
from mochung.domain.errors import Forbidden, Invalid, NotFound
from mochung.domain.models import ChatSession, Page, User

ROOM_MAX_LENGTH = 200
AGENT_ROOM_PREFIX = "agent:"
_SCOPED_ROOM = re.compile(r"^[0-9a-f]{32}:")
ROOM_RULE = f"room must be a non-empty string of at most {ROOM_MAX_LENGTH} characters"


async def _users_page_id(user: User, wedding_id: uuid.UUID) -> uuid.UUID:
    """``wedding_id`` if it is one of the user's pages; for an admin, any page (their test
    room tries the agents on any invitation). Only asked whether it exists: a join needs
    no page's content, and reading one (its component JSON, its dates) was a third of a
    join's CPU."""
    owned: dict[str, Any] = {} if user.is_admin else {"user_id": user.id}
    if not await Page.filter(id=wedding_id, **owned).exists():
        raise NotFound("no such wedding page")
    return wedding_id


def scoped_room(user_id: uuid.UUID, room: str) -> str:
    """How ``room`` is stored for ``user_id`` when the plain name is not theirs to take:
    the owner's id in front, so no other user can ever produce it."""
    name = f"{user_id.hex}:{room}"
    if len(name) > ROOM_MAX_LENGTH:
        name = f"{user_id.hex}:#{hashlib.sha256(room.encode()).hexdigest()}"
    return name


def _plain_name_allowed(room: str) -> bool:
    """Names shaped like another user's scoped room or like the agent endpoint's rooms are
    never stored as given (so nobody can take them before their owner)."""
    return _SCOPED_ROOM.match(room) is None and not room.startswith(AGENT_ROOM_PREFIX)


RoomKey = tuple[uuid.UUID, str]  # (user id, the room's name as that user gave it)
NewRoom = tuple[uuid.UUID, str, uuid.UUID | None]  # … and the page of a session to create


@dataclass(frozen=True)
class JoinedRoom:
    session: ChatSession
    created: bool  # made by this join (or by the batch it went in): it has no messages yet


def _earliest(sessions: list[ChatSession | None]) -> ChatSession | None:
    found = [session for session in sessions if session is not None]
    return min(found, key=lambda session: session.created_at) if found else None


async def _own_sessions(wanted: list[RoomKey]) -> dict[RoomKey, ChatSession]:
    """Each user's session of each room, under its plain or its scoped name: one query
    for all of them (the oldest wins where a user has both)."""
    names = {(user_id, name) for user_id, room in wanted for name in (room, scoped_room(user_id, room))}
    rows = await ChatSession.filter(
        user_id__in={user_id for user_id, _ in wanted}, room__in={name for _, name in names}
    )
    stored = {(row.user_id, row.room): row for row in rows}
    found: dict[RoomKey, ChatSession] = {}
    for user_id, room in wanted:
        session = _earliest([stored.get((user_id, room)), stored.get((user_id, scoped_room(user_id, room)))])
        if session is not None:
            found[(user_id, room)] = session
    return found


async def _new_sessions(wanted: list[NewRoom]) -> dict[NewRoom, JoinedRoom]:
    """Sessions for many first joins in one INSERT (a name somebody has is skipped, not an
    error), then read back: a row with the id made here is new. A user whose plain name
    another user has gets the scoped name, one by one (rare)."""
    made: dict[NewRoom, ChatSession] = {}
    for key in wanted:
        user_id, room, page_id = key
        name = room if _plain_name_allowed(room) else scoped_room(user_id, room)
        made[key] = ChatSession(room=name, user_id=user_id, page_id=page_id)
    await ChatSession.bulk_create(made.values(), ignore_conflicts=True)
    found = await _own_sessions([(user_id, room) for user_id, room, _ in wanted])
    joined: dict[NewRoom, JoinedRoom] = {}
    for key, row in made.items():
        user_id, room, page_id = key
        session = found.get((user_id, room))
        joined[key] = (
            JoinedRoom(session, created=session.id == row.id)
            if session is not None
            else await _create_session(user_id, room, page_id)
        )
    return joined


async def _create_session(user_id: uuid.UUID, room: str, page_id: uuid.UUID | None) -> JoinedRoom:
    """A new session of the user named ``room``: stored under the plain name while nobody
    has it, under the user's scoped name otherwise (a concurrent first join of the same
    user finds the row the other one made)."""
    for name in ([room] if _plain_name_allowed(room) else []) + [scoped_room(user_id, room)]:
        try:
            return JoinedRoom(await ChatSession.create(room=name, user_id=user_id, page_id=page_id), created=True)
        except IntegrityError:  # taken by another user, or by this user's concurrent join
            session = (await _own_sessions([(user_id, room)])).get((user_id, room))
            if session is not None:
                return JoinedRoom(session, created=False)
    raise Invalid(ROOM_RULE, field="room")  # unreachable: the scoped name is this user's alone


class RoomJoins:
    """Joins in few queries: the look-ups made while one is in flight go together in the
    next (one SELECT for up to 500 joins), and so do the sessions they create (one INSERT).
    A reconnect storm after a deploy, thousands of sockets rejoining at once, then costs
    dozens of round trips instead of two or three per socket. One per gateway; a caller
    without one joins alone (:func:`join_session`)."""

    def __init__(self) -> None:
        self._find: Coalesced[RoomKey, ChatSession] = Coalesced(_own_sessions)
        self._make: Coalesced[NewRoom, JoinedRoom] = Coalesced(_new_sessions)

    async def join(
        self,
        user: User,
        room: str,
        wedding_id: uuid.UUID | None = None,
        before_create: Callable[[], Awaitable[None]] | None = None,
    ) -> JoinedRoom:
        """The session of ``room``, created for ``user`` on first use (``created``).

        Room names are resolved per user: a name another user already has gives this user
        a session of their own (stored under :func:`scoped_room`), so no user can take or
        block another's room. Admins may join another user's room by its stored name, to
        watch. ``wedding_id`` must name one of the user's pages; it becomes the session's
        page. ``before_create`` runs before a session is created (the gateway's rate limit).
        """
        if not room.strip() or len(room) > ROOM_MAX_LENGTH:
            raise Invalid(ROOM_RULE, field="room")
        page_id = await _users_page_id(user, wedding_id) if wedding_id is not None else None
        session = await self._find((user.id, room))
        if session is None and user.is_admin:
            session = await ChatSession.get_or_none(room=room)  # watching someone's room
        if session is None:
            if before_create is not None:
                await before_create()
            made = await self._make((user.id, room, page_id))
            assert made is not None  # _new_sessions answers every key
            return made
        if session.user_id != user.id and not user.is_admin:
            raise Forbidden("this room belongs to another user")
        if page_id is not None and session.user_id == user.id and session.page_id != page_id:
            session.page_id = page_id
            await session.save(update_fields=["page_id"])
        return JoinedRoom(session, created=False)


async def join_session(
    user: User,
    room: str,
    wedding_id: uuid.UUID | None = None,
    before_create: Callable[[], Awaitable[None]] | None = None,
) -> JoinedRoom:
    """One join, alone (see :meth:`RoomJoins.join`)."""
    return await RoomJoins().join(user, room, wedding_id, before_create)


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
            room = f"{AGENT_ROOM_PREFIX}{session_uuid}"
            session = await ChatSession.create(id=session_uuid, room=room, user_id=owner.id)
        except IntegrityError:
            session = await ChatSession.get(id=session_uuid)
    return session
