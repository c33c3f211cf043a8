"""The wedding context handed to the agents: a page's metadata and validated components,
with the read-only views the context tools return (plain JSON-ready dicts)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from mochung.domain.components import ComponentError, parse_components
from mochung.domain.ports import Place

WEEKDAYS_KO = "월화수목금토일"


def detect_language(text: str) -> str:
    """``ko`` when the text has Hangul in it, else ``en``: what the answer is written in."""
    return "ko" if re.search(r"[가-힣ㄱ-ㅎ]", text) else "en"


@dataclass(frozen=True)
class WeddingContext:
    page_id: str
    title: str
    slug: str
    components: list[dict[str, Any]]

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
        )

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
        if date:
            day = dt.date.fromisoformat(date)
            info["weekday_ko"] = WEEKDAYS_KO[day.weekday()] + "요일"
            info["weekday_en"] = day.strftime("%A")
        return info

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


def _iso_date(text: str) -> str:
    """``2026-05-16`` out of the cover's free-form date, when it has one."""
    match = re.search(r"(\d{4})[.\-/년\s]+(\d{1,2})[.\-/월\s]+(\d{1,2})", text or "")
    if not match:
        return ""
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return ""
