"""System: every running web and worker process (as each reports itself to the server
every few seconds), with the turns each worker has in flight and the queue's depth.
Refreshes itself while shown."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static

from mochung.tui.format import number, when
from mochung.tui.models import SystemInfo
from mochung.tui.screens.base import AdminScreen

REFRESH_SECONDS = 3.0


class SystemScreen(AdminScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r,f5", "refresh", "Refresh")]
    DEFAULT_CSS = """
    SystemScreen #system-summary { height: auto; padding: 0 1; }
    SystemScreen #processes { height: 1fr; margin: 0 1; }
    """
    refresh_seconds: ClassVar[float] = REFRESH_SECONDS

    class Loaded(Message):
        def __init__(self, info: SystemInfo) -> None:
            super().__init__()
            self.info = info

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._loading = False

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

    def on_screen_resume(self) -> None:
        self.action_refresh()
        if self._timer is None:
            self._timer = self.set_interval(self.refresh_seconds, self.action_refresh)
        else:
            self._timer.resume()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def action_refresh(self) -> None:
        # a refresh while one is still loading waits for the next tick instead of cancelling
        # it (a slow server would otherwise never show anything)
        if not self._loading:
            self._loading = True
            self.load()

    @work(group="system")
    async def load(self) -> None:
        try:
            await self._load()
        finally:
            self._loading = False

    async def _load(self) -> None:
        info = await self.guarded(self.api.system())
        if info is not None:
            self.post_message(self.Loaded(info))

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
