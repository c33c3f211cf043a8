"""The admin app's only way to the server: REST over aiohttp and Socket.IO over python-socketio.

Screens talk to the :class:`AdminApi` protocol, never to aiohttp, so tests can hand the
app a fixed fake for snapshots. Every failure surfaces as a :class:`ClientError` subclass
with a message fit to show an operator; nothing here lets a transport exception escape.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import aiohttp
import socketio
from pydantic import BaseModel, ValidationError

from mochung.tui.models import (
    Activity,
    AdminChat,
    AdminPage,
    AdminPayment,
    AdminSession,
    AdminUser,
    AuditEntry,
    ChatEntry,
    ChatEvent,
    Dataset,
    EvaluationComparison,
    EvaluationResult,
    EvaluationRun,
    GuestbookEntry,
    Health,
    LinkDown,
    Listing,
    LoginResult,
    MessageAccepted,
    MessageChunk,
    MessageFailed,
    NewMessage,
    Profile,
    RoomHistory,
    RsvpSummary,
    SessionInfo,
    SystemInfo,
)

M = TypeVar("M", bound=BaseModel)
EventSink = Callable[[ChatEvent], object]  # what a sink returns is ignored


class ClientError(Exception):
    """Anything that went wrong talking to the server, worded for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(ClientError):
    """The server answered with an error body (PROTOCOL.md's ``{statusCode, message, …}``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def unauthorized(self) -> bool:
        return self.status == 401

    @property
    def forbidden(self) -> bool:
        return self.status == 403


class NetworkError(ClientError):
    """The server could not be reached, or answered something that is not the API."""


class ReadOnlyRefused(ClientError):
    """A state-changing call in ``--read-only`` mode; refused before it leaves the machine."""

    def __init__(self) -> None:
        super().__init__("read-only mode: this action is disabled")


class ChatLink(Protocol):
    """A live connection to the chat gateway, watching one room at a time."""

    async def connect(self, sink: EventSink) -> None: ...
    async def join(self, room: str, user_id: str, wedding_id: str | None = None) -> None: ...
    async def leave(self, room: str, user_id: str) -> None: ...
    async def send(self, text: str, *, room: str, session_id: str, user_id: str) -> None: ...
    async def press(self, suggestion: dict[str, Any], *, session_id: str) -> None: ...
    async def close(self) -> None: ...


class AdminApi(Protocol):
    """Every call the admin app makes. Lists return one page and the cursor of the next."""

    base_url: str
    token: str | None
    read_only: bool

    async def login(self, email: str, password: str) -> LoginResult: ...
    async def profile(self) -> Profile: ...
    async def stats(self) -> dict[str, Any]: ...
    async def health(self) -> Health: ...
    async def system(self) -> SystemInfo: ...
    async def activity(self) -> Activity: ...
    async def audit(self, *, limit: int = 20, cursor: str | None = None) -> Listing[AuditEntry]: ...
    async def users(self, *, q: str = "", cursor: str | None = None) -> Listing[AdminUser]: ...
    async def update_user(
        self, user_id: str, *, is_active: bool | None = None, is_admin: bool | None = None
    ) -> AdminUser: ...
    async def pages(self, *, status: str = "", cursor: str | None = None) -> Listing[AdminPage]: ...
    async def hide_page(self, page_id: str, reason: str) -> AdminPage: ...
    async def unhide_page(self, page_id: str) -> AdminPage: ...
    async def chats(
        self, *, room: str = "", session_id: str = "", hidden: bool | None = None, cursor: str | None = None
    ) -> Listing[AdminChat]: ...
    async def hide_chat(self, chat_id: str, reason: str) -> AdminChat: ...
    async def unhide_chat(self, chat_id: str) -> AdminChat: ...
    async def sessions(self, *, cursor: str | None = None) -> Listing[AdminSession]: ...
    async def guestbook(
        self, *, page_id: str = "", hidden: bool | None = None, cursor: str | None = None
    ) -> Listing[GuestbookEntry]: ...
    async def hide_guestbook_entry(self, entry_id: str, reason: str) -> GuestbookEntry: ...
    async def unhide_guestbook_entry(self, entry_id: str) -> GuestbookEntry: ...
    async def rsvp_summary(self, page_id: str) -> RsvpSummary: ...
    async def payments(
        self, *, status: str = "", flagged: bool | None = None, cursor: str | None = None
    ) -> Listing[AdminPayment]: ...
    async def refund(self, payment_id: str, reason: str, amount: int | None = None) -> AdminPayment: ...
    async def review(self, payment_id: str, decision: str, note: str) -> AdminPayment: ...
    async def datasets(self) -> list[Dataset]: ...
    async def evaluation_results(self, dataset: str) -> EvaluationResult | None: ...
    async def run_evaluation(self, dataset: str) -> EvaluationResult: ...
    async def evaluation_history(
        self, dataset: str, *, limit: int = 20, cursor: str | None = None
    ) -> Listing[EvaluationRun]: ...
    async def evaluation_run(self, run_id: str) -> EvaluationResult: ...
    async def compare_runs(self, to: str, before: str | None = None) -> EvaluationComparison | None: ...
    async def rerun_case(self, run_id: str, case: str) -> EvaluationResult: ...
    async def export_run(self, run_id: str, fmt: str) -> bytes: ...
    def chat_link(self) -> ChatLink: ...
    async def close(self) -> None: ...


def _error_message(body: Any, reason: str | None) -> str:
    """PROTOCOL.md's error body in one line: the message, then each invalid field."""
    if not isinstance(body, dict):
        return reason or "request failed"
    message = str(body.get("message") or reason or "request failed")
    details = body.get("details")
    if isinstance(details, list):
        fields = [f"{d.get('field')}: {d.get('message')}" for d in details if isinstance(d, dict)]
        if fields:
            message += " (" + "; ".join(fields) + ")"
    return message


def _query(**values: object) -> dict[str, str]:
    """Drop empty filters; booleans as the lowercase words the server's query models read."""
    query: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        query[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return query


class HttpAdminApi:
    """:class:`AdminApi` over HTTP. The aiohttp session opens lazily on the app's own loop."""

    def __init__(self, base_url: str, *, token: str | None = None, read_only: bool = False, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.read_only = read_only
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        answers: frozenset[int] = frozenset(),
    ) -> Any:
        """The JSON body; an error status raises :class:`ApiError` unless it is in ``answers``."""
        if self.read_only and method != "GET" and path != "/api/auth/login":
            raise ReadOnlyRefused()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with self._session.request(
                method, self.base_url + path, json=json, params=params, headers=headers
            ) as response:
                body = await response.json(content_type=None) if response.status != 204 else None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise NetworkError(f"cannot reach {self.base_url}: {error.__class__.__name__}") from None
        except ValueError:
            raise NetworkError(f"{self.base_url} answered something that is not JSON") from None
        if response.status >= 400 and response.status not in answers:
            raise ApiError(response.status, _error_message(body, response.reason))
        return body

    async def _get(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        body = await self._request(method, path, **kwargs)
        try:
            return model.model_validate(body)
        except ValidationError:
            raise NetworkError(f"unexpected answer from {path}") from None

    async def login(self, email: str, password: str) -> LoginResult:
        result = await self._get(LoginResult, "POST", "/api/auth/login", json={"email": email, "password": password})
        self.token = result.access_token
        return result

    async def profile(self) -> Profile:
        return await self._get(Profile, "GET", "/api/auth/profile")

    async def stats(self) -> dict[str, Any]:
        body = await self._request("GET", "/api/admin/stats")
        return body if isinstance(body, dict) else {}

    async def health(self) -> Health:
        # 503 is an answer here: the body still says which service is down
        return await self._get(Health, "GET", "/api/health", answers=frozenset({503}))

    async def system(self) -> SystemInfo:
        return await self._get(SystemInfo, "GET", "/api/admin/system")

    async def activity(self) -> Activity:
        return await self._get(Activity, "GET", "/api/admin/activity")

    async def audit(self, *, limit: int = 20, cursor: str | None = None) -> Listing[AuditEntry]:
        params = _query(limit=limit, cursor=cursor)
        return await self._get(Listing[AuditEntry], "GET", "/api/admin/audit", params=params)

    async def users(self, *, q: str = "", cursor: str | None = None) -> Listing[AdminUser]:
        return await self._get(Listing[AdminUser], "GET", "/api/admin/users", params=_query(q=q, cursor=cursor))

    async def update_user(
        self, user_id: str, *, is_active: bool | None = None, is_admin: bool | None = None
    ) -> AdminUser:
        change = {k: v for k, v in {"isActive": is_active, "isAdmin": is_admin}.items() if v is not None}
        return await self._get(AdminUser, "PATCH", f"/api/admin/users/{user_id}", json=change)

    async def pages(self, *, status: str = "", cursor: str | None = None) -> Listing[AdminPage]:
        params = _query(status=status, cursor=cursor)
        return await self._get(Listing[AdminPage], "GET", "/api/admin/pages", params=params)

    async def hide_page(self, page_id: str, reason: str) -> AdminPage:
        return await self._get(AdminPage, "POST", f"/api/admin/pages/{page_id}/hide", json={"reason": reason})

    async def unhide_page(self, page_id: str) -> AdminPage:
        return await self._get(AdminPage, "POST", f"/api/admin/pages/{page_id}/unhide", json={})

    async def chats(
        self, *, room: str = "", session_id: str = "", hidden: bool | None = None, cursor: str | None = None
    ) -> Listing[AdminChat]:
        params = _query(room=room, sessionId=session_id, hidden=hidden, cursor=cursor)
        return await self._get(Listing[AdminChat], "GET", "/api/admin/chats", params=params)

    async def hide_chat(self, chat_id: str, reason: str) -> AdminChat:
        return await self._get(AdminChat, "POST", f"/api/admin/chats/{chat_id}/hide", json={"reason": reason})

    async def unhide_chat(self, chat_id: str) -> AdminChat:
        return await self._get(AdminChat, "POST", f"/api/admin/chats/{chat_id}/unhide", json={})

    async def sessions(self, *, cursor: str | None = None) -> Listing[AdminSession]:
        return await self._get(Listing[AdminSession], "GET", "/api/admin/sessions", params=_query(cursor=cursor))

    async def guestbook(
        self, *, page_id: str = "", hidden: bool | None = None, cursor: str | None = None
    ) -> Listing[GuestbookEntry]:
        params = _query(pageId=page_id, hidden=hidden, cursor=cursor)
        return await self._get(Listing[GuestbookEntry], "GET", "/api/admin/guestbook", params=params)

    async def hide_guestbook_entry(self, entry_id: str, reason: str) -> GuestbookEntry:
        path = f"/api/admin/guestbook/{entry_id}/hide"
        return await self._get(GuestbookEntry, "POST", path, json={"reason": reason})

    async def unhide_guestbook_entry(self, entry_id: str) -> GuestbookEntry:
        return await self._get(GuestbookEntry, "POST", f"/api/admin/guestbook/{entry_id}/unhide", json={})

    async def rsvp_summary(self, page_id: str) -> RsvpSummary:
        return await self._get(RsvpSummary, "GET", f"/api/admin/pages/{page_id}/rsvps/summary")

    async def payments(
        self, *, status: str = "", flagged: bool | None = None, cursor: str | None = None
    ) -> Listing[AdminPayment]:
        params = _query(status=status, flagged=flagged, cursor=cursor)
        return await self._get(Listing[AdminPayment], "GET", "/api/admin/payments", params=params)

    async def refund(self, payment_id: str, reason: str, amount: int | None = None) -> AdminPayment:
        body: dict[str, Any] = {"reason": reason} if amount is None else {"reason": reason, "amount": amount}
        return await self._get(AdminPayment, "POST", f"/api/admin/payments/{payment_id}/refund", json=body)

    async def review(self, payment_id: str, decision: str, note: str) -> AdminPayment:
        body = {"decision": decision, "note": note}
        return await self._get(AdminPayment, "POST", f"/api/admin/payments/{payment_id}/review", json=body)

    async def datasets(self) -> list[Dataset]:
        body = await self._request("GET", "/api/admin/evaluation/datasets")
        items = body.get("items", []) if isinstance(body, dict) else body or []
        # the page's contract lists plain names; an object is read too
        return [Dataset(name=item) if isinstance(item, str) else Dataset.model_validate(item) for item in items]

    async def evaluation_results(self, dataset: str) -> EvaluationResult | None:
        """The dataset's last result, or its run in progress (the server's 202 reads as
        ``status: running``). Asking for a dataset never run would run it: the screen asks
        the history first."""
        try:
            path = "/api/admin/evaluation/results"
            return await self._get(EvaluationResult, "GET", path, params={"dataset": dataset})
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def run_evaluation(self, dataset: str) -> EvaluationResult:
        return await self._get(EvaluationResult, "POST", "/api/admin/evaluation/run", params={"dataset": dataset})

    async def evaluation_history(
        self, dataset: str, *, limit: int = 20, cursor: str | None = None
    ) -> Listing[EvaluationRun]:
        params = _query(dataset=dataset, limit=limit, cursor=cursor)
        return await self._get(Listing[EvaluationRun], "GET", "/api/admin/evaluation/history", params=params)

    async def evaluation_run(self, run_id: str) -> EvaluationResult:
        return await self._get(EvaluationResult, "GET", f"/api/admin/evaluation/runs/{run_id}")

    async def compare_runs(self, to: str, before: str | None = None) -> EvaluationComparison | None:
        """``to`` against ``before`` (default: the run of its dataset before it); ``None``
        for a first run."""
        try:
            params = _query(to=to, **{"from": before})
            return await self._get(EvaluationComparison, "GET", "/api/admin/evaluation/compare", params=params)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def rerun_case(self, run_id: str, case: str) -> EvaluationResult:
        path = f"/api/admin/evaluation/runs/{run_id}/cases/{case}/rerun"
        return await self._get(EvaluationResult, "POST", path, json={})

    async def export_run(self, run_id: str, fmt: str) -> bytes:
        """The run as a file (``csv`` or ``json``), as the server wrote it."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        url = f"{self.base_url}/api/admin/evaluation/runs/{run_id}/export"
        try:
            async with self._session.get(url, params={"format": fmt}, headers=headers) as response:
                body = await response.read()
                if response.status >= 400:
                    try:
                        detail = _error_message(json.loads(body), response.reason)
                    except ValueError:
                        detail = response.reason or "export failed"
                    raise ApiError(response.status, detail)
                return body
        except (TimeoutError, aiohttp.ClientError) as error:
            raise NetworkError(f"cannot reach {self.base_url}: {error.__class__.__name__}") from None

    def chat_link(self) -> ChatLink:
        return SocketChatLink(self.base_url, self.token or "", read_only=self.read_only)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _decode(event: str, data: Any) -> ChatEvent | None:
    """A gateway event as a typed value; ``None`` for events the admin app does not show."""
    payload = data if isinstance(data, dict) else {}
    if event == "session-info":
        return SessionInfo(str(payload.get("session_id", "")), payload.get("wedding_id"))
    if event == "roomHistory":
        rows = data if isinstance(data, list) else []
        return RoomHistory([ChatEntry.from_payload(row) for row in rows if isinstance(row, dict)])
    if event == "message-accepted":
        return MessageAccepted(str(payload.get("message_id", "")), payload.get("session_id"))
    if event == "message-chunk":
        return MessageChunk(
            str(payload.get("message_id", "")), int(payload.get("seq", 0)), str(payload.get("delta", ""))
        )
    if event == "newMessage":
        return NewMessage(ChatEntry.from_payload(payload))
    if event == "message-error":
        details = payload.get("details")
        return MessageFailed(
            str(payload.get("error", "error")), None if details is None else str(details), payload.get("message_id")
        )
    return None


class SocketChatLink:
    """:class:`ChatLink` over python-socketio, namespace ``/chat`` on the default path."""

    NAMESPACE = "/chat"
    EVENTS = ("session-info", "roomHistory", "message-accepted", "message-chunk", "newMessage", "message-error")

    def __init__(self, base_url: str, token: str, *, read_only: bool = False) -> None:
        self._url = base_url
        self._token = token
        self._read_only = read_only
        # no silent reconnection: the screen says the link dropped and the admin picks the room again
        self._sio = socketio.AsyncClient(reconnection=False)

    async def connect(self, sink: EventSink) -> None:
        for name in self.EVENTS:
            self._sio.on(name, self._forward(name, sink), namespace=self.NAMESPACE)
        self._sio.on("disconnect", lambda *_: sink(LinkDown("disconnected")), namespace=self.NAMESPACE)
        try:
            await self._sio.connect(
                self._url, auth={"token": self._token}, namespaces=[self.NAMESPACE], wait_timeout=10
            )
        except socketio.exceptions.ConnectionError as error:
            if "Unauthorized" in str(error):  # the gateway's refusal of a bad or expired token
                raise ApiError(401, "Unauthorized") from None
            raise NetworkError(f"live chat unavailable: {error}") from None

    @staticmethod
    def _forward(name: str, sink: EventSink) -> Callable[[Any], Awaitable[None]]:
        async def handler(data: Any = None) -> None:
            event = _decode(name, data)
            if event is not None:
                sink(event)

        return handler

    async def _emit(self, event: str, data: dict[str, Any]) -> None:
        try:
            await self._sio.emit(event, data, namespace=self.NAMESPACE)
        except socketio.exceptions.SocketIOError as error:
            raise NetworkError(f"live chat: {error}") from None

    async def join(self, room: str, user_id: str, wedding_id: str | None = None) -> None:
        """Join ``room``; with ``wedding_id`` the room's agents get that page as context."""
        payload = {"room": room, "userId": user_id}
        if wedding_id is not None:
            payload["wedding_id"] = wedding_id
        await self._emit("joinRoom", payload)

    async def leave(self, room: str, user_id: str) -> None:
        await self._emit("leaveRoom", {"room": room, "userId": user_id})

    async def send(self, text: str, *, room: str, session_id: str, user_id: str) -> None:
        if self._read_only:
            raise ReadOnlyRefused()
        payload = {
            "text": text,
            "session_id": session_id,
            "room": room,
            "userId": user_id,
            "timestamp": int(time.time() * 1000),
        }
        await self._emit("chat-message", payload)

    async def press(self, suggestion: dict[str, Any], *, session_id: str) -> None:
        if self._read_only:
            raise ReadOnlyRefused()
        await self._emit("component-message", {"component": suggestion, "session_id": session_id})

    async def close(self) -> None:
        if self._sio.connected:
            await self._sio.disconnect()
