"""The admin app driven with Pilot against a real server on a local port (SQLite):
what an operator does, and what they see."""

from __future__ import annotations

import stat
from pathlib import Path

from textual.widgets import DataTable, Input, Static

from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi
from mochung.tui.format import number
from mochung.tui.tokens import TokenStore
from mochung.tui.widgets.stat_tile import StatTile
from tests.tui.conftest import LiveServer, log_in, open_screen, settle, table_rows, visible_text

SIZE = (150, 45)


def make_app(server: LiveServer, tmp_path: Path, *, read_only: bool = False) -> AdminApp:
    return AdminApp(HttpAdminApi(server.url, read_only=read_only), TokenStore(tmp_path / "config" / "tokens.json"))


async def test_login_saves_token_and_dashboard_matches_the_api(live_server: LiveServer, tmp_path: Path) -> None:
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "login"
        await log_in(app, pilot)
        assert app.current_mode == "dashboard"
        stats = await live_server.call("GET", "/api/admin/stats")
        tiles = {tile.key: visible_text(tile) for tile in app.screen.query(StatTile)}
        assert set(tiles) == {key for key in stats if not key.endswith("At")}
        for key, value in stats.items():
            if key.endswith("At"):
                continue
            leaves = value.values() if isinstance(value, dict) else [value]
            for leaf in leaves:
                for inner in leaf.values() if isinstance(leaf, dict) else [leaf]:
                    assert number(inner) in tiles[key], (key, inner, tiles[key])
        assert "1" in tiles["users"] and "Admins" in tiles["users"]  # the one admin of this server

    store = tmp_path / "config" / "tokens.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert TokenStore(store).load(live_server.url)

    # a second run starts signed in with the saved token; logging out forgets it
    again = make_app(live_server, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        assert again.current_mode == "dashboard"
        await pilot.press("ctrl+l")
        await settle(again, pilot)
        assert again.current_mode == "login"
    assert TokenStore(store).load(live_server.url) is None


async def test_wrong_password_shows_an_error(live_server: LiveServer, tmp_path: Path) -> None:
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await log_in(app, pilot, password="not the password")
        assert app.current_mode == "login"
        error = visible_text(app.screen.query_one("#login-error", Static))
        assert "Invalid" in error or "password" in error.lower()
        assert not (tmp_path / "config" / "tokens.json").exists()


async def test_a_non_admin_cannot_sign_in(live_server: LiveServer, tmp_path: Path) -> None:
    await live_server.register("bride@example.com")
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await log_in(app, pilot, email="bride@example.com")
        assert app.current_mode == "login"
        assert "not an admin" in visible_text(app.screen.query_one("#login-error", Static))


async def test_an_expired_token_returns_to_login(live_server: LiveServer, tmp_path: Path) -> None:
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await log_in(app, pilot)
        app.api.token = "not-a-valid-token"  # what an expired or revoked token looks like to the server
        await pilot.press("2")
        await settle(app, pilot)
        assert app.current_mode == "login"
        assert TokenStore(tmp_path / "config" / "tokens.json").load(live_server.url) is None


async def test_users_search_and_deactivate_with_confirmation(live_server: LiveServer, tmp_path: Path) -> None:
    user_id, _ = await live_server.register("groom@example.com")
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "2")
        await pilot.press("slash")
        app.screen.query_one("#search", Input).value = "groom"
        await pilot.press("enter")
        await settle(app, pilot)
        table = app.screen.query_one("#users", DataTable)
        assert [row.split(" | ")[0] for row in table_rows(table)] == ["groom@example.com"]
        await pilot.press("x")
        await settle(app, pilot)
        assert "Deactivate groom@example.com?" in visible_text(app.screen.query_one("#dialog-body", Static))
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert "DEACTIVATED" in table_rows(table)[0]
    listing = await live_server.call("GET", "/api/admin/users", params={"q": "groom"})
    assert listing["items"][0]["id"] == user_id and listing["items"][0]["isActive"] is False


async def test_network_errors_are_notifications_not_crashes(tmp_path: Path) -> None:
    app = AdminApp(HttpAdminApi("http://127.0.0.1:9"), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await log_in(app, pilot)
        assert app.current_mode == "login"
        assert "cannot reach" in visible_text(app.screen.query_one("#login-error", Static))


async def test_grant_admin_and_refusals_become_notifications(live_server: LiveServer, tmp_path: Path) -> None:
    await live_server.register("helper@example.com")
    app = make_app(live_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "2")
        table = app.screen.query_one("#users", DataTable)
        emails = [row.split(" | ")[0] for row in table_rows(table)]
        assert emails == ["helper@example.com", "admin@mochung.test"]  # newest first
        await pilot.press("g")
        await settle(app, pilot)
        assert "Grant admin to helper@example.com?" in visible_text(app.screen.query_one("#dialog-body", Static))
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert " | admin | active" in table_rows(table)[0]

        await pilot.press("down", "g")  # my own row: the server refuses, the app says so and stays up
        await settle(app, pilot)
        await pilot.click("#confirm")
        await settle(app, pilot)
        messages = [notification.message for notification in app._notifications]
        assert "you cannot remove your own admin right" in messages
        assert app.current_mode == "users" and " | admin | active" in table_rows(table)[1]
