"""A page's ``calendar.ics`` (RFC 5545): one VEVENT for the wedding, in Asia/Seoul time.

- UID ``{pageId}@mochung``: stable, so a guest who adds the file twice updates one event.
- With a time: two hours from ``weddingTime`` (a ceremony and the meal); a reminder 24 hours
  before. With a date only: an all-day event, reminded at 09:00 the day before.
- The time zone travels with the file (a VTIMEZONE for Asia/Seoul: +09:00, no DST since 1988).
"""

from __future__ import annotations

import datetime as dt

from mochung.domain.errors import NotFound
from mochung.domain.guests.wedding import WeddingFacts
from mochung.domain.models import Page

EVENT_HOURS = 2
_VTIMEZONE = [
    "BEGIN:VTIMEZONE",
    "TZID:Asia/Seoul",
    "BEGIN:STANDARD",
    "DTSTART:19880509T030000",
    "TZOFFSETFROM:+0900",
    "TZOFFSETTO:+0900",
    "TZNAME:KST",
    "END:STANDARD",
    "END:VTIMEZONE",
]


def _escape(text: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, comma, semicolon and line breaks escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF + space, never inside a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def calendar_file(page: Page, facts: WeddingFacts, page_url: str) -> bytes:
    """The ``text/calendar`` body; NotFound when the page names no wedding date."""
    if facts.date is None:
        raise NotFound("this page has no wedding date: add a Calendar component with weddingDate (YYYY-MM-DD)")
    stamp = (page.updated_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    couple = facts.couple
    summary = f"{couple} 결혼식" if couple else (page.title or "결혼식")
    event = [f"UID:{page.id}@mochung", f"DTSTAMP:{stamp}", f"SUMMARY:{_escape(summary)}"]
    starts = facts.starts_at
    if starts is not None:
        ends = starts + dt.timedelta(hours=EVENT_HOURS)
        event += [f"DTSTART;TZID=Asia/Seoul:{_local(starts)}", f"DTEND;TZID=Asia/Seoul:{_local(ends)}"]
        trigger = "-P1D"
    else:
        next_day = facts.date + dt.timedelta(days=1)
        event += [f"DTSTART;VALUE=DATE:{facts.date:%Y%m%d}", f"DTEND;VALUE=DATE:{next_day:%Y%m%d}"]
        trigger = "-PT15H"  # 09:00 the day before
    location = ", ".join(part for part in (facts.place, facts.address) if part)
    if location:
        event.append(f"LOCATION:{_escape(location)}")
    if facts.lat is not None and facts.lng is not None:
        event.append(f"GEO:{facts.lat:.6f};{facts.lng:.6f}")
    description = "\n".join(part for part in (page.title, facts.when_ko(), location, page_url) if part)
    event += [f"DESCRIPTION:{_escape(description)}", f"URL:{page_url}"]
    alarm = [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"TRIGGER:{trigger}",
        f"DESCRIPTION:{_escape(f'내일은 {summary}입니다')}",
        "END:VALARM",
    ]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//mochung//wedding invitation//KO",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *_VTIMEZONE,
        "BEGIN:VEVENT",
        *event,
        *alarm,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
