"""The wedding context handed to the agents: a page's metadata and validated components,
with the read-only views the context tools return (plain JSON-ready dicts)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from mochung.domain.components import ComponentError, parse_components
from mochung.domain.ports import Place

WEEKDAYS_KO = "월화수목금토일"
SEOUL = ZoneInfo("Asia/Seoul")
SIDES = ("groom", "bride")
MEALS = ("yes", "no", "undecided")
MAX_GUESTBOOK_ENTRIES = 20


def detect_language(text: str) -> str:
    """``ko`` when the text has Hangul in it, else ``en``: what the answer is written in."""
    return "ko" if re.search(r"[가-힣ㄱ-ㅎ]", text) else "en"


@dataclass(frozen=True)
class WeddingContext:
    page_id: str
    title: str
    slug: str
    components: list[dict[str, Any]]
    # what the couple's guests said (RSVP summary, latest guestbook entries); None: not known
    guests: dict[str, Any] | None = None
    today: dt.date | None = None  # pinned (evaluation fixtures); None: today in Korea

    @classmethod
    def from_data(cls, data: Any) -> WeddingContext:
        """Validate what the chat pipeline passes in; raises :class:`ComponentError`."""
        if not isinstance(data, dict):
            raise ComponentError("the wedding context must be an object")
        component_data = data.get("componentData", data.get("component_data"))
        return cls(
            page_id=str(data.get("page_id") or data.get("id") or ""),
            title=str(data.get("title") or ""),
            slug=str(data.get("slug") or ""),
            # read as the agents read any component (a chat-only one is not refused here)
            components=parse_components(component_data, allow_chat_only=True),
            guests=_guests(data.get("guests")),
            today=_today(data.get("today")),
        )

    def today_in_korea(self) -> dt.date:
        return self.today or dt.datetime.now(SEOUL).date()

    def props(self, component_type: str) -> dict[str, Any]:
        """Props of the first component of that type ({} when the page has none)."""
        for component in self.components:
            if component["type"] == component_type:
                props: dict[str, Any] = component["props"]
                return props
        return {}

    def calendar_info(self) -> dict[str, Any]:
        calendar, cover = self.props("Calendar"), self.props("Cover")
        date = calendar.get("weddingDate") or _iso_date(cover.get("date", ""))
        info: dict[str, Any] = {
            "wedding_date": date or None,
            "wedding_time": calendar.get("weddingTime") or None,
            "wedding_date_text": calendar.get("weddingDateText") or cover.get("date") or None,
        }
        today = self.today_in_korea()
        info["today"] = today.isoformat()  # in Korea (KST)
        if date:
            day = dt.date.fromisoformat(date)
            info["weekday_ko"] = WEEKDAYS_KO[day.weekday()] + "요일"
            info["weekday_en"] = day.strftime("%A")
            info["days_until_wedding"] = (day - today).days  # 0: today; negative: it is past
        return info

    def rsvp_info(self) -> dict[str, Any]:
        """The guests' answers summed up (never their contact details)."""
        rsvp = (self.guests or {}).get("rsvp") or {}
        return {"rsvp": {"known": self.guests is not None, **_rsvp_defaults(), **rsvp}}

    def guestbook_info(self) -> dict[str, Any]:
        """The newest visible guestbook entries, newest first."""
        book = (self.guests or {}).get("guestbook") or {}
        return {"guestbook": {"known": self.guests is not None, "enabled": False, "entries": [], **book}}

    def location_info(self) -> dict[str, Any]:
        location, cover = self.props("Location"), self.props("Cover")
        return {
            "place_name": location.get("placeName") or cover.get("place") or None,
            "hall": location.get("hall") or None,
            "address": location.get("address") or None,
            "lat": location.get("lat"),
            "lng": location.get("lng"),
            "map_url": location.get("mapUrl") or None,
            "transport": location.get("transport") or [],
        }

    def wedding_info(self) -> dict[str, Any]:
        cover, invitation = self.props("Cover"), self.props("Invitation")
        return {
            "page_title": self.title or None,
            "cover_title": cover.get("title") or None,
            "groom_name": cover.get("groomName") or None,
            "bride_name": cover.get("brideName") or None,
            "main_photo": cover.get("mainPhoto") or None,
            "groom_parents": invitation.get("groomParents") or None,
            "bride_parents": invitation.get("brideParents") or None,
            **self.calendar_info(),
            **self.location_info(),
            "sections": [component["type"] for component in self.components],
        }

    def account_info(self) -> dict[str, Any]:
        return {"accounts": self.props("Account").get("accounts", [])}

    def invitation_text(self) -> dict[str, Any]:
        invitation = self.props("Invitation")
        return {
            "text": invitation.get("text") or None,
            "groom_parents": invitation.get("groomParents") or None,
            "bride_parents": invitation.get("brideParents") or None,
        }

    def places(self) -> list[Place]:
        """The page's own venue, for the offline map search."""
        info = self.location_info()
        if not info["place_name"] and not info["address"]:
            return []
        return [
            Place(
                name=info["place_name"] or info["address"],
                address=info["address"] or "",
                lat=info["lat"],
                lng=info["lng"],
                place_url=info["map_url"] or "",
            )
        ]


def _rsvp_defaults() -> dict[str, Any]:
    return {
        "enabled": False,
        "deadline": None,
        "responses": 0,
        "attending": 0,
        "not_attending": 0,
        "guests": 0,
        "by_side": {side: {"attending": 0, "guests": 0} for side in SIDES},
        "meals": dict.fromkeys(MEALS, 0),
    }


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _guests(value: Any) -> dict[str, Any] | None:
    """The guest data as the agents use it: known keys only, counts as non-negative ints,
    at most ``MAX_GUESTBOOK_ENTRIES`` entries of plain text (anything else is dropped)."""
    if not isinstance(value, dict):
        return None
    rsvp_in = _object(value.get("rsvp"))
    sides_in = _object(rsvp_in.get("by_side"))
    meals_in = _object(rsvp_in.get("meals"))
    rsvp: dict[str, Any] = {
        "enabled": rsvp_in.get("enabled") is True,
        "deadline": rsvp_in.get("deadline") if isinstance(rsvp_in.get("deadline"), str) else None,
        **{key: _count(rsvp_in.get(key)) for key in ("responses", "attending", "not_attending", "guests")},
        "by_side": {
            side: {key: _count(_object(sides_in.get(side)).get(key)) for key in ("attending", "guests")}
            for side in SIDES
        },
        "meals": {meal: _count(meals_in.get(meal)) for meal in MEALS},
    }
    book_in = _object(value.get("guestbook"))
    raw_entries = book_in.get("entries")
    entries_in: list[Any] = raw_entries if isinstance(raw_entries, list) else []
    entries = [
        {
            "name": str(entry.get("name") or ""),
            "content": str(entry.get("content") or ""),
            "written_at": str(entry.get("written_at") or ""),
        }
        for entry in entries_in[:MAX_GUESTBOOK_ENTRIES]
        if isinstance(entry, dict)
    ]
    return {"rsvp": rsvp, "guestbook": {"enabled": book_in.get("enabled") is True, "entries": entries}}


def _today(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _iso_date(text: str) -> str:
    """``2026-05-16`` out of the cover's free-form date, when it has one."""
    match = re.search(r"(\d{4})[.\-/년\s]+(\d{1,2})[.\-/월\s]+(\d{1,2})", text or "")
    if not match:
        return ""
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return ""
