"""Moderation and live chat against a real server: hide a message and see it leave
``roomHistory``; send a message as the admin's test user and see the streamed answer."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from textual.widgets import DataTable, Input, Static

from mochung.domain import chat, rooms
from mochung.domain.models import ChatMessage, Page, User
from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi
from mochung.tui.tokens import TokenStore
from mochung.tui.widgets.chat_log import ChatBubble, ChatLog
from tests.server.chat.helpers import ChatClient
from tests.support.waiting import eventually
from tests.tui.conftest import LiveServer, open_screen, settle, table_rows, visible_text

SIZE = (150, 45)


def make_app(server: LiveServer, tmp_path: Path) -> AdminApp:
    return AdminApp(HttpAdminApi(server.url), TokenStore(tmp_path / "tokens.json"))


async def room_history_of(server: LiveServer, room: str, user_id: str, token: str) -> list[dict]:
    """What the room's owner gets on joining, as the frontend would."""
    owner = ChatClient(server.url, "namespace")
    try:
        await owner.connect(token)
        await owner.join(room, user_id)
        return owner.events["roomHistory"][-1]
    finally:
        await owner.close()


async def test_hiding_a_chat_message_removes_it_from_room_history(live_server: LiveServer, tmp_path: Path) -> None:
    user_id, token = await live_server.register("bride@example.com")
    session = (await rooms.join_session(await User.get(id=user_id), "room-bride")).session
    await chat.accept_user_message(session, "무료 대출 http://spam.example")
    await chat.accept_user_message(session, "예식장 위치 추가해줘")
    before = await room_history_of(live_server, "room-bride", user_id, token)
    assert [m["content"] for m in before] == ["무료 대출 http://spam.example", "예식장 위치 추가해줘"]

    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "3")
        app.screen.query_one("#chat-room", Input).value = "room-bride"
        app.screen.query_one("#chat-room", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        chats = app.screen.query_one("#chats", DataTable)
        chats.focus()
        rows = table_rows(chats)
        assert len(rows) == 2 and "| 예식장 위치 추가해줘" in rows[0] and "| 무료 대출 http://spam.example" in rows[1]
        # newest first: the spam message is the second row
        await pilot.press("down")
        await settle(app, pilot)
        assert "▶      user: 무료 대출" in visible_text(app.screen.query_one("#context", Static))
        await pilot.press("h")
        await settle(app, pilot)
        assert "무료 대출" in visible_text(app.screen.query_one("#dialog-body", Static))
        app.screen.query_one("#reason", Input).value = "spam link"
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert table_rows(chats)[1].endswith("room-bride | user | HIDDEN | 무료 대출 http://spam.example")

    after = await room_history_of(live_server, "room-bride", user_id, token)
    assert [m["content"] for m in after] == ["예식장 위치 추가해줘"]
    hidden = await ChatMessage.get(content="무료 대출 http://spam.example")
    assert hidden.is_hidden and hidden.hidden_reason == "spam link"
    audit = await live_server.call("GET", "/api/admin/audit")
    assert any(entry["target"].endswith(str(hidden.id)) for entry in audit["items"])


def bubbles(log: ChatLog, speaker: str) -> list[ChatBubble]:
    return [bubble for bubble in log.query(ChatBubble) if bubble.speaker == speaker]


async def test_live_chat_streams_the_answer_to_a_test_message(live_server: LiveServer, tmp_path: Path) -> None:
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "4")
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        await eventually(lambda: screen.session_id is not None, "the test room's session-info", pause=pilot.pause)
        assert "your test room" in visible_text(screen.query_one("#room-title", Static))
        chat_input = screen.query_one("#chat-input", Input)
        assert not chat_input.disabled and chat_input.has_focus
        chat_input.value = "안녕하세요, 청첩장을 만들고 싶어요"
        await pilot.press("enter")
        log = screen.query_one("#chat-log", ChatLog)

        def answered() -> bool:
            answers = bubbles(log, "assistant")
            return bool(answers) and not any(b.has_class("streaming") for b in answers)

        await eventually(answered, "the agent's answer in the chat log", pause=pilot.pause)
        await settle(app, pilot)
        stored = await ChatMessage.filter(role="assistant", type="text").order_by("created_at")
        assert stored, "the server stored the answer"
        answers = bubbles(log, "assistant")
        assert stored[0].content in [bubble.text for bubble in answers]
        assert [b.text for b in bubbles(log, "user")] == ["안녕하세요, 청첩장을 만들고 싶어요"]
        shown = next(bubble for bubble in answers if bubble.text == stored[0].content)
        assert "agent" in visible_text(shown) and stored[0].content[:10] in visible_text(shown)


async def test_watching_a_users_room_shows_their_turn_live(live_server: LiveServer, tmp_path: Path) -> None:
    user_id, token = await live_server.register("groom@example.com")
    couple = ChatClient(live_server.url, "namespace")
    try:
        await couple.connect(token)
        info = await couple.join("room-groom", user_id)
        app = make_app(live_server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await open_screen(app, pilot, "4")
            sessions = app.screen.query_one("#sessions", DataTable)
            assert table_rows(sessions)[0].startswith("room-groom | groom@example.com")
            await pilot.press("enter")  # watch the highlighted session
            screen = app.screen
            await eventually(
                lambda: screen.session_id == info["session_id"], "joining the couple's room", pause=pilot.pause
            )
            assert "watching: room-groom" in visible_text(screen.query_one("#room-title", Static))
            assert screen.query_one("#chat-input", Input).disabled  # an admin watches, it does not talk here

            message_id = await couple.send(info["session_id"], "room-groom", user_id, "예식 날짜는 5월 15일이에요")
            answers = await couple.answer(message_id)
            log = screen.query_one("#chat-log", ChatLog)

            def seen() -> bool:
                if answers[0]["type"] == "component":  # shown as a card or chips, not as a bubble
                    return bool(log.query("ComponentCard, SuggestionChips"))
                return answers[0]["content"] in [bubble.text for bubble in bubbles(log, "assistant")]

            await eventually(seen, "the couple's answer in the admin's chat log", pause=pilot.pause)
            assert [b.text for b in bubbles(log, "user")] == ["예식 날짜는 5월 15일이에요"]
    finally:
        await couple.close()


async def public_status(server: LiveServer, slug: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/api/page/public/{slug}") as response:
            return response.status


async def test_hide_and_unhide_a_page_from_moderation(live_server: LiveServer, tmp_path: Path) -> None:
    user_id, _ = await live_server.register("spam@example.com")
    await Page.create(user_id=user_id, title="대출 광고", slug="loan-ad-tui", component_data={"components": []})
    assert await public_status(live_server, "loan-ad-tui") == 200
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "3")
        pages = app.screen.query_one("#pages", DataTable)
        assert table_rows(pages) == [
            "대출 광고 | loan-ad-tui | spam@example.com | published | 1"
        ]  # one view: the check above
        pages.focus()
        await pilot.press("h")
        await settle(app, pilot)
        assert "Its public link will answer 404." in visible_text(app.screen.query_one("#dialog-body", Static))
        await pilot.click("#confirm")  # no reason yet: refused in the dialog
        await settle(app, pilot)
        assert "A reason is required" in visible_text(app.screen.query_one("#dialog-error", Static))
        app.screen.query_one("#reason", Input).value = "loan spam"
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert table_rows(pages)[0].endswith("| HIDDEN | 1")
        assert "Hidden because: loan spam" in visible_text(app.screen.query_one("#context", Static))
        assert await public_status(live_server, "loan-ad-tui") == 404

        await pilot.press("u")
        await settle(app, pilot)
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert table_rows(pages)[0].endswith("| published | 1")
    assert await public_status(live_server, "loan-ad-tui") == 200
