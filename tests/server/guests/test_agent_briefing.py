"""What the worker hands the agents about a page's guests (``guests.briefing`` through
``chat.load_turn``): the RSVP summary and the newest visible guestbook entries, never a
token, a password hash or a phone; and the agents answer from it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from mochung.agents import TurnInput, build_runtime
from mochung.agents.wedding import WeddingContext
from mochung.domain import chat, rooms
from mochung.domain.models import GuestbookEntry, Page, User
from mochung.server import keys
from mochung.settings import Settings
from tests.server.guests.helpers import answer, publish
from tests.support.users import user_with_headers


async def _turn_data(client: TestClient) -> tuple[dict[str, Any], chat.LoadedTurn]:
    account, headers = await user_with_headers()
    page = await publish(client, headers)
    rsvp_path = f"/api/page/public/{page['slug']}/rsvp"
    for body in (
        answer(side="groom", name="김철수", partySize=2, phone="010-1111-2222"),
        answer(side="bride", name="이영희", partySize=3),
        answer(side="bride", name="박민지", attending=False),
    ):
        assert (await client.post(rsvp_path, json=body)).status == 201
    book = f"/api/page/public/{page['slug']}/guestbook"
    for name, content in (("박서연", "결혼 축하해!"), ("광고", "무료 대출"), ("이모", "잘 살아라")):
        response = await client.post(book, json={"name": name, "content": content, "password": "secret-1"})
        assert response.status == 201
    await GuestbookEntry.filter(name="광고").update(is_hidden=True, hidden_reason="spam")
    user = await User.get(id=account["id"])
    session = (await rooms.join_session(user, "guests-room", (await Page.get(id=page["id"])).id)).session
    accepted = await chat.accept_user_message(session, "몇 명 온대요?")
    turn = await chat.load_turn(accepted.message.message_id, 20)
    assert turn is not None
    return page, turn


async def test_load_turn_brings_the_guests_without_secrets(client: TestClient) -> None:
    _, turn = await _turn_data(client)
    guests = turn.guests
    assert guests is not None
    rsvp = guests["rsvp"]
    assert (rsvp["enabled"], rsvp["responses"], rsvp["attending"], rsvp["not_attending"], rsvp["guests"]) == (
        True,
        3,
        2,
        1,
        5,
    )
    assert rsvp["by_side"] == {"groom": {"attending": 1, "guests": 2}, "bride": {"attending": 1, "guests": 3}}
    entries = guests["guestbook"]["entries"]
    assert [e["name"] for e in entries] == ["이모", "박서연"]  # newest first, the hidden one left out
    assert entries[0]["written_at"].endswith("+09:00")  # KST
    dumped = json.dumps(chat.wedding_context(turn.page, turn.guests), ensure_ascii=False)
    for secret in ("edit_token", "password", "phone", "010-1111-2222", "무료 대출", "$argon2"):
        assert secret not in dumped


async def test_the_offline_agents_answer_from_it(client: TestClient) -> None:
    _, turn = await _turn_data(client)
    runtime = build_runtime(_offline(client))
    wedding = chat.wedding_context(turn.page, turn.guests)
    answers: dict[str, str] = {}
    questions = (
        "몇 명 온대요?",
        "신부 측 참석 인원은?",
        "방명록에 뭐라고 썼어?",
        "결혼식까지 며칠 남았어?",
        "how many days until the wedding",
    )
    for question in questions:
        agent_turn = runtime.turn(TurnInput(text=question, history=[], wedding=wedding))
        texts = [event.content async for event in agent_turn.events() if event.type == "text"]
        answers[question] = texts[0] if texts else ""
    assert "모두 5명" in answers["몇 명 온대요?"] and "신랑측 2명" in answers["몇 명 온대요?"]
    assert answers["신부 측 참석 인원은?"].startswith("신부측 참석 인원은 3명")
    assert "이모" in answers["방명록에 뭐라고 썼어?"] and "무료 대출" not in answers["방명록에 뭐라고 썼어?"]
    # the page's wedding is 2027-05-15 (helpers.CALENDAR); today is today in Korea
    days = (dt.date(2027, 5, 15) - dt.datetime.now(ZoneInfo("Asia/Seoul")).date()).days
    expected = f"{days} days to go" if days > 1 else "wedding"
    assert expected in answers["how many days until the wedding"]
    assert (f"{days}일 남았어요 (D-{days})" if days > 1 else "결혼식") in answers["결혼식까지 며칠 남았어?"]


def _offline(client: TestClient) -> Settings:  # the app's settings with the offline model
    return client.server.app[keys.SETTINGS].model_copy(update={"llm": "offline", "kakao_rest_api_key": None})


def test_guest_data_is_kept_to_known_fields() -> None:
    context = WeddingContext.from_data(
        {
            "componentData": {"components": []},
            "guests": {
                "rsvp": {"responses": 2, "guests": -4, "edit_token_hash": "x", "by_side": {"groom": {"guests": "3"}}},
                "guestbook": {"entries": [{"name": "a", "content": "b", "password_hash": "h"}, "junk"]},
            },
        }
    )
    rsvp = context.rsvp_info()["rsvp"]
    assert rsvp["responses"] == 2 and rsvp["guests"] == 0 and rsvp["by_side"]["groom"]["guests"] == 0
    assert "edit_token_hash" not in json.dumps(rsvp)
    assert context.guestbook_info()["guestbook"]["entries"] == [{"name": "a", "content": "b", "written_at": ""}]
    # no guests given: known is false (the agent says it cannot see them, never "nobody")
    bare = WeddingContext.from_data({"componentData": {"components": []}})
    assert bare.rsvp_info()["rsvp"]["known"] is False
    assert bare.calendar_info()["today"] == dt.datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()
