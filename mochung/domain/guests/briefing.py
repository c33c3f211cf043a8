"""What the couple's agents know of their guests: the RSVP summary and the newest visible
guestbook entries of a page, as plain JSON-ready data (the worker hands it to the agents
with the page; ``agents`` reads no database).

Nothing secret goes in: no edit tokens, no password hashes, no phone numbers, no hidden
entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mochung.domain.guests import guestbook, rsvps
from mochung.domain.guests.settings import read_settings
from mochung.domain.guests.wedding import SEOUL
from mochung.domain.models import Page

LATEST_ENTRIES = 5


def _kst(moment: dt.datetime) -> str:
    return moment.astimezone(SEOUL).isoformat(timespec="minutes")


async def guest_briefing(page: Page, entries: int = LATEST_ENTRIES) -> dict[str, Any]:
    """``{"rsvp": {enabled, deadline, responses, attending, not_attending, guests, by_side,
    meals}, "guestbook": {enabled, entries: [{name, content, written_at}]}}`` (times in KST).

    Two queries; an answer or an entry that exists is reported even when the couple has
    since switched the feature off (``enabled`` says which)."""
    settings = read_settings(page.settings)
    summary = await rsvps.summary(page.id)
    latest = await guestbook.latest(page.id, entries)
    return {
        "rsvp": {
            "enabled": settings.rsvp.enabled,
            "deadline": _kst(settings.rsvp.deadline) if settings.rsvp.deadline else None,
            "responses": summary.responses,
            "attending": summary.attending,
            "not_attending": summary.not_attending,
            "guests": summary.guests,
            "by_side": {
                side: {"attending": count.attending, "guests": count.guests} for side, count in summary.by_side.items()
            },
            "meals": dict(summary.meals),
        },
        "guestbook": {
            "enabled": settings.guestbook.enabled,
            "entries": [
                {"name": entry.name, "content": entry.content, "written_at": _kst(entry.created_at)} for entry in latest
            ],
        },
    }
