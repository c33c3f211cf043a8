"""The dashboard, live: it refreshes itself every few seconds while shown (in place, so
nothing flickers) — the services' health, sparklines of the chat pipeline over the last
hour (turns and errors per minute, answer latency p50/p95), the stats, the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from mochung.tui.format import short, when
from mochung.tui.models import Activity, AuditEntry, Health
from mochung.tui.screens.base import RefreshingScreen
from mochung.tui.widgets.spark import SparkPanel
from mochung.tui.widgets.stat_tile import StatTile


def health_line(health: Health) -> Text:
    """``● database ok  ● redis embedded …``: green when fine, red when down (the server's
    checks answer a status word — ok, embedded, redis, sandbox, a queue depth — or "down")."""
    line = Text("Services  ")
    for name, state in health.services.items():
        fine = not state.startswith("down")
        line.append("● ", style="green" if fine else "bold red")
        line.append(f"{name} ", style="bold")
        line.append(f"{state}   ", style="" if fine else "red")
    if not health.services:
        line.append("unknown", style="yellow")
    return line


def _latest(values: list[float | None]) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


class DashboardScreen(RefreshingScreen):
    CSS_PATH = "dashboard.tcss"

    @dataclass
    class Loaded(Message):
        stats: dict[str, Any]
        audit: list[AuditEntry]
        activity: Activity | None
        health: Health | None

    def __init__(self) -> None:
        super().__init__()
        self._audit_ids: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Services  …", id="health")
            with Horizontal(id="sparks"):
                yield SparkPanel("Turns / min (1 h)", id="spark-turns")
                yield SparkPanel("Answer p50", id="spark-p50")
                yield SparkPanel("Answer p95", id="spark-p95")
                yield SparkPanel("Errors / min", id="spark-errors")
            yield Static("Stats", id="stats-title", classes="panel-title")
            yield Grid(id="tiles")
            yield Static("Recent audit entries", classes="panel-title")
            yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit", DataTable).add_columns("When", "Admin", "Action", "Target", "Details")

    def _who(self, entry: AuditEntry) -> str:
        """The admin behind an entry; none means the server itself (e.g. an automatic cancel)."""
        if entry.admin_id is None:
            return "system"
        if self.admin.profile is not None and entry.admin_id == self.admin.profile.id:
            return "you"
        return entry.admin_email or short(entry.admin_id)

    async def load_data(self) -> None:
        stats = await self.guarded(self.api.stats())
        audit = await self.guarded(self.api.audit(limit=20))
        activity = await self.guarded(self.api.activity())
        health = await self.guarded(self.api.health())
        if stats is not None:
            self.post_message(self.Loaded(stats, audit.items if audit else [], activity, health))

    async def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        if message.health is not None:
            self.query_one("#health", Static).update(health_line(message.health))
        if message.activity is not None:
            self._show_activity(message.activity)
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
        self._show_audit(message.audit)

    def _show_activity(self, activity: Activity) -> None:
        minutes = activity.minutes
        turns = [float(m.turns) for m in minutes]
        errors = [float(m.errors) for m in minutes]
        p50 = [m.p50_ms for m in minutes]
        p95 = [m.p95_ms for m in minutes]
        total = int(sum(turns))
        self.query_one("#spark-turns", SparkPanel).show(
            turns, f"now {int(turns[-1]) if turns else 0} · {total} in the hour"
        )
        self.query_one("#spark-p50", SparkPanel).show([v or 0.0 for v in p50], f"last {_ms(_latest(p50))}")
        self.query_one("#spark-p95", SparkPanel).show([v or 0.0 for v in p95], f"last {_ms(_latest(p95))}")
        self.query_one("#spark-errors", SparkPanel).show(
            errors, f"now {int(errors[-1]) if errors else 0} · {int(sum(errors))} in the hour"
        )

    def _show_audit(self, entries: list[AuditEntry]) -> None:
        """Rebuilt only when the entries changed, so the cursor and scroll stay put."""
        ids = [entry.id for entry in entries]
        if ids == self._audit_ids:
            return
        self._audit_ids = ids
        table = self.query_one("#audit", DataTable)
        table.clear()
        for entry in entries:
            details = json.dumps(entry.details, ensure_ascii=False) if entry.details else ""
            table.add_row(
                when(entry.created_at),
                self._who(entry),
                entry.action,
                entry.target,
                details,
                key=entry.id,
            )
