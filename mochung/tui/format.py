"""Small, pure formatting helpers shared by screens and widgets (no clocks, no I/O)."""

from __future__ import annotations

import re
from typing import Any

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humanize(key: str) -> str:
    """``liveSockets`` / ``live_sockets`` → ``Live sockets``."""
    words = _CAMEL.sub(" ", key).replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else key


def number(value: Any) -> str:
    """Integers with thousands separators; other values as they are."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return "–" if value is None else str(value)


def money(amount: int, currency: str = "KRW") -> str:
    return f"₩{amount:,}" if currency == "KRW" else f"{amount:,} {currency}"


def when(timestamp: str | None) -> str:
    """An ISO-8601 UTC time as ``2026-11-26 09:50`` (the server's Z times, no local clock)."""
    if not timestamp:
        return "–"
    return timestamp.replace("T", " ")[:16]


def short(identifier: str | None) -> str:
    return (identifier or "")[:8]


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested stats as ``(label, leaf)`` pairs: ``{"pages": {"hidden": 1}}`` → ``[("Hidden", 1)]``
    under its tile, deeper levels joined with ``/``."""
    if not isinstance(value, dict):
        return [(prefix, value)]
    pairs: list[tuple[str, Any]] = []
    for key, inner in value.items():
        label = f"{prefix} / {humanize(key)}" if prefix else humanize(key)
        pairs.extend(flatten(inner, label))
    return pairs
