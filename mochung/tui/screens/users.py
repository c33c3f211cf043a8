"""Searchable users table; deactivate/reactivate and grant/revoke admin, each confirmed."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from mochung.tui.format import when
from mochung.tui.models import AdminUser, Listing
from mochung.tui.screens.base import MORE, RELOAD, Changes, ListScreen
from mochung.tui.screens.confirm import Confirmation, ConfirmScreen


class UsersScreen(ListScreen[AdminUser]):
    CSS_PATH = "users.tcss"
    TABLE = "users"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Changes("x", "toggle_active", "(De)activate"),
        Changes("g", "toggle_admin", "Grant/revoke admin"),
        MORE,
        RELOAD,
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search email or name, then Enter", id="search")
        yield DataTable(id="users", cursor_type="row", zebra_stripes=True)
        yield Static("", id="users-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns("Email", "Name", "Admin", "Active", "Created")

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Submitted, "#search")
    def search(self) -> None:
        self.load()
        self.query_one("#users", DataTable).focus()

    def page(self, cursor: str | None) -> Awaitable[Listing[AdminUser]]:
        return self.api.users(q=self.query_one("#search", Input).value.strip(), cursor=cursor)

    def page_shown(self) -> None:
        more = "  ·  n: more" if self.next_cursor else ""
        self.query_one("#users-status", Static).update(f"{len(self.rows)} users{more}")

    def cells(self, user: AdminUser) -> tuple[str, ...]:
        return (
            user.email,
            user.name or "",
            "admin" if user.is_admin else "",
            "active" if user.is_active else "DEACTIVATED",
            when(user.created_at),
        )

    def action_toggle_active(self) -> None:
        user = self.selected()
        if user is None or self.refuse_if_read_only():
            return
        verb = "Deactivate" if user.is_active else "Reactivate"
        body = f"{verb} {user.email}?" + ("\nTheir tokens stop working at once." if user.is_active else "")
        self.app.push_screen(
            ConfirmScreen(f"{verb} user", body, confirm_label=verb),
            lambda result: self._confirmed(result, user.id, is_active=not user.is_active),
        )

    def action_toggle_admin(self) -> None:
        user = self.selected()
        if user is None or self.refuse_if_read_only():
            return
        verb = "Revoke admin from" if user.is_admin else "Grant admin to"
        self.app.push_screen(
            ConfirmScreen("Admin rights", f"{verb} {user.email}?", confirm_label=verb.split()[0]),
            lambda result: self._confirmed(result, user.id, is_admin=not user.is_admin),
        )

    def _confirmed(self, result: Confirmation | None, user_id: str, **change: bool) -> None:
        if result is not None:
            self.apply(user_id, change)

    @work(group="users-change")
    async def apply(self, user_id: str, change: dict[str, bool]) -> None:
        await self.fetch(self.api.update_user(user_id, **change), lambda user: self.Changed(user, ""))

    def row_changed(self, user: AdminUser, what: str) -> None:
        self.notify(
            f"{user.email}: {'active' if user.is_active else 'deactivated'}, "
            f"{'admin' if user.is_admin else 'not admin'}",
            title="User updated",
        )
