"""`mochung demo`: seed a small, realistic data set so every admin screen has something on it.

Idempotent: a second run finds what the first made (by email, slug, room and page) and
adds nothing. It goes through the domain functions, the agents' offline runtime and the
embedded PortOne sandbox (served on a loopback port for the duration of the command),
never through HTTP to a running server, so it works before `mochung serve` is started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

import typer

from mochung.settings import Settings

ADMIN_EMAIL = "admin@mochung.local"
COUPLE_EMAIL = "couple@mochung.local"
DEMO_PASSWORD = "mochung-demo-1234"
DEMO_SLUG = "minjun-seoyeon"
DEMO_ROOM = "demo-minjun-seoyeon"
HIDDEN_SLUG = "demo-hidden-ad"
TAMPERED_AMOUNT = 990  # what the "customer" paid instead of the plan's price: flagged for review
QUESTIONS = (
    "예식장 위치랑 오시는 길 알려주세요",
    "축의금 계좌 정보 보여줘",
    "예식 날짜와 시간이 언제예요?",
    "몇 명 온대요?",
)
# (side, name, attending, party size, meal, message): what guests answered
RSVPS = (
    ("groom", "김태호", True, 2, "yes", "꼭 갈게! 축하한다 민준아"),
    ("groom", "박지훈", True, 1, "yes", None),
    ("groom", "최영민", False, 0, None, "출장이라 못 가서 미안해, 마음만 보낼게"),
    ("groom", "정우성", True, 3, "undecided", None),
    ("bride", "한지민", True, 2, "yes", "서연아 너무 축하해!"),
    ("bride", "윤아름", True, 1, "no", None),
    ("bride", "송하늘", True, 4, "yes", "가족 모두 함께 갈게요"),
    ("bride", "강다은", False, 0, None, None),
)
# (name, content): the guestbook, oldest first; the last one is spam the admin hides
GUESTBOOK = (
    ("이모", "우리 서연이 시집가는구나. 둘이 예쁘게 잘 살아라."),
    ("김대리", "민준 씨, 결혼 진심으로 축하드립니다. 두 분 오래오래 행복하세요!"),
    ("한지민", "서연아 결혼 너무 축하해 💕 신혼여행 사진 꼭 보여줘"),
    ("대학 동기 일동", "민준아 드디어 가는구나! 행복하게 잘 살아라"),
    ("무료상담", "최저가 예식장 상담! http://spam.example 지금 바로 연락 주세요"),
)
GUESTBOOK_PASSWORD = "demo-1234"


def wedding_components() -> dict[str, Any]:
    """A complete invitation, with the props PROTOCOL.md lists for each component."""
    lat, lng = 37.5248, 127.0425
    return {
        "components": [
            {
                "type": "Cover",
                "id": "cover",
                "props": {
                    "title": "민준 ♥ 서연, 결혼합니다",
                    "groomName": "김민준",
                    "brideName": "이서연",
                    "date": "2027년 5월 15일 토요일 낮 12시 30분",
                    "place": "더채플앳청담 3층 채플홀",
                    "mainPhoto": "https://picsum.photos/seed/mochung-cover/800/1200",
                },
            },
            {
                "type": "Invitation",
                "id": "invitation",
                "props": {
                    "text": "서로가 마주 보며 다져온 사랑을\n이제 함께 한곳을 바라보며 걸어가려 합니다.\n"
                    "저희 두 사람의 새로운 시작을\n따뜻한 마음으로 축복해 주시면 감사하겠습니다.",
                    "groomParents": "김영수 · 박미경의 장남",
                    "brideParents": "이정훈 · 최은영의 장녀",
                },
            },
            {
                "type": "Calendar",
                "id": "calendar",
                "props": {
                    "weddingDate": "2027-05-15",
                    "weddingTime": "12:30",
                    "weddingDateText": "2027년 5월 15일 토요일 오후 12시 30분",
                },
            },
            {
                "type": "Location",
                "id": "location",
                "props": {
                    "placeName": "더채플앳청담",
                    "address": "서울 강남구 선릉로 757",
                    "hall": "3층 채플홀",
                    "lat": lat,
                    "lng": lng,
                    "mapUrl": f"https://map.kakao.com/link/to/더채플앳청담,{lat},{lng}",
                    "transport": [
                        {"mode": "지하철", "text": "7호선 청담역 13번 출구에서 도보 7분"},
                        {"mode": "버스", "text": "청담사거리 정류장 하차 (간선 301, 342, 472)"},
                        {"mode": "주차", "text": "건물 지하 주차장 2시간 무료"},
                    ],
                },
            },
            {
                "type": "Account",
                "id": "account",
                "props": {
                    "accounts": [
                        {"side": "groom", "owner": "김민준", "bank": "신한은행", "number": "110-432-781245"},
                        {"side": "groom", "owner": "김영수", "bank": "국민은행", "number": "272-21-0458-113"},
                        {"side": "bride", "owner": "이서연", "bank": "카카오뱅크", "number": "3333-08-1852274"},
                        {"side": "bride", "owner": "이정훈", "bank": "우리은행", "number": "1002-457-330982"},
                    ]
                },
            },
            {
                "type": "Gallery",
                "id": "gallery",
                "props": {"photos": [f"https://picsum.photos/seed/mochung-{n}/800/1200" for n in range(1, 7)]},
            },
        ]
    }


@dataclass
class DemoReport:
    admin_email: str
    couple_email: str
    password: str
    slug: str
    page_id: str = ""
    room: str = ""
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, what: str, created: bool) -> None:
        (self.created if created else self.kept).append(what)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    password: Annotated[
        str, typer.Option(help="Password of the demo admin and couple accounts.", show_default=True)
    ] = DEMO_PASSWORD,
    force: Annotated[
        bool,
        typer.Option("--force", help="Seed even a shared (distributed-mode) database: it gets a known admin password."),
    ] = False,
) -> None:
    """Seed demo data (an admin, a couple with a published page, a chat, a payment to review)."""
    from mochung.cli.common import fail, run_or_fail, with_database
    from mochung.settings import load_settings

    settings = run_or_fail(load_settings)
    if settings.distributed and not force:
        raise fail(
            "refusing to seed a shared database with demo accounts and a known admin password; "
            "run it in embedded mode, or pass --force if this database is a throwaway"
        )
    if len(password) < 8:
        raise fail("--password must be at least 8 characters")
    report = run_or_fail(lambda: with_database(settings, lambda: seed(settings, password)))
    _print(settings, report)


async def seed(settings: Settings, password: str) -> DemoReport:
    import aiohttp

    from mochung.domain import users

    report = DemoReport(ADMIN_EMAIL, COUPLE_EMAIL, password, DEMO_SLUG)
    admin, created = await users.create_admin(ADMIN_EMAIL, password, "모청 관리자")
    report.note("admin account", created)
    couple = await _couple(password, report)
    page = await _page(settings, couple, report)
    await _moderated_page(settings, admin, couple, report)
    page = await _guests(settings, admin, couple, page, report)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        await _chat(settings, http, couple, page, report)
        await _payment(settings, http, couple, page, report)
    return report


async def _couple(password: str, report: DemoReport) -> Any:
    from mochung.domain import users
    from mochung.domain.models import User

    existing = await User.get_or_none(email_key=COUPLE_EMAIL)
    report.note("couple account", existing is None)
    return existing or await users.register(COUPLE_EMAIL, password, "김민준 ♥ 이서연")


async def _page(settings: Settings, couple: Any, report: DemoReport) -> Any:
    """Published as the pages feature publishes: validated components, Markdown snapshot in storage."""
    from mochung.adapters.storage import open_storage
    from mochung.domain import pages
    from mochung.domain.components import parse_components
    from mochung.domain.models import Page

    page = await Page.get_or_none(slug=DEMO_SLUG)
    report.note("published page", page is None)
    if page is None:
        data = wedding_components()
        parse_components(data)  # the demo shows only what the builder would accept
        async with open_storage(settings) as storage:
            page = await pages.publish_page(couple, "민준 ♥ 서연 결혼합니다", DEMO_SLUG, data, storage)
    report.page_id = str(page.id)
    return page


async def _moderated_page(settings: Settings, admin: Any, couple: Any, report: DemoReport) -> None:
    """A second page, hidden by the admin with a reason: the moderation screen's hidden
    list and the audit log start with one entry each."""
    from mochung.adapters.storage import open_storage
    from mochung.domain import moderation, pages
    from mochung.domain.models import Page

    if await Page.exists(slug=HIDDEN_SLUG):
        report.note("hidden page", False)
        return
    data = {
        "components": [
            {"type": "Invitation", "id": "ad", "props": {"text": "최저가 예식장 상담! 지금 바로 연락 주세요"}}
        ]
    }
    async with open_storage(settings) as storage:
        page = await pages.publish_page(couple, "예식장 특가 안내", HIDDEN_SLUG, data, storage)
        await moderation.hide_page(admin, page.id, "청첩장이 아닌 광고 페이지", storage)
    report.note("hidden page", True)


async def _guests(settings: Settings, admin: Any, couple: Any, page: Any, report: DemoReport) -> Any:
    """RSVP and the guestbook switched on, guests' answers and entries (as guests send them,
    through the domain's rules), one spam entry hidden by the admin (audited): the couple's
    RSVP summary, the moderation's Guestbook tab and the agents' guest questions have data."""
    import datetime as dt

    from mochung.adapters.storage import open_storage
    from mochung.domain import pages
    from mochung.domain.guests import guestbook, rsvps
    from mochung.domain.guests.settings import GuestbookSettings, check_rsvp, read_settings
    from mochung.domain.models import GuestbookEntry, Rsvp

    current = read_settings(page.settings)
    switched_off = not (current.rsvp.enabled and current.guestbook.enabled)
    if switched_off:
        wanted = current.merged(check_rsvp(True, None, True, 5), GuestbookSettings(enabled=True))
        async with open_storage(settings) as storage:
            changes = pages.PageChanges(settings=wanted.stored())
            page = await pages.update_page(str(page.id), couple, changes, storage)
    report.note("RSVP and guestbook switched on", switched_off)
    if await Rsvp.exists(page_id=page.id):
        report.note("RSVP answers", False)
    else:
        now = dt.datetime.now(dt.UTC)
        for side, name, attending, party_size, meal, message in RSVPS:
            answer = rsvps.Answer(
                side=cast(rsvps.Side, side),
                name=name,
                attending=attending,
                party_size=party_size,
                meal=cast(rsvps.Meal | None, meal),
                message=message,
            )
            await rsvps.answer(page.slug, answer, now)
        report.note(f"{len(RSVPS)} RSVP answers", True)
    if await GuestbookEntry.exists(page_id=page.id):
        report.note("guestbook entries", False)
    else:
        written = [await guestbook.write(page, name, content, GUESTBOOK_PASSWORD) for name, content in GUESTBOOK]
        await guestbook.hide(admin, written[-1].id, "광고 글")
        report.note(f"{len(GUESTBOOK)} guestbook entries (one hidden)", True)
    return page


async def _chat(settings: Settings, http: Any, couple: Any, page: Any, report: DemoReport) -> None:
    """Real turns: the user's messages stored as the provider stores them, answered by the
    agents' offline runtime, stored with their runs as the chat actor stores them."""
    from mochung.agents import TurnInput, build_runtime
    from mochung.domain import chat, rooms
    from mochung.domain.models import ChatMessage

    session = (await rooms.join_session(couple, DEMO_ROOM, page.id)).session
    report.room = DEMO_ROOM
    if await ChatMessage.filter(session_id=session.id).exists():
        report.note("chat session", False)
        return
    offline = settings.model_copy(update={"llm": "offline", "kakao_rest_api_key": None})
    runtime = build_runtime(offline, http=http)
    for question in QUESTIONS:
        accepted = await chat.accept_user_message(session, question)
        start = await chat.start_run(accepted.message.message_id)
        turn = await chat.load_turn(accepted.message.message_id, settings.chat_history_limit)
        if start.run is None or turn is None:
            continue
        agent_turn = runtime.turn(
            TurnInput(text=question, history=turn.history, wedding=chat.wedding_context(turn.page, turn.guests))
        )
        answers: list[chat.Answer] = []
        async for event in agent_turn.events():
            if event.type in ("text", "component"):
                answers.append(chat.Answer(event.type, event.content, event.component))
        await chat.finish_run(start.run, answers, list(agent_turn.trajectory), dict(agent_turn.timings))
    report.note(f"chat session with {len(QUESTIONS)} turns", True)


async def _payment(settings: Settings, http: Any, couple: Any, page: Any, report: DemoReport) -> None:
    """A tampered sandbox payment: PortOne's record says 990 KRW for the 9,900 KRW plan, so
    verification fails it, cancels it at the sandbox and flags it for an admin's review."""
    from aiohttp import web

    from mochung.adapters.portone import create_embedded_sandbox, make_payment_provider, sandbox_api_secret
    from mochung.adapters.portone.sandbox.api import complete_sandbox_payment
    from mochung.domain import payments
    from mochung.domain.models import Payment

    if await Payment.filter(page_id=page.id).exists():
        report.note("payment awaiting review", False)
        return
    if not settings.payments_sandbox:
        report.notes.append("payments: PortOne keys are configured, so no demo payment was made")
        return
    runner = web.AppRunner(create_embedded_sandbox(settings))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        sandbox_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        provider = make_payment_provider(settings, http, sandbox_url=sandbox_url)
        plan = settings.plans[0]
        payment = await payments.create_payment(
            None, couple, settings.plans, amount=plan.amount, page_id=page.id, customer_name="김민준", plan_id=plan.id
        )
        await complete_sandbox_payment(
            http, sandbox_url, api_secret=sandbox_api_secret(settings), payment_id=payment.merchant_uid,
            amount=TAMPERED_AMOUNT,
        )  # fmt: skip
        quiet = logging.getLogger("mochung.payments")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # the failed verification is the point here, not news
        try:
            await payments.verify_payment(provider, payment, payment.merchant_uid)
        finally:
            quiet.setLevel(level)
    finally:
        await runner.cleanup()
    report.note("payment awaiting review", True)


def _print(settings: Settings, report: DemoReport) -> None:
    created = ", ".join(report.created) or "nothing (everything was already there)"
    frontend = settings.cors_origins[0] if settings.cors_origins else "http://localhost:3001"
    lines = [
        f"demo data ready in {settings.mode} mode ({settings.database_label})",
        f"  created: {created}",
        *([f"  kept:    {', '.join(report.kept)}"] if report.kept else []),
        "",
        f"  admin    {report.admin_email}  password: {report.password}",
        f"  couple   {report.couple_email}  password: {report.password}",
        f"  page     {settings.base_url}/api/page/public/{report.slug}  (id {report.page_id})",
        f"  hidden   page {HIDDEN_SLUG}, hidden by the admin (see Moderation and the audit log)",
        f"  guests   {len(RSVPS)} RSVP answers, {len(GUESTBOOK)} guestbook entries (one hidden by the admin)",
        f"  chat     room {report.room}",
        f"  payment  a {TAMPERED_AMOUNT:,} KRW sandbox payment for the {settings.plans[0].amount:,} KRW plan, "
        "failed and flagged for review",
        *(f"  note     {note}" for note in report.notes),
        "",
        "next:",
        "  mochung serve                  # start the server",
        f"  mochung tui --url {settings.base_url}   # log in as the admin",
        f"  frontend: {frontend}  (log in as the couple)",
    ]
    typer.echo("\n".join(lines))
