"""A fixed, in-memory AdminApi for snapshot tests only: snapshots test rendering, so the data
must never change between runs (no clocks, no random ids). Behaviour is tested against the
real server in test_app_live.py."""

from __future__ import annotations

from typing import Any

from mochung.tui.client import ApiError, EventSink
from mochung.tui.models import (
    Activity,
    ActivityMinute,
    AdminChat,
    AdminPage,
    AdminPayment,
    AdminSession,
    AdminUser,
    AuditEntry,
    ChatEntry,
    Dataset,
    EvaluationComparison,
    EvaluationResult,
    EvaluationRun,
    GuestbookEntry,
    Health,
    Listing,
    LoginResult,
    MessageChunk,
    NewMessage,
    Profile,
    RoomHistory,
    RsvpSummary,
    SessionInfo,
    SystemInfo,
)

ADMIN = Profile(id="00000000-0000-4000-8000-000000000001", email="admin@mochung.kr", name="관리자", is_admin=True)
WHEN = "2026-11-20T10:30:00Z"

STATS: dict[str, Any] = {
    "users": {"total": 42, "active": 40, "admins": 2},
    "pages": {"total": 17, "published": 12, "draft": 4, "hidden": 1},
    "chatsToday": 128,
    "sessionsToday": 9,
    "agentRuns": {"queued": 1, "running": 0, "done": 57, "failed": 2, "cancelled": 0},
    "payments": {
        "byStatus": {"ready": 1, "paid": 8, "failed": 1, "cancelled": 0, "refunded": 1},
        "revenue": 239200,
        "currency": "KRW",
        "awaitingReview": 1,
    },
    "liveSockets": 3,
    "queueDepth": 0,
    "generatedAt": WHEN,
}

HEALTH = Health(
    status="ok",
    services={
        "database": "ok",
        "redis": "ok",
        "storage": "local",
        "payments": "sandbox",
        "broker": "redis",
        "relay": "ok",
        "queue": "0",
    },
)
SYSTEM = SystemInfo.model_validate(
    {
        "processes": [
            {
                "id": "web:app-1:101",
                "kind": "web",
                "host": "app-1",
                "pid": 101,
                "mode": "distributed",
                "sockets": 12,
                "startedAt": WHEN,
                "seenAt": "2026-11-20T11:02:05.000Z",
            },
            {
                "id": "worker:app-2:201",
                "kind": "worker",
                "host": "app-2",
                "pid": 201,
                "mode": "distributed",
                "inFlight": 3,
                "concurrency": 256,
                "startedAt": WHEN,
                "seenAt": "2026-11-20T11:02:04.000Z",
            },
            {
                "id": "worker:app-2:202",
                "kind": "worker",
                "host": "app-2",
                "pid": 202,
                "mode": "distributed",
                "inFlight": 0,
                "concurrency": 256,
                "startedAt": WHEN,
                "seenAt": "2026-11-20T11:02:03.000Z",
            },
        ],
        "queueDepth": 2,
        "generatedAt": "2026-11-20T11:02:06.000Z",
    }
)
# a fixed hour: a busier middle, one failure, latencies that move
ACTIVITY = Activity(
    minutes=[
        ActivityMinute(
            start=f"2026-11-20T10:{minute:02d}:00Z",
            turns=(minute * 7) % 5 + (3 if 20 <= minute < 40 else 0),
            errors=1 if minute == 33 else 0,
            p50_ms=float(800 + (minute * 37) % 400),
            p95_ms=float(1900 + (minute * 53) % 900),
        )
        for minute in range(60)
    ],
    generated_at=WHEN,
)

USERS = [
    AdminUser(id="u1", email="admin@mochung.kr", name="관리자", is_admin=True, created_at=WHEN),
    AdminUser(id="u2", email="bride@example.com", name="김신부", created_at=WHEN),
    AdminUser(id="u3", email="spam@example.com", name="광고", is_active=False, created_at=WHEN),
]

PAGES = [
    AdminPage(
        id="p1",
        user_email="bride@example.com",
        title="민수 ♥ 지은 결혼합니다",
        slug="minsu-jieun",
        view_count=311,
        component_types=["Cover", "Calendar", "Location"],
        created_at=WHEN,
    ),
    AdminPage(
        id="p2",
        user_email="spam@example.com",
        title="대출 광고",
        slug="loan-ad",
        is_hidden=True,
        hidden_reason="spam",
        view_count=3,
        created_at=WHEN,
    ),
]

GUESTBOOK = [
    GuestbookEntry(
        id="g1",
        page_id="p1",
        page_slug="minsu-jieun",
        name="박서연",
        content="지은아 결혼 너무 축하해! 행복하게 잘 살아야 해",
        created_at=WHEN,
    ),
    GuestbookEntry(
        id="g2",
        page_id="p1",
        page_slug="minsu-jieun",
        name="[b]광고[/b]",
        content="무료 대출 http://spam.example 지금 바로",
        is_hidden=True,
        hidden_reason="spam",
        created_at=WHEN,
    ),
]
RSVP_SUMMARY = RsvpSummary.model_validate(
    {
        "responses": 12,
        "attending": 10,
        "notAttending": 2,
        "guests": 23,
        "bySide": {"groom": {"attending": 4, "guests": 9}, "bride": {"attending": 6, "guests": 14}},
        "meals": {"yes": 20, "no": 1, "undecided": 2},
    }
)

CHATS = [
    AdminChat(
        id="c1",
        session_id="s1",
        room="room-minsu",
        message_id="m1",
        role="user",
        content="예식장 위치 추가해줘",
        created_at=WHEN,
    ),
    AdminChat(
        id="c2",
        session_id="s1",
        room="room-minsu",
        message_id="m1",
        role="assistant",
        content="강남 더채플 위치를 추가했어요.",
        created_at=WHEN,
    ),
    AdminChat(
        id="c3",
        session_id="s2",
        room="room-spam",
        message_id="m2",
        role="user",
        content="http://spam.example 대출",
        is_hidden=True,
        hidden_reason="spam",
        created_at=WHEN,
    ),
]

SESSIONS = [
    AdminSession(
        id="s1",
        room="room-minsu",
        user_email="bride@example.com",
        message_count=12,
        live_sockets=1,
        last_activity_at=WHEN,
    ),
    AdminSession(id="s2", room="room-spam", user_email="spam@example.com", message_count=2, last_activity_at=WHEN),
]

PAYMENTS = [
    AdminPayment(
        id="pay1",
        user_email="bride@example.com",
        merchant_uid="mochung-0001",
        amount=29900,
        customer_name="김신부",
        plan_id="premium",
        status="paid",
        provider_payment_id="imp_0001",
        paid_at=WHEN,
        created_at=WHEN,
        provider_record={"status": "PAID", "amount": {"total": 29900}},
    ),
    AdminPayment(
        id="pay2",
        merchant_uid="mochung-0002",
        amount=9900,
        customer_name="이신랑",
        plan_id="basic",
        status="failed",
        flagged=True,
        failure_reason="amount_mismatch",
        created_at=WHEN,
        provider_record={"status": "PAID", "amount": {"total": 990}},
    ),
]

EVALUATION = EvaluationResult(
    run_id="run1",
    dataset="smoke",
    status="done",
    started_at=WHEN,
    finished_at=WHEN,
    progress={"done": 3, "total": 3},
    summary={"total_tests": 3, "passed_tests": 2, "failed_tests": 1, "pass_rate": 0.6667, "avg_execution_time": 0.8},
    category_breakdown={"calendar": {"count": 1, "passed": 1, "pass_rate": 1.0}},
    test_results=[
        {
            "name": "ko-date",
            "category": "calendar",
            "query": "5월 15일 낮 12시로 날짜 넣어줘",
            "success": True,
            "evaluations": [{"key": "trajectory_llm_judge", "score": None, "comment": "skipped: offline"}],
            "steps": [{"tool": "context_agent", "args": {"ask": "date"}}, {"tool": "output_agent"}],
            "agent_response": "예식 일시를 넣었어요.",
        },
        {
            "name": "ko-map",
            "category": "location",
            "query": "더채플 강남 길찾기",
            "success": True,
            "evaluations": [],
            "steps": [{"tool": "map_agent"}],
        },
        {
            "name": "ko-accounts",
            "category": "accounts",
            "query": "축의금 계좌 넣어줘",
            "success": False,
            "evaluations": [{"key": "mandatory_tools", "score": False, "comment": "missing: ['make_account']"}],
            "steps": [{"tool": "output_agent", "args": {"components": ["Invitation"]}}],
            "agent_response": "인사말을 만들었어요.",
        },
    ],
)
HISTORY = [
    EvaluationRun(run_id="run1", dataset="smoke", status="done", started_at=WHEN, summary=EVALUATION.summary),
    EvaluationRun(run_id="run0", dataset="smoke", status="done", started_at=WHEN, summary={"pass_rate": 1.0}),
]
COMPARISON = EvaluationComparison.model_validate(
    {"from": {"run_id": "run0"}, "to": {"run_id": "run1"}, "pass_rate_delta": -0.3333, "broke": ["ko-accounts"]}
)

CHAT_HISTORY = [
    {"id": "h1", "message_id": "m1", "role": "user", "type": "text", "content": "청첩장 만들어줘"},
    {
        "id": "h2",
        "message_id": "m1",
        "role": "assistant",
        "type": "component",
        "component": {
            "type": "Cover",
            "props": {
                "title": "결혼합니다",
                "groomName": "민수",
                "brideName": "지은",
                "date": "2027년 5월 15일 토요일 낮 12시",
                "place": "더채플 강남",
            },
        },
    },
    {
        "id": "h3",
        "message_id": "m1",
        "role": "assistant",
        "type": "component",
        "component": {
            "type": "Calendar",
            "props": {
                "weddingDate": "2027-05-15",
                "weddingTime": "12:00",
                "weddingDateText": "2027년 5월 15일 토요일 낮 12시",
            },
        },
    },
    {
        "id": "h4",
        "message_id": "m1",
        "role": "assistant",
        "type": "component",
        "component": {
            "type": "Location",
            "props": {
                "placeName": "더채플 강남",
                "hall": "3층 채플홀",
                "address": "서울 강남구 테헤란로 1",
                "lat": 37.5,
                "lng": 127.03,
                "transport": [{"mode": "지하철", "text": "강남역 3번 출구"}],
            },
        },
    },
    {
        "id": "h5",
        "message_id": "m1",
        "role": "assistant",
        "type": "component",
        "component": {
            "type": "Account",
            "props": {
                "accounts": [
                    {"side": "groom", "owner": "김민수", "bank": "국민", "number": "123-45-6789"},
                    {"side": "bride", "owner": "이지은", "bank": "신한", "number": "110-222-333333"},
                ]
            },
        },
    },
    {
        "id": "h6",
        "message_id": "m1",
        "role": "assistant",
        "type": "component",
        "component": {
            "type": "AgentSuggestMessage",
            "props": {
                "suggestions": [
                    {"displayText": "갤러리 추가", "value": "갤러리를 추가해줘"},
                    {"displayText": "계좌 수정", "value": "계좌를 수정할래"},
                ]
            },
        },
    },
]


class FakeChatLink:
    """Answers a join with a fixed history, and a sent message with a fixed streamed answer."""

    def __init__(self) -> None:
        self.sink: EventSink | None = None
        self.sent: list[str] = []

    async def connect(self, sink: EventSink) -> None:
        self.sink = sink

    async def join(self, room: str, user_id: str, wedding_id: str | None = None) -> None:
        assert self.sink is not None
        self.sink(SessionInfo("s1", wedding_id))
        self.sink(RoomHistory([ChatEntry.from_payload(row) for row in CHAT_HISTORY]))

    async def leave(self, room: str, user_id: str) -> None:
        return None

    async def send(self, text: str, *, room: str, session_id: str, user_id: str) -> None:
        assert self.sink is not None
        self.sent.append(text)
        for seq, delta in enumerate(["좋아요, ", "추가할게요."]):
            self.sink(MessageChunk("m9", seq, delta))
        self.sink(NewMessage(ChatEntry(message_id="m9", role="assistant", content="좋아요, 추가할게요.")))

    async def press(self, suggestion: dict[str, Any], *, session_id: str) -> None:
        await self.send(str(suggestion.get("value")), room="", session_id=session_id, user_id="")

    async def close(self) -> None:
        return None


class FakeAdminApi:
    base_url = "http://mochung.test"

    def __init__(self, *, signed_in: bool = True, read_only: bool = False) -> None:
        self.token: str | None = "fixed-token" if signed_in else None
        self.read_only = read_only
        self.link = FakeChatLink()

    async def login(self, email: str, password: str) -> LoginResult:
        if password != "correct horse battery":
            raise ApiError(401, "Invalid email or password")
        self.token = "fixed-token"
        return LoginResult(access_token="fixed-token", user=ADMIN)

    async def profile(self) -> Profile:
        return ADMIN

    async def stats(self) -> dict[str, Any]:
        return STATS

    async def health(self) -> Health:
        return HEALTH

    async def system(self) -> SystemInfo:
        return SYSTEM

    async def activity(self) -> Activity:
        return ACTIVITY

    async def audit(self, *, limit: int = 20, cursor: str | None = None) -> Listing[AuditEntry]:
        entries = [
            AuditEntry(
                id="a1",
                admin_id=ADMIN.id,
                action="page.hide",
                target="page:p2",
                details={"reason": "spam"},
                created_at=WHEN,
            ),
            AuditEntry(
                id="a2",
                admin_id=ADMIN.id,
                action="user.update",
                target="user:u3",
                details={"isActive": False},
                created_at=WHEN,
            ),
        ]
        return Listing(items=entries)

    async def users(self, *, q: str = "", cursor: str | None = None) -> Listing[AdminUser]:
        return Listing(items=[u for u in USERS if q in u.email or q in (u.name or "")])

    async def update_user(
        self, user_id: str, *, is_active: bool | None = None, is_admin: bool | None = None
    ) -> AdminUser:
        raise ApiError(403, "snapshot fake: read only")

    async def pages(self, *, status: str = "", cursor: str | None = None) -> Listing[AdminPage]:
        return Listing(items=PAGES)

    async def hide_page(self, page_id: str, reason: str) -> AdminPage:
        raise ApiError(403, "snapshot fake: read only")

    async def unhide_page(self, page_id: str) -> AdminPage:
        raise ApiError(403, "snapshot fake: read only")

    async def chats(
        self, *, room: str = "", session_id: str = "", hidden: bool | None = None, cursor: str | None = None
    ) -> Listing[AdminChat]:
        items = [c for c in CHATS if not session_id or c.session_id == session_id]
        return Listing(items=list(reversed(items)) if session_id else items)

    async def hide_chat(self, chat_id: str, reason: str) -> AdminChat:
        raise ApiError(403, "snapshot fake: read only")

    async def unhide_chat(self, chat_id: str) -> AdminChat:
        raise ApiError(403, "snapshot fake: read only")

    async def sessions(self, *, cursor: str | None = None) -> Listing[AdminSession]:
        return Listing(items=SESSIONS)

    async def guestbook(
        self, *, page_id: str = "", hidden: bool | None = None, cursor: str | None = None
    ) -> Listing[GuestbookEntry]:
        return Listing(
            items=[e for e in GUESTBOOK if (not page_id or e.page_id == page_id) and hidden in (None, e.is_hidden)]
        )

    async def hide_guestbook_entry(self, entry_id: str, reason: str) -> GuestbookEntry:
        raise ApiError(403, "snapshot fake: read only")

    async def unhide_guestbook_entry(self, entry_id: str) -> GuestbookEntry:
        raise ApiError(403, "snapshot fake: read only")

    async def rsvp_summary(self, page_id: str) -> RsvpSummary:
        return RSVP_SUMMARY if page_id == "p1" else RsvpSummary()

    async def payments(
        self, *, status: str = "", flagged: bool | None = None, cursor: str | None = None
    ) -> Listing[AdminPayment]:
        return Listing(items=[p for p in PAYMENTS if (not status or p.status == status) and (not flagged or p.flagged)])

    async def refund(self, payment_id: str, reason: str, amount: int | None = None) -> AdminPayment:
        raise ApiError(403, "snapshot fake: read only")

    async def review(self, payment_id: str, decision: str, note: str) -> AdminPayment:
        raise ApiError(403, "snapshot fake: read only")

    async def datasets(self) -> list[Dataset]:
        return [Dataset(name="smoke"), Dataset(name="full")]

    async def evaluation_results(self, dataset: str) -> EvaluationResult | None:
        return EVALUATION if dataset == "smoke" else None

    async def run_evaluation(self, dataset: str) -> EvaluationResult:
        return EVALUATION

    async def evaluation_history(
        self, dataset: str, *, limit: int = 20, cursor: str | None = None
    ) -> Listing[EvaluationRun]:
        return Listing(items=HISTORY if dataset == "smoke" else [])

    async def evaluation_run(self, run_id: str) -> EvaluationResult:
        return EVALUATION

    async def compare_runs(self, to: str, before: str | None = None) -> EvaluationComparison | None:
        return COMPARISON

    async def rerun_case(self, run_id: str, case: str) -> EvaluationResult:
        raise ApiError(403, "snapshot fake: read only")

    async def export_run(self, run_id: str, fmt: str) -> bytes:
        return b""

    def chat_link(self) -> FakeChatLink:
        return self.link

    async def close(self) -> None:
        return None
