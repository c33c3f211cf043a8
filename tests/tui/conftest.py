"""The admin app against a real server: ``create_app`` served on a free local port inside the
test's own event loop (SQLite), and helpers to drive the app and read what it shows."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input

from mochung.server.app import create_app
from mochung.settings import Settings
from tests.support import PASSWORD

ADMIN_EMAIL = "admin@mochung.test"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The TUI tests run on SQLite only: they test the app, the server has its own suites."""
    path = tmp_path / "mochung.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite://{path}"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    admin_id: str
    admin_token: str

    async def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        async with aiohttp.ClientSession() as session:
            async with session.request(method, self.url + path, headers=headers, **kwargs) as response:
                assert response.status < 400, await response.text()
                return await response.json(content_type=None) if response.status != 204 else None

    async def login(self, email: str, password: str = PASSWORD) -> str:
        async with aiohttp.ClientSession() as session:
            body = {"email": email, "password": password}
            async with session.post(self.url + "/api/auth/login", json=body) as response:
                assert response.status == 200, await response.text()
                return (await response.json())["access_token"]

    async def register(self, email: str) -> tuple[str, str]:
        """A plain user: (id, token)."""
        async with aiohttp.ClientSession() as session:
            body = {"email": email, "password": PASSWORD}
            async with session.post(self.url + "/api/auth/register", json=body) as response:
                assert response.status == 201, await response.text()
                user_id = (await response.json())["id"]
        return user_id, await self.login(email)


@pytest.fixture
async def live_server(make_settings: Callable[..., Settings]) -> AsyncIterator[LiveServer]:
    from mochung.domain.users import create_admin

    settings = make_settings()
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    try:
        admin, _ = await create_admin(ADMIN_EMAIL, PASSWORD, "관리자")
        server = LiveServer(url, settings, str(admin.id), "")
        server.admin_token = await server.login(ADMIN_EMAIL)
        yield server
    finally:
        await runner.cleanup()


def visible_text(widget: Widget) -> str:
    """The characters a widget shows on screen right now, line by line."""
    width, height = widget.outer_size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))


def table_rows(table: DataTable[Any]) -> list[str]:
    """Each row of a table as the cells it shows, joined by " | " (columns may be scrolled off)."""
    return [" | ".join(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]


async def settle(app: App[Any], pilot: Pilot[Any], *, blink: bool = True) -> None:
    """Let the workers finish and the messages they posted be handled. ``blink=False`` also
    stops the text cursors blinking, so a snapshot does not depend on the moment it is taken."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    if not blink:
        for field in app.screen.query(Input):
            field.cursor_blink = False
    await pilot.pause()


async def log_in(app: App[Any], pilot: Pilot[Any], email: str = ADMIN_EMAIL, password: str = PASSWORD) -> None:
    # filled in directly (typing key by key is slow and tests nothing more), then Enter as a user would
    app.screen.query_one("#email", Input).value = email
    app.screen.query_one("#password", Input).value = password
    app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await settle(app, pilot)


async def open_screen(app: App[Any], pilot: Pilot[Any], key: str) -> None:
    """Log in as the admin, then switch to screen ``key`` ("1"–"6") and let it load."""
    await log_in(app, pilot)
    await pilot.press(key)
    await settle(app, pilot)
