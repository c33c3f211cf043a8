"""A dashboard tile: one statistic, or a small group of them (e.g. payments by status)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mochung.tui.format import flatten, humanize, number


class StatTile(Static):
    # the titled frame (border, title, padding) is in dashboard.tcss, shared with SparkPanel
    DEFAULT_CSS = """
    StatTile {
        height: auto;
        min-height: 5;
    }
    """

    def __init__(self, key: str, value: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key
        self.border_title = humanize(key)
        self.show(value)

    def show(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.update(Text(number(value), style="bold", justify="center"))
            return
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1)
        grid.add_column(justify="right")
        for label, leaf in flatten(value):
            grid.add_row(label, Text(number(leaf), style="bold"))
        if not value:
            grid.add_row("–", "")
        self.update(grid)
