"""The admin app, live, against a real server: the dashboard updates itself when turns
happen (no key pressed), the test room answers from the page chosen (and switched), the
System screen lists the running processes, and the key hints stay while typing."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Select, Static

from mochung.cli.demo import wedding_components
from mochung.domain.models import Page, User
from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi
from mochung.tui.screens.dashboard import DashboardScreen
from mochung.tui.screens.live_chat import DEMO_SLUG, LiveChatScreen
from mochung.tui.screens.system import SystemScreen
from mochung.tui.tokens import TokenStore
from mochung.tui.widgets.chat_log import ChatBubble, ChatLog
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.waiting import eventually
from tests.tui.conftest import LiveServer, open_screen, settle, table_rows, visible_text

SIZE = (150, 45)


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screens refresh every few seconds; in tests, every fraction of one."""
    monkeypatch.setattr(DashboardScreen, "refresh_seconds", 0.2)
    monkeypatch.setattr(SystemScreen, "refresh_seconds", 0.2)


def make_app(server: LiveServer, tmp_path: Path) -> AdminApp:
    return AdminApp(HttpAdminApi(server.url), TokenStore(tmp_path / "tokens.json"))


async def a_turn(server: LiveServer, email: str, text: str = "안녕하세요") -> None:
    """A couple's chat turn, from the frontend's side, to its answer."""
    user_id, token = await server.register(email)
    couple = ChatClient(server.url, "namespace")
    try:
        await couple.connect(token)
        room = new_room()
        session_id = (await couple.join(room, user_id))["session_id"]
        message_id = await couple.send(session_id, room, user_id, text)
        await couple.answer(message_id)
    finally:
        await couple.close()


def shown(widget: Any) -> str:
    return visible_text(widget)


def summary(screen: Any, panel: str) -> str:
    """The line under a sparkline (what it shows now)."""
    return shown(screen.query_one(f"#{panel} .spark-summary", Static))


async def test_the_dashboard_updates_itself_when_turns_happen(live_server: LiveServer, tmp_path: Path) -> None:
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "1")
        screen = app.screen
        await eventually(lambda: "0 in the hour" in summary(screen, "spark-turns"), "an empty hour", pause=pilot.pause)
        assert "database ok" in shown(screen.query_one("#health", Static))

        await a_turn(live_server, "first@example.com")  # no key is pressed from here on
        await eventually(
            lambda: "1 in the hour" in summary(screen, "spark-turns"), "the turn on the sparkline", pause=pilot.pause
        )
        await a_turn(live_server, "second@example.com")
        await eventually(
            lambda: "2 in the hour" in summary(screen, "spark-turns"), "the second turn", pause=pilot.pause
        )
        assert "ms" in summary(screen, "spark-p50") and "ms" in summary(screen, "spark-p95")
        assert "0 in the hour" in summary(screen, "spark-errors")
        runs = next(tile for tile in screen.query("StatTile") if getattr(tile, "key", "") == "agentRuns")
        await eventually(lambda: "2" in shown(runs), "the agent runs tile", pause=pilot.pause)


async def _published_page(owner: User, place: str, slug: str | None = None) -> Page:
    data = copy.deepcopy(wedding_components())
    for component in data["components"]:
        if component["type"] == "Location":
            component["props"]["placeName"] = place
            component["props"]["mapUrl"] = f"https://map.kakao.com/link/to/{place},37.5,127.0"
        if component["type"] == "Cover":
            component["props"]["place"] = place
    return await Page.create(
        user_id=owner.id,
        title=f"{place} 결혼식",
        slug=slug or f"page-{uuid.uuid4().hex[:8]}",
        component_data=data,
        is_published=True,
    )


def answers(log: ChatLog) -> list[str]:
    return [b.text for b in log.query(ChatBubble) if b.has_class("assistant") and not b.has_class("streaming")]


async def test_the_test_room_answers_from_the_page_chosen(live_server: LiveServer, tmp_path: Path) -> None:
    owner_id, _ = await live_server.register("couple@example.com")
    owner = await User.get(id=owner_id)
    # the demo page (what `mochung demo` seeds) is the older one: the default is by slug, not the newest
    second = await _published_page(owner, "그랜드하얏트서울", slug=DEMO_SLUG)
    first = await _published_page(owner, "더채플앳청담")
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "4")
        screen = app.screen
        assert isinstance(screen, LiveChatScreen)
        select: Select[str] = screen.query_one("#page-select", Select)
        await eventually(lambda: len(screen.pages) == 2, "the published pages", pause=pilot.pause)
        assert select.value == str(second.id)  # the demo page by default
        select.value = str(first.id)
        await settle(app, pilot)
        await pilot.press("t")
        await eventually(lambda: screen.room_page == str(first.id), "the room on the first page", pause=pilot.pause)
        assert "더채플앳청담 결혼식" in shown(screen.query_one("#room-title", Static))

        chat_input = screen.query_one("#chat-input", Input)
        assert chat_input.has_focus
        # the key hints stay while typing: the screens' F-keys and the room's control keys
        keys = {binding.key for _, binding, *_ in screen.active_bindings.values()}
        assert {"f1", "f4", "f7", "ctrl+t", "ctrl+o", "ctrl+r"} <= keys
        chat_input.value = "예식장이 어디예요?"
        await pilot.press("enter")
        log = screen.query_one("#chat-log", ChatLog)
        await eventually(
            lambda: any("더채플앳청담" in a for a in answers(log)), "an answer from page 1", pause=pilot.pause
        )

        select.value = str(second.id)  # switched: the agents now read the second page
        await eventually(lambda: screen.room_page == str(second.id), "the room on the second page", pause=pilot.pause)
        await settle(app, pilot)
        screen.query_one("#chat-input", Input).value = "예식장이 어디예요?"
        screen.query_one("#chat-input", Input).focus()
        await pilot.press("enter")
        await eventually(
            lambda: any("그랜드하얏트서울" in a for a in answers(screen.query_one("#chat-log", ChatLog))),
            "an answer from page 2",
            pause=pilot.pause,
        )


async def test_the_system_screen_lists_the_running_processes(live_server: LiveServer, tmp_path: Path) -> None:
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "7")
        screen = app.screen
        table = screen.query_one("#processes", DataTable)
        await eventually(lambda: table.row_count >= 1, "the web process", pause=pilot.pause)
        assert table_rows(table)[0].startswith("web | ")
        assert "embedded" in table_rows(table)[0]

        await a_turn(live_server, "system@example.com")  # the embedded worker starts with the first turn
        await eventually(
            lambda: any(row.startswith("worker | ") for row in table_rows(table)), "the worker", pause=pilot.pause
        )
        worker = next(row for row in table_rows(table) if row.startswith("worker | "))
        assert f"0 / {live_server.settings.worker_concurrency}" in worker
        assert "queue depth 0" in shown(screen.query_one("#system-summary", Static))
