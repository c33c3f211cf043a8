"""Chat components (PROTOCOL.md "Component") as readable terminal widgets: a cover card, a
month calendar, a location with its map links, account rows and suggestion chips you can press."""

from __future__ import annotations

import calendar
import json
from typing import Any
from urllib.parse import quote

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Static


def props_of(component: dict[str, Any]) -> dict[str, Any]:
    """``{type, id, props}``; a component sent flat (props at the top level) is read too."""
    props = component.get("props")
    return props if isinstance(props, dict) else component


class ComponentCard(Vertical):
    DEFAULT_CSS = """
    ComponentCard {
        border: round $secondary;
        border-title-color: $secondary;
        height: auto;
        padding: 0 1;
        margin: 0 0 1 4;
        width: 1fr;
        max-width: 80;
    }
    """

    def __init__(self, title: str, body: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self.body = body

    def compose(self) -> ComposeResult:
        if self.body:
            yield Static(self.body)


def cover_card(props: dict[str, Any]) -> Widget:
    names = " ♥ ".join(escape(str(props[k])) for k in ("groomName", "brideName") if props.get(k))
    lines = [
        f"[b]{escape(str(props.get('title', '')))}[/b]",
        names,
        escape(str(props.get("date", ""))),
        escape(str(props.get("place", ""))),
    ]
    if props.get("mainPhoto"):
        lines.append(f"[dim]photo {escape(str(props['mainPhoto']))}[/dim]")
    return ComponentCard("Cover", "\n".join(line for line in lines if line))


def calendar_card(props: dict[str, Any]) -> Widget:
    date_text = str(props.get("weddingDate", ""))
    header = escape(str(props.get("weddingDateText") or f"{date_text} {props.get('weddingTime', '')}".strip()))
    try:
        year, month, day = (int(part) for part in date_text.split("-"))
        weeks = calendar.Calendar(firstweekday=6).monthdayscalendar(year, month)  # Sunday first, as in Korea
    except ValueError:
        return ComponentCard("Calendar", header or "no date")
    rows = [f"{year}.{month:02d}", " Su Mo Tu We Th Fr Sa"]
    for week in weeks:
        cells = []
        for number in week:
            cell = f"{number:>3}" if number else "   "
            cells.append(f"[reverse]{cell}[/reverse]" if number == day else cell)
        rows.append("".join(cells))
    return ComponentCard("Calendar", header + "\n" + "\n".join(rows))


def map_links(props: dict[str, Any]) -> list[tuple[str, str]]:
    """The map links an operator can open; the same ones the frontend builds."""
    name = str(props.get("placeName") or props.get("address") or "")
    links: list[tuple[str, str]] = []
    if props.get("mapUrl"):
        links.append(("map", str(props["mapUrl"])))
    lat, lng = props.get("lat"), props.get("lng")
    if isinstance(lat, int | float) and isinstance(lng, int | float):
        links.append(("Kakao", f"https://map.kakao.com/link/to/{quote(name)},{lat},{lng}"))
    if name:
        links.append(("Naver", f"https://map.naver.com/p/search/{quote(str(props.get('address') or name))}"))
    return links


def location_card(props: dict[str, Any]) -> Widget:
    lines = [
        f"[b]{escape(str(props.get('placeName', '')))}[/b] {escape(str(props.get('hall', '')))}".strip(),
        escape(str(props.get("address", ""))),
    ]
    for item in props.get("transport") or []:
        if isinstance(item, dict):
            lines.append(f"  {escape(str(item.get('mode', '')))}: {escape(str(item.get('text', '')))}")
    for label, url in map_links(props):
        lines.append(f"[link='{url}']{label}[/link]  [dim]{escape(url)}[/dim]")
    return ComponentCard("Location", "\n".join(line for line in lines if line))


def account_card(props: dict[str, Any]) -> Widget:
    sides = {"groom": "신랑측", "bride": "신부측"}
    rows = []
    for account in props.get("accounts") or []:
        if isinstance(account, dict):
            side = sides.get(str(account.get("side")), str(account.get("side", "")))
            rows.append(
                f"{side:<4} {escape(str(account.get('owner', ''))):<8} "
                f"{escape(str(account.get('bank', ''))):<6} {escape(str(account.get('number', '')))}"
            )
    return ComponentCard("Accounts", "\n".join(rows) or "no accounts")


class SuggestionChips(Horizontal):
    """The agent's suggested replies; pressing one posts :class:`SuggestionChips.Chosen`."""

    DEFAULT_CSS = """
    SuggestionChips {
        height: auto;
        margin: 0 0 1 4;
    }
    SuggestionChips Button {
        margin-right: 1;
        min-width: 8;
        background: $primary-muted;
        color: $text-primary;
    }
    SuggestionChips Button:hover, SuggestionChips Button:focus {
        background: $primary;
        color: $text;
    }
    """

    class Chosen(Message):
        def __init__(self, suggestion: dict[str, Any]) -> None:
            super().__init__()
            self.suggestion = suggestion

    def __init__(self, suggestions: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suggestions = suggestions

    def compose(self) -> ComposeResult:
        for index, suggestion in enumerate(self.suggestions):
            label = str(suggestion.get("displayText") or suggestion.get("value") or "?")
            yield Button(label, compact=True, name=str(index))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Chosen(self.suggestions[int(event.button.name or 0)]))


def component_widget(component: dict[str, Any]) -> Widget:
    kind = str(component.get("type", ""))
    props = props_of(component)
    if kind == "Cover":
        return cover_card(props)
    if kind == "Calendar":
        return calendar_card(props)
    if kind == "Location":
        return location_card(props)
    if kind == "Account":
        return account_card(props)
    if kind == "AgentSuggestMessage":
        suggestions = [s for s in props.get("suggestions") or [] if isinstance(s, dict)]
        return SuggestionChips(suggestions)
    if kind == "Invitation":
        parents = " / ".join(str(props[k]) for k in ("groomParents", "brideParents") if props.get(k))
        return ComponentCard("Invitation", escape(f"{props.get('text', '')}\n{parents}".strip()))
    if kind == "Gallery":
        photos = [str(p) for p in props.get("photos") or []]
        return ComponentCard("Gallery", escape("\n".join(photos)) or "no photos")
    return ComponentCard(kind or "Component", escape(json.dumps(props, ensure_ascii=False, indent=1)))
