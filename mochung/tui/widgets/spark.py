"""A small panel: a titled sparkline of the last hour and one line saying what it shows now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


class SparkPanel(Vertical):
    # the titled frame (border, title, padding) is in dashboard.tcss, shared with StatTile
    DEFAULT_CSS = """
    SparkPanel {
        height: 5;
    }
    SparkPanel Sparkline {
        height: 2;
        width: 1fr;
    }
    SparkPanel .spark-summary {
        height: 1;
        color: $text-muted;
    }
    """

    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title

    def compose(self) -> ComposeResult:
        yield Sparkline([], summary_function=max)
        yield Static("–", classes="spark-summary")

    def show(self, values: Sequence[float], summary: str) -> None:
        """Update in place (the sparkline redraws, nothing is re-mounted: no flicker)."""
        self.query_one(Sparkline).data = list(values)
        self.query_one(".spark-summary", Static).update(summary)
