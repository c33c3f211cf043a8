"""What the admin app reads from the server, as typed objects.

These mirror PROTOCOL.md ("Admin", "Payments", "Socket.IO"); they are deliberately lenient
(optional fields, extra keys kept) so a field the server adds later never breaks the app,
and a field it omits shows as blank instead of crashing a screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class Wire(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown keys are kept, not rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Profile(Wire):
    id: str
    email: str
    name: str | None = None
    is_admin: bool = False
    is_active: bool = True


class LoginResult(BaseModel):
    access_token: str
    user: Profile


class Listing(BaseModel, Generic[T]):
    """One page of a paginated admin list: ``{items, nextCursor}``."""

    model_config = ConfigDict(populate_by_name=True)

    items: list[T] = Field(default_factory=list)
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class AdminUser(Wire):
    id: str
    email: str
    name: str | None = None
    is_admin: bool = False
    is_active: bool = True
    created_at: str | None = None


class AdminPage(Wire):
    id: str
    user_id: str | None = None
    user_email: str | None = None
    title: str = ""
    slug: str = ""
    is_published: bool = True
    is_hidden: bool = False
    hidden_reason: str | None = None
    view_count: int = 0
    version: int = 1
    component_types: list[str] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None


class AdminChat(Wire):
    id: str
    message_id: str | None = None
    session_id: str | None = None
    room: str | None = None
    user_id: str | None = None
    role: str = ""
    type: str = "text"
    content: str | None = None
    component: dict[str, Any] | None = None
    is_hidden: bool = False
    hidden_reason: str | None = None
    created_at: str | None = None


class AdminSession(Wire):
    id: str
    room: str = ""
    user_id: str | None = None
    user_email: str | None = None
    page_id: str | None = None
    last_activity_at: str | None = None
    live_sockets: int = 0
    message_count: int | None = None
    created_at: str | None = None


class AdminPayment(Wire):
    id: str
    user_id: str | None = None
    user_email: str | None = None
    page_id: str | None = None
    plan_id: str | None = None
    merchant_uid: str = ""
    amount: int = 0
    currency: str = "KRW"
    customer_name: str | None = None
    status: str = ""
    flagged: bool = False
    failure_reason: str | None = None
    review_decision: str | None = None
    review_note: str | None = None
    refunded_amount: int = 0
    provider_payment_id: str | None = None
    provider_record: dict[str, Any] | None = None
    paid_at: str | None = None
    created_at: str | None = None

    @property
    def refundable(self) -> int:
        """What is left to refund: the amount paid minus what was already refunded."""
        return max(self.amount - self.refunded_amount, 0)


class AuditEntry(Wire):
    id: str
    admin_id: str | None = None
    admin_email: str | None = None
    action: str = ""
    target: str = ""
    details: dict[str, Any] | None = None
    created_at: str | None = None


class Dataset(Wire):
    name: str
    description: str | None = None
    cases: int | None = None


class EvaluationCase(Wire):
    """One case of a run, as the agents' runner reports it (its keys vary; read leniently)."""

    id: str = ""
    name: str | None = None
    query: str | None = None
    category: str | None = None
    answer: str | None = None
    passed: bool | None = None
    score: float | None = None
    trajectory: list[Any] = Field(default_factory=list)
    failures: list[Any] = Field(default_factory=list)

    @classmethod
    def read(cls, raw: Any) -> EvaluationCase:
        if not isinstance(raw, dict):
            return cls(id=str(raw))
        data = dict(raw)
        data.setdefault("id", str(data.get("caseId") or data.get("case_id") or data.get("name") or ""))
        if data.get("passed") is None:
            for key in ("pass", "success", "ok"):
                if isinstance(data.get(key), bool):
                    data["passed"] = data[key]
        if not isinstance(data.get("trajectory"), list):
            data["trajectory"] = []
        if not isinstance(data.get("failures"), list):
            data["failures"] = [data["failures"]] if data.get("failures") else []
        # the agents' runner reports checks: [{name, passed, detail}]; the failed ones say why
        for check in data.get("checks") or []:
            if isinstance(check, dict) and check.get("passed") is False:
                detail = f": {check['detail']}" if check.get("detail") else ""
                data["failures"].append(f"{check.get('name', 'check')}{detail}")
        if data.get("error"):
            data["failures"].append(f"error: {data['error']}")
        return cls.model_validate(data)

    @property
    def label(self) -> str:
        return self.name or self.id


class EvaluationResult(Wire):
    """A run: ``running`` until it is ``done`` or ``failed`` (the server runs it in the background)."""

    run_id: str = ""
    dataset: str = ""
    status: str = "done"
    error: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    progress: dict[str, Any] = Field(default_factory=dict)
    cases: list[Any] = Field(default_factory=list)
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def done_total(self) -> tuple[int, int | None]:
        """Cases finished so far and how many there are (``None`` while unknown)."""
        done, total = self.progress.get("done"), self.progress.get("total")
        return (done if isinstance(done, int) else 0), (total if isinstance(total, int) and total > 0 else None)

    def case_results(self) -> list[EvaluationCase]:
        return [EvaluationCase.read(raw) for raw in self.cases]


# --- Socket.IO events (snake_case payloads), as the live-chat screen receives them -------------


@dataclass(frozen=True)
class ChatEntry:
    """One message of a room, from ``roomHistory`` or ``newMessage``."""

    message_id: str
    role: str
    type: str = "text"
    content: str | None = None
    component: dict[str, Any] | None = None
    id: str | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ChatEntry:
        component = payload.get("component")
        return cls(
            message_id=str(payload.get("message_id") or payload.get("id") or ""),
            role=str(payload.get("role") or "assistant"),
            type=str(payload.get("type") or "text"),
            content=payload.get("content"),
            component=component if isinstance(component, dict) else None,
            id=payload.get("id"),
        )


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    wedding_id: str | None = None


@dataclass(frozen=True)
class RoomHistory:
    entries: list[ChatEntry] = field(default_factory=list)


@dataclass(frozen=True)
class MessageAccepted:
    message_id: str
    session_id: str | None = None


@dataclass(frozen=True)
class MessageChunk:
    message_id: str
    seq: int
    delta: str


@dataclass(frozen=True)
class NewMessage:
    entry: ChatEntry


@dataclass(frozen=True)
class MessageFailed:
    error: str
    details: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class LinkDown:
    """The socket closed or could not connect; ``reason`` is shown to the admin."""

    reason: str


ChatEvent = SessionInfo | RoomHistory | MessageAccepted | MessageChunk | NewMessage | MessageFailed | LinkDown
