"""The Socket.IO gateway (PROTOCOL.md "Socket.IO"): the same handlers on namespaces ``/``
and ``/chat``, served at paths ``/socket.io`` and ``/chat``.

Handlers are thin: each event's payload is a model of ``payloads`` validated before the
handler runs (``EVENTS``); the handler calls ``mochung.domain.chat``, hands the turn to the
workers (``handoff.hand_off``), emits. One socket's events are handled in the order sent.

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
- A room name is its owner's: a name another user already has gives the joining user a
  session of their own (stored under a name scoped to them), so nobody can take or block
  another's room. Opening new rooms is limited per user (``rate_limited``).
- The account is checked again on every event: a deactivated socket gets ``unauthorized``
  and is dropped; a demoted admin stops watching other users' rooms (also within a second
  while their socket is silent). ``unavailable`` also answers while the database is down.
  The check is against the process's cache of active accounts (``users.AccountCache``),
  which forgets an account as soon as its rights change — in this process directly, in
  the others over the bus (``ACCOUNTS_CHANNEL``) — and after ``ttl`` anyway. The events
  that act (``chat-message``, ``component-message``, ``cancel-message``) and an admin's
  ``joinRoom`` (which may watch another user's room) read the account from the database.
- ``cancel-message`` of a running turn whose worker died cancels it at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import socketio
from aiohttp import web

from mochung.adapters.outages import OUTAGE_MESSAGE, is_outage
from mochung.domain import chat, errors, rooms, users
from mochung.domain.models import ChatMessage, ChatSession, RunStatus, User
from mochung.server import keys
from mochung.server.chat import payloads
from mochung.server.chat.handoff import NAMESPACES, ChatServices, Sender, hand_off
from mochung.server.chat.relay import LocalSocket
from mochung.server.http.wire import iso_utc

log = logging.getLogger("mochung.gateway")
UNAUTHORIZED = "Unauthorized"
__all__ = ["NAMESPACES", "Gateway"]
SocketHandler = Callable[[str, Any], Awaitable[None]]
# (namespace, sid, client, the validated payload or None)
EventHandler = Callable[[str, str, "Client", Any], Awaitable[None]]
_ERROR_CODES: list[tuple[type[errors.DomainError], str]] = [
    (errors.Invalid, "invalid"),
    (errors.Unauthenticated, "unauthorized"),
    (errors.Forbidden, "forbidden"),
    (errors.NotFound, "not_found"),
    (errors.RateLimited, "rate_limited"),
    (errors.DependencyDown, "unavailable"),
]


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


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    given = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(given, str) and given.strip():
        return given.strip().removeprefix("Bearer ").strip()
    query = parse_qs(str(environ.get("QUERY_STRING", ""))).get("token")
    if query and query[0].strip():
        return query[0].strip()
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


# Events that act on the user's behalf: the account is read from the database, not the
# cache (so even a change made outside the application stops them at once).
ACTING_EVENTS = frozenset({"chat-message", "component-message", "cancel-message"})


class Gateway:
    def __init__(self, app: web.Application, sio: socketio.AsyncServer, *, accounts_trusted: bool = True) -> None:
        self.app = app
        self.sio = sio
        self.clients: dict[tuple[str, str], Client] = {}
        # distributed mode: trusted once the bus's accounts channel is subscribed
        self.accounts = users.AccountCache(trusted=accounts_trusted)
        self.rooms = rooms.RoomJoins()  # a reconnect storm's joins go to the database together
        self._rechecks: set[asyncio.Task[None]] = set()
        self._watching: set[tuple[str, str]] = set()  # sockets that joined another user's room

    def register(self) -> None:
        # event → (handler, the payload model validated before it runs; None: no payload)
        events: dict[str, tuple[EventHandler, type[payloads.Payload] | None]] = {
            "joinRoom": (self.join_room, payloads.JoinRoom),
            "leaveRoom": (self.leave_room, payloads.LeaveRoom),
            "chat-message": (self.chat_message, payloads.ChatMessage),
            "component-message": (self.component_message, payloads.ComponentMessage),
            "cancel-message": (self.cancel_message, payloads.CancelMessage),
            "ping": (self.ping, None),
            "health": (self.health, None),
        }
        for namespace in NAMESPACES:
            self.sio.on("connect", functools.partial(self.connect, namespace), namespace=namespace)
            self.sio.on("disconnect", functools.partial(self.disconnect, namespace), namespace=namespace)
            for event, (handler, model) in events.items():
                self.sio.on(event, self._guarded(namespace, event, handler, model), namespace=namespace)

    def _guarded(
        self, namespace: str, event: str, handler: EventHandler, model: type[payloads.Payload] | None
    ) -> SocketHandler:
        async def run(sid: str, data: Any = None) -> None:
            client = self.clients.get((namespace, sid))
            if client is None:
                return
            # The token was checked at connect; the account is checked again on every event,
            # so a deactivation or a demotion since takes effect at once.
            user_id = client.user.id
            acting = event in ACTING_EVENTS or (event == "joinRoom" and client.user.is_admin)
            current = await (self.accounts.fresh(user_id) if acting else self.accounts.active(user_id))
            if current is None:
                await self._stop_watching(namespace, sid, client, everything=True)
                await self.refuse(namespace, sid, "unauthorized", "this account is no longer active")
                await self.sio.disconnect(sid, namespace=namespace)
                return
            demoted = client.user.is_admin and not current.is_admin
            client.user = current
            if demoted:
                await self._stop_watching(namespace, sid, client)
            outcome = "ok"  # the label of mochung_socketio_events_total: ok, refused, rate_limited, error
            try:
                payload = None if model is None else payloads.validate(model, data, self._judged(client))
                await handler(namespace, sid, client, payload)
            except payloads.Refused as error:
                outcome = "refused"
                await self.refuse(namespace, sid, error.code, error.message)
            except errors.DomainError as error:
                code = next((c for kind, c in _ERROR_CODES if isinstance(error, kind)), "invalid")
                outcome = "rate_limited" if code == "rate_limited" else "refused"
                extra = {"retry_after": round(error.retry_after, 3)} if isinstance(error, errors.RateLimited) else {}
                await self.refuse(namespace, sid, code, error.message, **extra)
            except Exception as error:
                outcome = "error"
                if is_outage(error):  # the database or Redis is down: the client may try again
                    log.warning("socket event %s: %s (%s)", event, OUTAGE_MESSAGE, type(error).__name__)
                    await self.refuse(namespace, sid, "unavailable", OUTAGE_MESSAGE)
                else:
                    log.exception("socket event %s failed", event)
                    await self.refuse(namespace, sid, "internal", "internal error")
            finally:
                metrics = self.app[keys.METRICS]
                metrics.child(metrics.socketio_events, event=event, outcome=outcome).inc()
                if outcome == "rate_limited":
                    metrics.child(metrics.rate_limited, route=f"socketio:{event}").inc()

        return run

    async def _stop_watching(self, namespace: str, sid: str, client: Client, *, everything: bool = False) -> None:
        """Leave the rooms of other users this socket watches (all its rooms with
        ``everything``): a demoted or deactivated admin stops receiving their events."""
        for room, joined in list(client.joined.items()):
            if everything or joined.owner_id != client.user.id:
                client.joined.pop(room, None)
                await self.sio.leave_room(sid, f"chat:{joined.session_id}", namespace=namespace)
                if client.joined_session(joined.session_id) is None:
                    await self.services.relay.leave(namespace, sid, str(joined.session_id))

    def account_changed(self, user_id: uuid.UUID) -> None:
        """An account's rights changed (here or in another web process): forget it, and
        re-check at once its sockets that watch other users' rooms."""
        self.accounts.forget(user_id)
        if any(self.clients[key].user.id == user_id for key in self._watching if key in self.clients):
            task = asyncio.create_task(self.recheck_watchers(), name="mochung-watchers-now")
            self._rechecks.add(task)
            task.add_done_callback(self._rechecks.discard)

    async def recheck_watchers(self) -> None:
        """Re-read the accounts of the sockets watching other users' rooms (admins), so a
        demoted or deactivated admin stops receiving them even if their socket stays silent."""
        watching: dict[tuple[str, str], Client] = {}
        for key in list(self._watching):
            client = self.clients.get(key)
            if client is None or all(joined.owner_id == client.user.id for joined in client.joined.values()):
                self._watching.discard(key)  # gone, or watches no more
            else:
                watching[key] = client
        if not watching:
            return
        current = await users.accounts({client.user.id for client in watching.values()})
        for (namespace, sid), client in watching.items():
            user = current.get(client.user.id)
            if user is None or not user.is_active:
                await self._stop_watching(namespace, sid, client, everything=True)
                await self.refuse(namespace, sid, "unauthorized", "this account is no longer active")
                await self.sio.disconnect(sid, namespace=namespace)
            elif not user.is_admin:
                client.user = user
                await self._stop_watching(namespace, sid, client)
                await self.refuse(namespace, sid, "forbidden", "admin rights were revoked; watching stopped")

    @staticmethod
    def _judged(client: Client) -> payloads.Judged:
        return payloads.Judged(user_id=client.user.id)

    async def refuse(self, namespace: str, sid: str, code: str, details: str, **extra: Any) -> None:
        await self.sio.emit("message-error", {"error": code, "details": details, **extra}, to=sid, namespace=namespace)

    @property
    def services(self) -> ChatServices:
        return self.app[keys.CHAT]

    # -- connection --------------------------------------------------------------------
    async def connect(self, namespace: str, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = token_from(environ, auth)
        metrics = self.app[keys.METRICS]
        if token is None:
            metrics.child(metrics.socketio_connects, namespace=namespace, outcome="unauthorized").inc()
            raise socketio.exceptions.ConnectionRefusedError(UNAUTHORIZED)
        try:
            user = await self.accounts.for_token(token, self.app[keys.JWT_KEY])
        except errors.Unauthenticated:
            metrics.child(metrics.socketio_connects, namespace=namespace, outcome="unauthorized").inc()
            raise socketio.exceptions.ConnectionRefusedError(UNAUTHORIZED) from None
        self.clients[(namespace, sid)] = Client(user=user)
        metrics.child(metrics.socketio_connects, namespace=namespace, outcome="accepted").inc()
        metrics.child(metrics.socketio_connections, namespace=namespace).inc()
        # the user's own room: notices for them whatever chat room they are in (rsvp-received)
        await self.sio.enter_room(sid, f"user:{user.id}", namespace=namespace)

    async def disconnect(self, namespace: str, sid: str, *_: Any) -> None:
        self._watching.discard((namespace, sid))
        if self.clients.pop((namespace, sid), None) is not None:
            metrics = self.app[keys.METRICS]
            metrics.child(metrics.socketio_connections, namespace=namespace).dec()
        await self.services.relay.leave_all(namespace, sid)

    def connections(self) -> int:
        return len(self.clients)

    # -- rooms ---------------------------------------------------------------------------
    async def join_room(self, namespace: str, sid: str, client: Client, data: payloads.JoinRoom) -> None:
        opened = await self.rooms.join(
            client.user, data.room, data.wedding_id, before_create=functools.partial(self._may_open_session, client)
        )
        session = opened.session
        room = data.room
        session_id = str(session.id)
        previous = client.joined.get(room)
        if previous is not None and str(previous.session_id) != session_id:
            await self.services.relay.leave(namespace, sid, str(previous.session_id))
        client.joined[room] = JoinedSession(session.id, session.user_id, room)
        if session.user_id != client.user.id:
            self._watching.add((namespace, sid))
        await self.sio.enter_room(sid, f"chat:{session_id}", namespace=namespace)
        local = await self.services.relay.join(namespace, sid, session_id, room)
        # a session made by this join has no messages yet
        history = [] if opened.created else await chat.room_history(session, chat.HISTORY_LIMIT)
        wedding_id = str(session.page_id) if session.page_id else None
        await self.sio.emit(
            "session-info", {"session_id": session_id, "wedding_id": wedding_id}, to=sid, namespace=namespace
        )
        await self.sio.emit("roomHistory", [history_item(m) for m in history], to=sid, namespace=namespace)
        local.suppressed |= {str(m.message_id) for m in history if m.role == "assistant"}
        try:
            if data.resume is not None:  # judged now: a refused resume still joins
                resume = payloads.validate(payloads.Resume, data.resume, self._judged(client))
                await self._resume(namespace, sid, session, local, resume)
        finally:  # a refused resume still leaves the socket joined and live
            await self.services.relay.go_live(local)

    async def _may_open_session(self, client: Client) -> None:
        settings = self.app[keys.SETTINGS]
        wait = await self.app[keys.RATE_LIMITER].hit(
            f"chat:sessions:user:{client.user.id}", settings.chat_sessions_per_hour, 3600
        )
        if wait is not None:
            raise errors.RateLimited("too many new chat rooms; use one you have, or try again later", retry_after=wait)

    async def _resume(
        self, namespace: str, sid: str, session: ChatSession, local: LocalSocket, resume: payloads.Resume
    ) -> None:
        message_id, after_seq = resume.message_id, resume.after_seq
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

    async def leave_room(self, namespace: str, sid: str, client: Client, data: payloads.LeaveRoom) -> None:
        joined = client.joined.pop(data.room, None)
        if joined is None:
            return
        await self.sio.leave_room(sid, f"chat:{joined.session_id}", namespace=namespace)
        if client.joined_session(joined.session_id) is None:
            await self.services.relay.leave(namespace, sid, str(joined.session_id))

    # -- turns ---------------------------------------------------------------------------
    async def chat_message(self, namespace: str, sid: str, client: Client, data: payloads.ChatMessage) -> None:
        await self._accept(namespace, sid, client, data.text, data.session_id, data.room, data.wedding_id)

    async def component_message(
        self, namespace: str, sid: str, client: Client, data: payloads.ComponentMessage
    ) -> None:
        await self._accept(namespace, sid, client, data.text, data.session_id, data.room, data.wedding_id)

    async def _session_for(self, client: Client, session_id: uuid.UUID | None, room: str | None) -> JoinedSession:
        if session_id is None:
            joined = client.joined.get(room) if room else None
            if joined is None and len(client.joined) == 1:
                joined = next(iter(client.joined.values()))
            if joined is None:
                raise errors.Invalid("session_id is required (join a room first)", field="session_id")
        else:
            joined = client.joined_session(session_id)
            if joined is None:
                session = await rooms.users_session(client.user, session_id)
                joined = JoinedSession(session.id, session.user_id, session.room)
        if joined.owner_id != client.user.id:  # an admin watching may not talk in the room
            raise errors.NotFound("no such chat session")
        return joined

    async def _accept(
        self,
        namespace: str,
        sid: str,
        client: Client,
        text: str,
        session_id: uuid.UUID | None,
        room: str | None,
        wedding_id: uuid.UUID | None,
    ) -> None:
        settings = self.app[keys.SETTINGS]
        text = chat.check_text(text, settings.chat_max_chars)
        joined = await self._session_for(client, session_id, room)
        if wedding_id is not None:
            await self.rooms.join(client.user, joined.room, wedding_id)
        wait = await self.app[keys.RATE_LIMITER].hit(
            f"chat:user:{client.user.id}", settings.chat_messages_per_minute, 60
        )
        if wait is not None:
            raise errors.RateLimited("too many messages; try again later", retry_after=wait)
        await hand_off(self.services, self.sio, joined.session_id, text, Sender(namespace, sid))

    async def cancel_message(self, namespace: str, sid: str, client: Client, data: payloads.CancelMessage) -> None:
        run, cancelled_now = await chat.request_cancel(client.user, data.message_id)
        turn = str(run.message_id)
        await self.services.turns.request_cancel(turn)
        if not cancelled_now and not await self.services.turns.held_among([turn]):
            # running, but no worker holds it any more (it died): nothing would stop it
            cancelled_now = await chat.end_orphaned_run(run.message_id, RunStatus.CANCELLED, "cancelled") is not None
        if not cancelled_now:
            return  # the actor stops the running turn and tells the room
        session_id = run.session_id
        await self.services.publish_cancelled(session_id, run.message_id)
        if client.joined_session(session_id) is None:  # not in the room: tell the asker directly
            error = {"error": "cancelled", "details": "the turn was cancelled", "message_id": str(run.message_id)}
            await self.sio.emit("message-error", error, to=sid, namespace=namespace)

    async def ping(self, namespace: str, sid: str, client: Client, data: None) -> None:
        await self.sio.emit("pong", {"timestamp": chat.now_ms()}, to=sid, namespace=namespace)

    async def health(self, namespace: str, sid: str, client: Client, data: None) -> None:
        await self.sio.emit("health", {"status": "ok", "connections": self.connections()}, to=sid, namespace=namespace)
