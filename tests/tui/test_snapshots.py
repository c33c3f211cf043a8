"""Each screen rendered with a fixed fake API (snapshots test rendering only; behaviour is
tested against the real server). Regenerate with ``pytest tests/tui --snapshot-update`` and
look at the SVGs before committing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from mochung.tui.app import AdminApp
from tests.tui.conftest import settle
from tests.tui.fakes import FakeAdminApi

SIZE = (140, 42)
Steps = Callable[[Pilot[Any]], Awaitable[None]]


def keys(*pressed: str) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot.app, pilot, blink=False)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot.app, pilot, blink=False)

    return run


def app(*, signed_in: bool = True, read_only: bool = False) -> AdminApp:
    return AdminApp(FakeAdminApi(signed_in=signed_in, read_only=read_only))


def test_login_screen(snap_compare: Any) -> None:
    async def wrong_password(pilot: Pilot[Any]) -> None:
        await settle(pilot.app, pilot, blink=False)
        pilot.app.screen.query_one("#email", Input).value = "admin@mochung.kr"
        pilot.app.screen.query_one("#password", Input).value = "wrong"
        pilot.app.screen.query_one("#password", Input).focus()
        await pilot.press("enter")
        await settle(pilot.app, pilot, blink=False)

    assert snap_compare(app(signed_in=False), terminal_size=SIZE, run_before=wrong_password)


def test_dashboard(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys())


def test_users(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("2", "down"))


def test_users_confirmation(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("2", "down", "x"))


def test_moderation_with_message_context(snap_compare: Any) -> None:
    # tab × 3: page filter → pages → chat filter → room → chats
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("3", "tab", "tab", "tab", "down"))


def test_live_chat_with_components(snap_compare: Any) -> None:
    async def chat(pilot: Pilot[Any]) -> None:
        await keys("4", "t")(pilot)
        pilot.app.screen.query_one("#chat-input", Input).value = "갤러리도 넣어줘"
        await pilot.press("enter")
        await settle(pilot.app, pilot, blink=False)

    assert snap_compare(app(), terminal_size=(140, 60), run_before=chat)


def test_payments_flagged_detail(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("5", "down"))


def test_refund_confirmation_shows_the_amount(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("5", "f"))


def test_payments_read_only_hides_actions(snap_compare: Any) -> None:
    assert snap_compare(app(read_only=True), terminal_size=SIZE, run_before=keys("5"))


def test_evaluation_results_and_trajectory(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("6", "tab", "down", "down"))


def test_system_processes(snap_compare: Any) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("7"))


def test_moderation_page_detail_with_rsvp_summary(snap_compare: Any) -> None:
    # the pages list has focus: down and up again highlight the first page, whose detail
    # shows its RSVP summary
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("3", "down", "up"))


def test_moderation_guestbook_tab(snap_compare: Any) -> None:
    # g: the Guestbook tab; down: the hidden entry (its name is written as markup, shown as typed)
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("3", "g", "down"))
