"""Stats refreshed live (polled every few seconds while shown) and the recent audit entries."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static

from mochung.tui.format import short, when
from mochung.tui.models import AuditEntry
from mochung.tui.screens.base import AdminScreen
from mochung.tui.widgets.stat_tile import StatTile

REFRESH_SECONDS = 5.0


class DashboardScreen(AdminScreen):
    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]

    class Loaded(Message):
        def __init__(self, stats: dict[str, Any], audit: list[AuditEntry]) -> None:
            super().__init__()
            self.stats = stats
            self.audit = audit

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Stats", id="stats-title", classes="panel-title")
            yield Grid(id="tiles")
            yield Static("Recent audit entries", classes="panel-title")
            yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit", DataTable).add_columns("When", "Admin", "Action", "Target", "Details")

    def on_screen_resume(self) -> None:
        self.action_refresh()
        if self._timer is None:
            self._timer = self.set_interval(REFRESH_SECONDS, self.action_refresh)
        else:
            self._timer.resume()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def _who(self, entry: AuditEntry) -> str:
        """The admin behind an entry; none means the server itself (e.g. an automatic cancel)."""
        if entry.admin_id is None:
            return "system"
        if self.admin.profile is not None and entry.admin_id == self.admin.profile.id:
            return "you"
        return entry.admin_email or short(entry.admin_id)

    def action_refresh(self) -> None:
        self.load()

    @work(exclusive=True, group="dashboard")
    async def load(self) -> None:
        stats = await self.guarded(self.api.stats())
        audit = await self.guarded(self.api.audit(limit=20))
        if stats is not None:
            self.post_message(self.Loaded(stats, audit.items if audit else []))

    async def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        tiles = self.query_one("#tiles", Grid)
        existing = {tile.key: tile for tile in tiles.query(StatTile)}
        stamps = {key: value for key, value in message.stats.items() if key.endswith(("At", "_at"))}
        as_of = f"  (as of {when(str(next(iter(stamps.values()))))} UTC)" if stamps else ""
        self.query_one("#stats-title", Static).update(f"Stats{as_of}")
        for key, value in message.stats.items():
            if key in stamps:
                continue
            if key in existing:
                existing[key].show(value)
            else:
                await tiles.mount(StatTile(key, value))
        table = self.query_one("#audit", DataTable)
        table.clear()
        for entry in message.audit:
            details = json.dumps(entry.details, ensure_ascii=False) if entry.details else ""
            table.add_row(
                when(entry.created_at),
                self._who(entry),
                entry.action,
                entry.target,
                details,
                key=entry.id,
            )
