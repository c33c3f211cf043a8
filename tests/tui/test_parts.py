"""The admin app's parts that need no server: the token file, streamed chunks growing in the
chat log, the components' readable form, the command palette, and ``mochung tui --logout``."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.command import CommandList, CommandPalette
from typer.testing import CliRunner

from mochung.cli import app as cli
from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi, ReadOnlyRefused
from mochung.tui.models import ChatEntry
from mochung.tui.tokens import TokenStore
from mochung.tui.widgets.chat_log import ChatBubble, ChatLog
from mochung.tui.widgets.components import SuggestionChips, component_widget, map_links
from tests.support.waiting import eventually
from tests.tui.conftest import visible_text
from tests.tui.fakes import FakeAdminApi


def test_token_store_is_private_and_per_server(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "config" / "tokens.json")
    assert store.load("http://a.test") is None
    store.save("http://a.test/", "token-a")
    store.save("http://b.test", "token-b")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.load("http://a.test") == "token-a" and store.load("http://b.test") == "token-b"
    assert store.forget("http://a.test") is True and store.forget("http://a.test") is False
    assert store.load("http://a.test") is None and store.load("http://b.test") == "token-b"


def test_token_store_tightens_an_old_loose_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    TokenStore(path).save("http://a.test", "secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_logout_command_forgets_the_token(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    store = TokenStore()
    assert str(store.path).startswith(str(tmp_path))
    store.save("http://admin.test:3002", "token")
    result = CliRunner().invoke(cli, ["tui", "--url", "http://admin.test:3002/", "--logout"])
    assert result.exit_code == 0 and "logged out of http://admin.test:3002" in result.output
    assert TokenStore().load("http://admin.test:3002") is None
    again = CliRunner().invoke(cli, ["tui", "--url", "http://admin.test:3002", "--logout"])
    assert "no saved token" in again.output
    wrong = CliRunner().invoke(cli, ["tui", "--url", "admin.test"])
    assert wrong.exit_code == 1 and "must start with http" in wrong.output


async def test_read_only_client_refuses_changes_before_sending_anything() -> None:
    api = HttpAdminApi("http://127.0.0.1:9", read_only=True)  # nothing listens there: no request may be made
    for call in (
        api.refund("p", "r"),
        api.review("p", "approve", ""),
        api.hide_page("p", "r"),
        api.hide_chat("c", "r"),
        api.update_user("u", is_active=False),
        api.run_evaluation("smoke"),
    ):
        try:
            await call
        except ReadOnlyRefused:
            continue
        raise AssertionError("a state change went through in read-only mode")
    await api.close()


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChatLog()


async def test_streamed_chunks_grow_one_bubble_until_the_answer_arrives() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 20)) as pilot:
        log = app.query_one(ChatLog)
        await log.add_entry(ChatEntry(message_id="m1", role="user", content="안녕"))
        await log.add_chunk("m1", "반가워요, ")
        await pilot.pause()
        streaming = [b for b in log.query(ChatBubble) if b.has_class("streaming")]
        assert len(streaming) == 1 and "반가워요," in visible_text(streaming[0])
        await log.add_chunk("m1", "무엇을 도와드릴까요?")
        await pilot.pause()
        assert "반가워요, 무엇을 도와드릴까요?" in visible_text(streaming[0])
        await log.add_entry(ChatEntry(message_id="m1", role="assistant", content="반가워요! 무엇을 도와드릴까요?"))
        await pilot.pause()
        answers = [b for b in log.query(ChatBubble) if b.speaker == "assistant"]
        assert answers == streaming and not answers[0].has_class("streaming")
        assert "반가워요! 무엇을 도와드릴까요?" in visible_text(answers[0])


def test_location_links_and_unknown_components() -> None:
    links = dict(map_links({"placeName": "더채플", "address": "서울 강남구", "lat": 37.5, "lng": 127.0}))
    assert links["Kakao"].startswith("https://map.kakao.com/link/to/") and links["Kakao"].endswith(",37.5,127.0")
    assert links["Naver"].startswith("https://map.naver.com/p/search/")
    assert map_links({}) == []
    chips = component_widget({"type": "AgentSuggestMessage", "props": {"suggestions": [{"displayText": "네"}]}})
    assert isinstance(chips, SuggestionChips) and chips.suggestions == [{"displayText": "네"}]
    strange = component_widget({"type": "Guestbook", "props": {"title": "[b]not markup[/b]"}})
    assert strange.border_title == "Guestbook"


async def test_suggestion_chip_sends_its_value_in_the_test_room() -> None:
    api = FakeAdminApi()
    app = AdminApp(api)
    async with app.run_test(size=(140, 60)) as pilot:
        for key in ("4", "t"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        chips = app.screen.query_one(SuggestionChips)
        await pilot.click(chips.query("Button").first())
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert api.link.sent == ["갤러리를 추가해줘"]


async def test_command_palette_opens_screens() -> None:
    app = AdminApp(FakeAdminApi())
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"Open Payments")
        palette = app.screen
        assert isinstance(palette, CommandPalette)

        def found() -> bool:  # the palette searches in a worker of its own
            options = palette.query_one(CommandList)
            return options.option_count > 0 and "Open Payments" in str(options.get_option_at_index(0).prompt)

        await eventually(found, "the palette to offer Open Payments", pause=pilot.pause)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.current_mode == "payments"


async def test_read_only_live_chat_watches_but_cannot_open_a_test_room() -> None:
    app = AdminApp(FakeAdminApi(read_only=True))
    async with app.run_test(size=(140, 40)) as pilot:
        for key in ("4", "t"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.screen.room is None
        await pilot.press("enter")  # watching a session is not a change: allowed
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.room == "room-minsu"
        chat_input = app.screen.query_one("#chat-input")
        assert chat_input.disabled and "read-only" in chat_input.placeholder
