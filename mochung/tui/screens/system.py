"""System: every running web and worker process (as each reports itself to the server
every few seconds), with the turns each worker has in flight and the queue's depth.
Refreshes itself while shown."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from mochung.tui.format import number, when
from mochung.tui.models import SystemInfo
from mochung.tui.screens.base import RefreshingScreen


class SystemScreen(RefreshingScreen):
    DEFAULT_CSS = """
    SystemScreen #system-summary { height: auto; padding: 0 1; }
    SystemScreen #processes { height: 1fr; margin: 0 1; }
    """

    @dataclass
    class Loaded(Message):
        info: SystemInfo

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Processes", id="system-summary", classes="panel-title")
            yield DataTable(id="processes", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#processes", DataTable).add_columns(
            "Kind", "Host", "PID", "Mode", "Turns in flight", "Sockets", "Started", "Last report"
        )

    async def load_data(self) -> None:
        await self.fetch(self.api.system(), self.Loaded)

    def on_system_screen_loaded(self, message: Loaded) -> None:
        info = message.info
        workers = [p for p in info.processes if p.kind == "worker"]
        web = [p for p in info.processes if p.kind == "web"]
        in_flight = sum(p.in_flight for p in workers)
        capacity = sum(p.concurrency for p in workers)
        self.query_one("#system-summary", Static).update(
            f"{len(web)} web · {len(workers)} worker process(es)  ·  turns in flight {number(in_flight)}"
            f" of {number(capacity)}  ·  queue depth {number(info.queue_depth)}"
            + (f"  (as of {when(info.generated_at)} UTC)" if info.generated_at else "")
        )
        table = self.query_one("#processes", DataTable)
        selected = table.cursor_row
        table.clear()
        for process in info.processes:
            worker = process.kind == "worker"
            table.add_row(
                process.kind,
                process.host,
                str(process.pid),
                process.mode,
                f"{process.in_flight} / {process.concurrency}" if worker else "–",
                "–" if worker else str(process.sockets),
                when(process.started_at),
                process.seen_at[11:19] if process.seen_at else "–",
                key=process.id,
            )
        if table.row_count:
            table.move_cursor(row=min(selected, table.row_count - 1))
