"""A page's guest settings: ``{"rsvp": {...}, "guestbook": {...}}`` in ``Page.settings``.

Stored snake_case; the wire (``settings`` in PageResponse) is camelCase. Every feature is
off until the couple switches it on. An update replaces the sections it names and keeps
the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from mochung.domain.errors import Invalid

DEFAULT_MAX_PARTY_SIZE = 5
MAX_PARTY_SIZE_LIMIT = 20


@dataclass(frozen=True)
class RsvpSettings:
    enabled: bool = False
    deadline: dt.datetime | None = None  # aware; answers are refused from this instant on
    ask_meal: bool = False
    max_party_size: int = DEFAULT_MAX_PARTY_SIZE

    def closed(self, now: dt.datetime) -> bool:
        return not self.enabled or (self.deadline is not None and now >= self.deadline)


@dataclass(frozen=True)
class GuestbookSettings:
    enabled: bool = False


@dataclass(frozen=True)
class GuestSettings:
    rsvp: RsvpSettings = field(default_factory=RsvpSettings)
    guestbook: GuestbookSettings = field(default_factory=GuestbookSettings)

    def stored(self) -> dict[str, Any]:
        deadline = self.rsvp.deadline.astimezone(dt.UTC).isoformat() if self.rsvp.deadline else None
        return {
            "rsvp": {
                "enabled": self.rsvp.enabled,
                "deadline": deadline,
                "ask_meal": self.rsvp.ask_meal,
                "max_party_size": self.rsvp.max_party_size,
            },
            "guestbook": {"enabled": self.guestbook.enabled},
        }

    def merged(self, rsvp: RsvpSettings | None, guestbook: GuestbookSettings | None) -> GuestSettings:
        """These settings with the sections given replaced (``None`` keeps a section)."""
        return replace(self, rsvp=rsvp or self.rsvp, guestbook=guestbook or self.guestbook)


def check_rsvp(enabled: bool, deadline: dt.datetime | None, ask_meal: bool, max_party_size: int) -> RsvpSettings:
    if not 1 <= max_party_size <= MAX_PARTY_SIZE_LIMIT:
        raise Invalid(f"must be between 1 and {MAX_PARTY_SIZE_LIMIT}", field="settings.rsvp.maxPartySize")
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.UTC)
    return RsvpSettings(enabled=enabled, deadline=deadline, ask_meal=ask_meal, max_party_size=max_party_size)


def _as_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def read_settings(stored: object) -> GuestSettings:
    """The settings a page holds; anything missing or malformed reads as the default."""
    data: dict[str, Any] = stored if isinstance(stored, dict) else {}
    rsvp: dict[str, Any] = data["rsvp"] if isinstance(data.get("rsvp"), dict) else {}
    guestbook: dict[str, Any] = data["guestbook"] if isinstance(data.get("guestbook"), dict) else {}
    size = rsvp.get("max_party_size")
    return GuestSettings(
        rsvp=RsvpSettings(
            enabled=rsvp.get("enabled") is True,
            deadline=_as_time(rsvp.get("deadline")),
            ask_meal=rsvp.get("ask_meal") is True,
            max_party_size=size
            if isinstance(size, int) and 1 <= size <= MAX_PARTY_SIZE_LIMIT
            else DEFAULT_MAX_PARTY_SIZE,
        ),
        guestbook=GuestbookSettings(enabled=guestbook.get("enabled") is True),
    )
