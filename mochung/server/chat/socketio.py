"""The Socket.IO gateway (PROTOCOL.md "Socket.IO"): the same handlers on namespaces ``/``
and ``/chat``, served at paths ``/socket.io`` and ``/chat``.

Handlers are thin: check the payload, call ``mochung.domain.chat``, hand the turn to the
workers, emit. One socket's events are handled in the order they were sent.

What PROTOCOL.md leaves open, decided here (frontend-facing):
- ``message-error`` is ``{error, details, message_id?}``; ``error`` is a short code:
  ``invalid_payload`` (not a JSON object), ``invalid`` (a field; ``details`` says which),
  ``forbidden`` (another user's room, or a ``userId`` that is not the token's user),
  ``not_found`` (another user's session, page or message), ``rate_limited`` (with
  ``retry_after`` seconds), ``unavailable`` (the queue is down; the message is kept),
  ``cancelled`` / ``agent_error`` (the turn ended without an answer), ``internal``.
  The connection always stays up.
- Resume: ``joinRoom`` may carry ``resume: {message_id, after_seq}``. The server sends
  ``session-info``, ``roomHistory``, then the turn's chunks with ``seq > after_seq`` that
  the client missed, then the live ones — none twice. If the answer was stored meanwhile
  it is in ``roomHistory`` and nothing of that turn is replayed.
- ``roomHistory`` items also carry ``timestamp`` (epoch ms) beside ``created_at`` (ISO-8601 Z);
  ``newMessage`` also carries the stored message's ``id``.
- ``chat-message`` without ``session_id`` uses the room joined on this socket (``room``).
  A ``wedding_id`` on ``joinRoom`` or ``chat-message`` must be one of the user's pages; it
  becomes the session's page (the agents' wedding context).
- ``component-message``: the suggestion's ``value`` (``component.value`` or
  ``component.props.value``) is the text of the turn.
- ``cancel-message`` of a queued turn cancels it at once; of a running turn, the actor
  stops at its next check. Either way the room gets ``message-error`` ``cancelled``.
- An admin may join any room to watch (they receive everything) but not talk in it.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import socketio
from aiohttp import web

from mochung.domain import chat, errors, users
from mochung.domain.models import ChatMessage, ChatSession, RunStatus, User
from mochung.server import keys
from mochung.server.http.wire import iso_utc

log = logging.getLogger("mochung.gateway")
NAMESPACES = ("/", "/chat")
UNAUTHORIZED = "Unauthorized"
Handler = Callable[[str, Any], Awaitable[None]]
_ERROR_CODES: list[tuple[type[errors.DomainError], str]] = [
    (errors.Invalid, "invalid"),
    (errors.Unauthenticated, "unauthorized"),
    (errors.Forbidden, "forbidden"),
    (errors.NotFound, "not_found"),
    (errors.RateLimited, "rate_limited"),
    (errors.DependencyDown, "unavailable"),
]


class BadPayload(Exception):
    pass


@dataclass
class JoinedSession:
    session_id: uuid.UUID
    owner_id: uuid.UUID
    room: str


@dataclass
class Client:
    user: User
    joined: dict[str, JoinedSession] = field(default_factory=dict)  # room → session

    def joined_session(self, session_id: uuid.UUID) -> JoinedSession | None:
        return next((s for s in self.joined.values() if s.session_id == session_id), None)


def now_ms() -> int:
    return int(time.time() * 1000)


def history_item(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "message_id": str(message.message_id),
        "role": message.role,
        "type": message.type,
        "content": message.content,
        "component": message.component,
        "created_at": iso_utc(message.created_at),
        "timestamp": int(message.created_at.timestamp() * 1000),
    }


# Events that read or change a user's chats; ping and health do neither.
ACTING_EVENTS = frozenset({"joinRoom", "chat-message", "component-message", "cancel-message"})


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"].strip():
        return auth["token"].strip().removeprefix("Bearer ").strip()
    query = parse_qs(environ.get("QUERY_STRING", "")).get("token")
    if query and query[0].strip():
        return query[0].strip()
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _payload(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadPayload("the payload must be a JSON object")
    return data


class Gateway:
    def __init__(self, app: web.Application, sio: socketio.AsyncServer) -> None:
        self.app = app
        self.sio = sio
        self.clients: dict[tuple[str, str], Client] = {}

    def register(self) -> None:
        handlers: dict[str, Handler] = {
            "joinRoom": self.join_room,
            "leaveRoom": self.leave_room,
            "chat-message": self.chat_message,
            "component-message": self.component_message,
            "cancel-message": self.cancel_message,
            "ping": self.ping,
            "health": self.health,
        }
        for namespace in NAMESPACES:
            self.sio.on("connect", functools.partial(self.connect, namespace), namespace=namespace)
            self.sio.on("disconnect", functools.partial(self.disconnect, namespace), namespace=namespace)
            for event, handler in handlers.items():
                self.sio.on(event, self._guarded(namespace, event, handler), namespace=namespace)

    def _guarded(self, namespace: str, event: str, handler: Callable[..., Awaitable[None]]) -> Handler:
        async def run(sid: str, data: Any = None) -> None:
            client = self.clients.get((namespace, sid))
            if client is None:
                return
            if event in ACTING_EVENTS and not await users.still_active(client.user.id):
                # The token was checked at connect; an account deactivated since may not act.
                await self.refuse(namespace, sid, "unauthorized", "this account is no longer active")
                await self.sio.disconnect(sid, namespace=namespace)
                return
            try:
                await handler(namespace, sid, client, data)
            except BadPayload as error:
                await self.refuse(namespace, sid, "invalid_payload", str(error))
            except errors.DomainError as error:
                code = next((c for kind, c in _ERROR_CODES if isinstance(error, kind)), "invalid")
                extra = {"retry_after": round(error.retry_after, 3)} if isinstance(error, errors.RateLimited) else {}
                await self.refuse(namespace, sid, code, error.message, **extra)
            except Exception:
                log.exception("socket event %s failed", event)
                await self.refuse(namespace, sid, "internal", "internal error")

        return run

    async def refuse(self, namespace: str, sid: str, code: str, details: str, **extra: Any) -> None:
        await self.sio.emit("message-error", {"error": code, "details": details, **extra}, to=sid, namespace=namespace)

    @property
    def services(self) -> Any:
        return self.app[keys.CHAT]

    # -- connection --------------------------------------------------------------------
    async def connect(self, namespace: str, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = token_from(environ, auth)
        if token is None:
            raise socketio.exceptions.ConnectionRefusedError(UNAUTHORIZED)
        try:
            user = await users.user_for_token(token, self.app[keys.JWT_KEY])
        except errors.Unauthenticated:
            raise socketio.exceptions.ConnectionRefusedError(UNAUTHORIZED) from None
        self.clients[(namespace, sid)] = Client(user=user)

    async def disconnect(self, namespace: str, sid: str, *_: Any) -> None:
        self.clients.pop((namespace, sid), None)
        await self.services.relay.leave_all(namespace, sid)

    def connections(self) -> int:
        return len(self.clients)

    # -- rooms ---------------------------------------------------------------------------
    def _check_user_id(self, client: Client, data: dict[str, Any]) -> None:
        claimed = data.get("userId")
        if claimed not in (None, "") and str(claimed) != str(client.user.id):
            raise errors.Forbidden("userId is not the token's user")

    async def join_room(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        data = _payload(data)
        self._check_user_id(client, data)
        resume = data.get("resume")
        if resume is not None and not isinstance(resume, dict):
            raise BadPayload("resume must be an object {message_id, after_seq}")
        session = await chat.join_session(client.user, data.get("room"), data.get("wedding_id"))
        room = str(data["room"])
        session_id = str(session.id)
        previous = client.joined.get(room)
        if previous is not None and str(previous.session_id) != session_id:
            await self.services.relay.leave(namespace, sid, str(previous.session_id))
        client.joined[room] = JoinedSession(session.id, session.user_id, room)  # type: ignore[attr-defined]
        await self.sio.enter_room(sid, f"chat:{session_id}", namespace=namespace)
        local = await self.services.relay.join(namespace, sid, session_id, room)
        history = await chat.room_history(session, chat.HISTORY_LIMIT)
        wedding_id = str(session.page_id) if session.page_id else None  # type: ignore[attr-defined]
        await self.sio.emit(
            "session-info", {"session_id": session_id, "wedding_id": wedding_id}, to=sid, namespace=namespace
        )
        await self.sio.emit("roomHistory", [history_item(m) for m in history], to=sid, namespace=namespace)
        local.suppressed |= {str(m.message_id) for m in history if m.role == "assistant"}
        try:
            if resume is not None:
                await self._resume(namespace, sid, session, local, resume)
        finally:  # a refused resume still leaves the socket joined and live
            await self.services.relay.go_live(local)

    async def _resume(self, namespace: str, sid: str, session: ChatSession, local: Any, resume: dict[str, Any]) -> None:
        message_id = chat.parse_uuid(resume.get("message_id"), "resume.message_id")
        after_seq = resume.get("after_seq", 0)
        if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
            raise errors.Invalid("resume.after_seq must be a non-negative integer", field="resume.after_seq")
        turn = str(message_id)
        if turn in local.suppressed:
            return  # the answer is already in roomHistory
        status = await chat.run_status(message_id)
        if status is None or not await ChatMessage.exists(message_id=message_id, session_id=session.id):
            raise errors.NotFound("no such message in this room")
        chunks = await self.services.turns.chunks_after(turn, after_seq)
        for chunk in chunks:
            payload = {"message_id": turn, "session_id": str(session.id), "seq": chunk["seq"], "delta": chunk["delta"]}
            await self.sio.emit("message-chunk", payload, to=sid, namespace=namespace)
        local.floors[turn] = max([after_seq, *(chunk["seq"] for chunk in chunks)])
        if status in (RunStatus.FAILED, RunStatus.CANCELLED):
            code = "cancelled" if status is RunStatus.CANCELLED else "agent_error"
            await self.sio.emit(
                "message-error",
                {"error": code, "details": f"the turn was {status.value}", "message_id": turn},
                to=sid,
                namespace=namespace,
            )
            local.suppressed.add(turn)

    async def leave_room(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        data = _payload(data)
        self._check_user_id(client, data)
        joined = client.joined.pop(str(data.get("room")), None)
        if joined is None:
            return
        await self.sio.leave_room(sid, f"chat:{joined.session_id}", namespace=namespace)
        if client.joined_session(joined.session_id) is None:
            await self.services.relay.leave(namespace, sid, str(joined.session_id))

    # -- turns ---------------------------------------------------------------------------
    async def chat_message(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        data = _payload(data)
        self._check_user_id(client, data)
        await self._accept(namespace, sid, client, data.get("text"), data.get("session_id"), data.get("room"), data)

    async def component_message(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        data = _payload(data)
        component = data.get("component")
        if not isinstance(component, dict):
            raise BadPayload("component must be an object with a value")
        props = component.get("props") if isinstance(component.get("props"), dict) else {}
        value = component.get("value", props.get("value"))
        await self._accept(namespace, sid, client, value, data.get("session_id"), data.get("room"), data)

    async def _session_for(self, client: Client, session_id: Any, room: Any) -> JoinedSession:
        if session_id in (None, ""):
            joined = client.joined.get(str(room)) if room else None
            if joined is None and len(client.joined) == 1:
                joined = next(iter(client.joined.values()))
            if joined is None:
                raise errors.Invalid("session_id is required (join a room first)", field="session_id")
        else:
            joined = client.joined_session(chat.parse_uuid(session_id, "session_id"))
            if joined is None:
                session = await chat.users_session(client.user, session_id)
                joined = JoinedSession(session.id, session.user_id, session.room)  # type: ignore[attr-defined]
        if joined.owner_id != client.user.id:  # an admin watching may not talk in the room
            raise errors.NotFound("no such chat session")
        return joined

    async def _accept(
        self, namespace: str, sid: str, client: Client, text: Any, session_id: Any, room: Any, data: dict[str, Any]
    ) -> None:
        settings = self.app[keys.SETTINGS]
        text = chat.check_text(text, settings.chat_max_chars)
        joined = await self._session_for(client, session_id, room)
        if data.get("wedding_id") not in (None, ""):
            await chat.join_session(client.user, joined.room, data["wedding_id"])
        wait = await self.app[keys.RATE_LIMITER].hit(
            f"chat:user:{client.user.id}", settings.chat_messages_per_minute, 60
        )
        if wait is not None:
            raise errors.RateLimited("too many messages; try again later", retry_after=wait)
        accepted = await chat.accept_user_message(joined.session_id, text)
        message_id = accepted.message.message_id
        try:
            await self.services.enqueue(message_id)
        except Exception as error:
            log.error("could not enqueue turn %s: %s", message_id, type(error).__name__)
            await chat.abandon_run(message_id, "the queue is unavailable")
            raise errors.DependencyDown("the chat queue is unavailable; try again") from error
        ids = {"message_id": str(message_id), "session_id": str(joined.session_id)}
        await self.sio.emit("message-accepted", ids, to=sid, namespace=namespace)
        user_message = {
            "type": "text",
            "role": "user",
            "content": text,
            **ids,
            "id": str(accepted.message.id),
            "timestamp": now_ms(),
        }
        for target in NAMESPACES:  # other sockets of the room, in every process
            skip = sid if target == namespace else None
            await self.sio.emit(
                "newMessage", user_message, room=f"chat:{joined.session_id}", skip_sid=skip, namespace=target
            )

    async def cancel_message(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        data = _payload(data)
        run, cancelled_now = await chat.request_cancel(client.user, data.get("message_id"))
        await self.services.turns.request_cancel(str(run.message_id))
        if not cancelled_now:
            return  # the actor stops the running turn and tells the room
        session_id = run.session_id  # type: ignore[attr-defined]
        await self.services.publish_cancelled(session_id, run.message_id)
        if client.joined_session(session_id) is None:  # not in the room: tell the asker directly
            error = {"error": "cancelled", "details": "the turn was cancelled", "message_id": str(run.message_id)}
            await self.sio.emit("message-error", error, to=sid, namespace=namespace)

    async def ping(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        await self.sio.emit("pong", {"timestamp": now_ms()}, to=sid, namespace=namespace)

    async def health(self, namespace: str, sid: str, client: Client, data: Any) -> None:
        await self.sio.emit("health", {"status": "ok", "connections": self.connections()}, to=sid, namespace=namespace)
