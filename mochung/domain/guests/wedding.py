"""The facts of a page the guest features read: the couple's names, the date and time in
Korea, the venue. Read from the components (Cover, Calendar, Location), never trusted to be
complete: a page under construction is partial."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from mochung.domain.directions import directions_links

SEOUL = ZoneInfo("Asia/Seoul")
_WEEKDAYS_KO = "월화수목금토일"


def _props(component_data: object, component_type: str) -> dict[str, Any]:
    components = component_data.get("components") if isinstance(component_data, dict) else None
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and component.get("type") == component_type:
            props = component.get("props")
            return props if isinstance(props, dict) else {}
    return {}


def _text(props: dict[str, Any], key: str) -> str:
    value = props.get(key)
    return value.strip() if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class WeddingFacts:
    groom: str = ""
    bride: str = ""
    title: str = ""
    date: dt.date | None = None
    time: dt.time | None = None
    date_text: str = ""
    venue: str = ""
    hall: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    photo: str = ""

    @property
    def couple(self) -> str:
        """ "신랑 ♥ 신부", or whichever name is known."""
        return " ♥ ".join(name for name in (self.groom, self.bride) if name)

    @property
    def starts_at(self) -> dt.datetime | None:
        """The ceremony's start, in Seoul time (None without a date or a time)."""
        if self.date is None or self.time is None:
            return None
        return dt.datetime.combine(self.date, self.time, tzinfo=SEOUL)

    @property
    def place(self) -> str:
        return " ".join(part for part in (self.venue, self.hall) if part)

    def when_ko(self) -> str:
        """ "2027년 5월 15일 토요일 오후 1시 30분" (as much as is known)."""
        if self.date is None:
            return self.date_text
        text = f"{self.date.year}년 {self.date.month}월 {self.date.day}일 {_WEEKDAYS_KO[self.date.weekday()]}요일"
        if self.time is not None:
            hour = self.time.hour % 12 or 12
            text += f" {'오전' if self.time.hour < 12 else '오후'} {hour}시"
            if self.time.minute:
                text += f" {self.time.minute}분"
        return text

    def directions(self) -> dict[str, str] | None:
        """Map-app links to the venue; None when the page names no place."""
        if not (self.venue or self.address):
            return None
        return directions_links(self.venue or self.address, self.lat, self.lng, self.address)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _time(text: str) -> dt.time | None:
    found = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", text)
    return dt.time(int(found.group(1)), int(found.group(2))) if found else None


def wedding_facts(component_data: object) -> WeddingFacts:
    cover = _props(component_data, "Cover")
    calendar = _props(component_data, "Calendar")
    location = _props(component_data, "Location")
    return WeddingFacts(
        groom=_text(cover, "groomName"),
        bride=_text(cover, "brideName"),
        title=_text(cover, "title"),
        date=_date(_text(calendar, "weddingDate")) or _date(_text(cover, "date")),
        time=_time(_text(calendar, "weddingTime")),
        date_text=_text(calendar, "weddingDateText") or _text(cover, "date"),
        venue=_text(location, "placeName") or _text(cover, "place"),
        hall=_text(location, "hall"),
        address=_text(location, "address"),
        lat=_number(location.get("lat")),
        lng=_number(location.get("lng")),
        photo=_text(cover, "mainPhoto"),
    )
