"""Searchable users table; deactivate/reactivate and grant/revoke admin, each confirmed."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Static

from mochung.tui.format import when
from mochung.tui.models import AdminUser
from mochung.tui.screens.base import AdminScreen, ListingLoaded
from mochung.tui.screens.confirm import Confirmation, ConfirmScreen


class UsersScreen(AdminScreen):
    CSS_PATH = "users.tcss"
    MUTATING = frozenset({"toggle_active", "toggle_admin"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("x", "toggle_active", "(De)activate"),
        Binding("g", "toggle_admin", "Grant/revoke admin"),
        Binding("n", "more", "More"),
        Binding("r", "reload", "Refresh"),
    ]

    class Loaded(ListingLoaded[AdminUser]):
        """A page of users."""

    class Changed(Message):
        def __init__(self, user: AdminUser) -> None:
            super().__init__()
            self.user = user

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, AdminUser] = {}
        self.next_cursor: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search email or name, then Enter", id="search")
        yield DataTable(id="users", cursor_type="row", zebra_stripes=True)
        yield Static("", id="users-status", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns("Email", "Name", "Admin", "Active", "Created")

    def on_screen_resume(self) -> None:
        self.load()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_reload(self) -> None:
        self.load()

    def action_more(self) -> None:
        if self.next_cursor:
            self.load(cursor=self.next_cursor)

    @on(Input.Submitted, "#search")
    def search(self) -> None:
        self.load()
        self.query_one("#users", DataTable).focus()

    @work(exclusive=True, group="users")
    async def load(self, cursor: str | None = None) -> None:
        query = self.query_one("#search", Input).value.strip()
        listing = await self.guarded(self.api.users(q=query, cursor=cursor))
        if listing is not None:
            self.post_message(self.Loaded(listing, append=cursor is not None))

    def on_users_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one("#users", DataTable)
        if not message.append:
            table.clear()
            self.users.clear()
        for user in message.listing.items:
            self.users[user.id] = user
            table.add_row(*self._cells(user), key=user.id)
        self.next_cursor = message.listing.next_cursor
        more = "  ·  n: more" if self.next_cursor else ""
        self.query_one("#users-status", Static).update(f"{len(self.users)} users{more}")

    @staticmethod
    def _cells(user: AdminUser) -> tuple[str, ...]:
        return (
            user.email,
            user.name or "",
            "admin" if user.is_admin else "",
            "active" if user.is_active else "DEACTIVATED",
            when(user.created_at),
        )

    def selected(self) -> AdminUser | None:
        table = self.query_one("#users", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.users.get(key or "")

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
        user = await self.guarded(self.api.update_user(user_id, **change))
        if user is not None:
            self.post_message(self.Changed(user))

    def on_users_screen_changed(self, message: Changed) -> None:
        user = message.user
        self.users[user.id] = user
        table = self.query_one("#users", DataTable)
        for column, value in zip(table.columns, self._cells(user), strict=False):
            table.update_cell(user.id, column, value)
        self.notify(
            f"{user.email}: {'active' if user.is_active else 'deactivated'}, "
            f"{'admin' if user.is_admin else 'not admin'}",
            title="User updated",
        )
