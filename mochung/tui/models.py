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


class AdminUser(Profile):
    """A user as the admin list shows them: the profile, and since when."""

    created_at: str | None = None


class Hideable(Wire):
    """What moderation hides and shows again: pages, chat messages, guestbook entries."""

    id: str
    is_hidden: bool = False
    hidden_reason: str | None = None
    created_at: str | None = None


class AdminPage(Hideable):
    user_id: str | None = None
    user_email: str | None = None
    title: str = ""
    slug: str = ""
    is_published: bool = True
    view_count: int = 0
    version: int = 1
    component_types: list[str] = Field(default_factory=list)
    updated_at: str | None = None


class AdminChat(Hideable):
    message_id: str | None = None
    session_id: str | None = None
    room: str | None = None
    user_id: str | None = None
    role: str = ""
    type: str = "text"
    content: str | None = None
    component: dict[str, Any] | None = None


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


class GuestbookEntry(Hideable):
    """An entry of a page's guestbook, as moderation lists it (plain text as written)."""

    page_id: str | None = None
    page_slug: str = ""
    name: str = ""
    content: str = ""


class SideCount(Wire):
    attending: int = 0
    guests: int = 0


class RsvpSummary(Wire):
    """A page's RSVP answers summed up; ``guests`` and the meals count people."""

    responses: int = 0
    attending: int = 0
    not_attending: int = 0
    guests: int = 0
    by_side: dict[str, SideCount] = Field(default_factory=dict)
    meals: dict[str, int] = Field(default_factory=dict)

    def side(self, name: str) -> SideCount:
        return self.by_side.get(name) or SideCount()


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
    """One case of a run: the admin page's ``test_results[]`` entry (``name``, ``success``,
    ``evaluations``, ``agent_response``, ``trajectory`` as message records), read leniently."""

    id: str = ""
    name: str | None = None
    query: str | None = None
    category: str | None = None
    answer: str | None = None
    passed: bool | None = None
    score: float | None = None
    trajectory: list[Any] = Field(default_factory=list)
    failures: list[Any] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # evaluations that did not run, and why

    @classmethod
    def read(cls, raw: Any) -> EvaluationCase:
        if not isinstance(raw, dict):
            return cls(id=str(raw))
        data = dict(raw)
        data.setdefault("id", str(data.get("caseId") or data.get("case_id") or data.get("name") or ""))
        if data.get("passed") is None:
            for key in ("success", "pass", "ok"):
                if isinstance(data.get(key), bool):
                    data["passed"] = data[key]
        if data.get("answer") is None and isinstance(data.get("agent_response"), str):
            data["answer"] = data["agent_response"]
        if isinstance(data.get("steps"), list):  # the runtime's own record: one step a line
            data["trajectory"] = data["steps"]
        if not isinstance(data.get("trajectory"), list):
            data["trajectory"] = []
        if not isinstance(data.get("failures"), list):
            data["failures"] = [data["failures"]] if data.get("failures") else []
        notes: list[str] = []
        # evaluations: [{key, score, comment}]; a false score says why the case failed
        for evaluation in data.get("evaluations") or []:
            if not isinstance(evaluation, dict):
                continue
            comment = f": {evaluation['comment']}" if evaluation.get("comment") else ""
            if evaluation.get("score") is False:
                data["failures"].append(f"{evaluation.get('key', 'check')}{comment}")
            elif evaluation.get("score") is None:
                notes.append(f"{evaluation.get('key', 'check')}{comment}")
        data["notes"] = notes
        if data.get("error"):
            data["failures"].append(f"error: {data['error']}")
        return cls.model_validate(data)

    @property
    def label(self) -> str:
        return self.name or self.id


class EvaluationRun(Wire):
    """One run in the history (``GET /api/admin/evaluation/history``)."""

    run_id: str
    dataset: str = ""
    status: str = ""
    scope: str = "dataset"
    case_name: str | None = None
    rerun_of: str | None = None
    started_by: dict[str, Any] | None = None
    started_at: str | None = None
    duration: float | None = None
    summary: dict[str, Any] = Field(default_factory=dict)

    @property
    def pass_rate(self) -> float | None:
        rate = self.summary.get("pass_rate")
        return float(rate) if isinstance(rate, int | float) else None


class EvaluationResult(EvaluationRun):
    """A run whole (PROTOCOL.md "Admin evaluation", snake_case): ``running`` (the server's 202)
    until it is ``done``, ``failed`` or ``cancelled``; the 202 may come before it has an id."""

    run_id: str = ""
    status: str = "done"
    message: str | None = None
    error: str | None = None
    category_breakdown: dict[str, Any] = Field(default_factory=dict)
    progress: dict[str, Any] = Field(default_factory=dict)
    test_results: list[Any] = Field(default_factory=list)
    cases: list[Any] = Field(default_factory=list)
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
        return [EvaluationCase.read(raw) for raw in self.test_results or self.cases]


class EvaluationComparison(Wire):
    """What changed between two runs (``GET /api/admin/evaluation/compare``)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    before: dict[str, Any] = Field(default_factory=dict, alias="from")
    to: dict[str, Any] = Field(default_factory=dict)
    pass_rate_delta: float | None = None
    avg_execution_time_delta: float | None = None
    duration_delta: float | None = None
    fixed: list[str] = Field(default_factory=list)
    broke: list[str] = Field(default_factory=list)


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


class ProcessInfo(Wire):
    """One running web or worker process (``GET /api/admin/system``)."""

    id: str
    kind: str = ""
    host: str = ""
    pid: int = 0
    mode: str = ""
    in_flight: int = 0
    concurrency: int = 0
    sockets: int = 0
    started_at: str | None = None
    seen_at: str | None = None


class SystemInfo(Wire):
    processes: list[ProcessInfo] = Field(default_factory=list)
    queue_depth: int | None = None
    generated_at: str | None = None


class ActivityMinute(Wire):
    start: str = ""
    turns: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None


class Activity(Wire):
    """The chat pipeline per minute over the last hour (``GET /api/admin/activity``), oldest first."""

    minutes: list[ActivityMinute] = Field(default_factory=list)
    generated_at: str | None = None


class Health(Wire):
    """``GET /api/health``: each service's status word ("ok", "embedded", "down", …)."""

    status: str = "unknown"
    services: dict[str, str] = Field(default_factory=dict)
