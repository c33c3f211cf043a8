"""Moderation's Guestbook tab and a page's RSVP summary against a real server: hide an entry
with a reason and see it leave the public guestbook, unhide it; the page detail shows the
head-count."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from textual.widgets import DataTable, Input, Select, Static

from mochung.domain.guests.settings import GuestbookSettings, GuestSettings, RsvpSettings
from mochung.domain.models import GuestbookEntry, Page, Rsvp
from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi
from mochung.tui.tokens import TokenStore
from tests.tui.conftest import LiveServer, open_screen, settle, table_rows, visible_text

SIZE = (150, 45)


async def public_guestbook(server: LiveServer, slug: str) -> list[str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/api/page/public/{slug}/guestbook") as response:
            assert response.status == 200
            return [item["name"] for item in (await response.json())["items"]]


async def make_page(server: LiveServer) -> Page:
    user_id, _ = await server.register("couple@example.com")
    settings = GuestSettings(rsvp=RsvpSettings(enabled=True, ask_meal=True), guestbook=GuestbookSettings(enabled=True))
    page = await Page.create(
        user_id=user_id,
        title="민수 ♥ 지은",
        slug="minsu-jieun-tui",
        component_data={"components": []},
        settings=settings.stored(),
    )
    for name, side, attending, size, meal in [
        ("김철수", "groom", True, 2, "yes"),
        ("이영희", "bride", True, 3, "yes"),
        ("박민지", "bride", False, 0, None),
    ]:
        await Rsvp.create(
            page_id=page.id,
            side=side,
            name=name,
            attending=attending,
            party_size=size,
            meal=meal,
            edit_token_hash="x" * 64,
        )
    await GuestbookEntry.create(page_id=page.id, name="박서연", content="결혼 축하해!", password_hash="unused")
    await GuestbookEntry.create(page_id=page.id, name="광고", content="무료 대출 [b]지금[/b]", password_hash="unused")
    return page


async def test_guestbook_tab_hides_and_unhides_an_entry(live_server: LiveServer, tmp_path: Path) -> None:
    page = await make_page(live_server)
    assert await public_guestbook(live_server, page.slug) == ["광고", "박서연"]
    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "3")
        await pilot.press("g")
        await settle(app, pilot)
        table = app.screen.query_one("#guestbook", DataTable)
        assert app.focused is table
        rows = table_rows(table)
        assert len(rows) == 2 and "| 광고 |" in rows[0] and "무료 대출 [b]지금[/b]" in rows[0]
        await pilot.press("h")
        await settle(app, pilot)
        assert "It leaves the public guestbook at once." in visible_text(app.screen.query_one("#dialog-body", Static))
        app.screen.query_one("#reason", Input).value = "loan spam"
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert "| HIDDEN |" in table_rows(table)[0]
        assert "Hidden because: loan spam" in visible_text(app.screen.query_one("#guestbook-detail", Static))
        assert await public_guestbook(live_server, page.slug) == ["박서연"]

        # only the hidden ones, for this page (by its slug)
        app.screen.query_one("#guestbook-page", Input).value = page.slug
        await settle(app, pilot)

        app.screen.query_one("#guestbook-hidden", Select).value = "hidden"
        await settle(app, pilot)
        assert len(table_rows(table)) == 1
        table.focus()
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert table_rows(table) == []  # visible again: no longer listed among the hidden
    assert await public_guestbook(live_server, page.slug) == ["광고", "박서연"]
    audit = await live_server.call("GET", "/api/admin/audit?action=guestbook.hide")
    assert audit["items"][0]["details"]["reason"] == "loan spam"


async def test_page_detail_shows_the_rsvp_summary(live_server: LiveServer, tmp_path: Path) -> None:
    page = await make_page(live_server)
    summary = await live_server.call("GET", f"/api/admin/pages/{page.id}/rsvps/summary")
    assert summary == {
        "responses": 3,
        "attending": 2,
        "notAttending": 1,
        "guests": 5,
        "bySide": {"groom": {"attending": 1, "guests": 2}, "bride": {"attending": 1, "guests": 3}},
        "meals": {"yes": 5, "no": 0, "undecided": 0},
    }
    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "3")
        pages = app.screen.query_one("#pages", DataTable)
        pages.focus()
        pages.move_cursor(row=0)
        await pilot.press("down", "up")
        await settle(app, pilot)
        shown = visible_text(app.screen.query_one("#context", Static))
        assert "/minsu-jieun-tui" in shown
        assert "RSVP: 3 answers · 2 attending, 1 not · 5 people (groom 2 · bride 3)" in shown
        assert "meals yes 5 / no 0 / undecided 0" in shown


async def test_rsvp_summary_of_an_unknown_page_is_404(live_server: LiveServer) -> None:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {live_server.admin_token}"}
        url = f"{live_server.url}/api/admin/pages/00000000-0000-4000-8000-000000000099/rsvps/summary"
        async with session.get(url, headers=headers) as response:
            assert response.status == 404
        _, token = await live_server.register("someone@example.com")
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 403
