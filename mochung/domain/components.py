"""The components of a page's ``componentData`` (PROTOCOL.md "Component"), as the pages
rules validate them.

Props are optional (a page under construction is partial) but typed: dates, times,
coordinates and account sides must have the documented shape. Unknown props are kept, and
unknown component types pass through untouched (the builder adds types over time).

The agents validate what they emit against these same shapes (``mochung.agents.components``);
the schemas live here, in the domain, so the web process never imports the agents package
(it loads LangChain) just to validate a page.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mochung.domain.errors import Invalid


class _Props(BaseModel):
    model_config = ConfigDict(extra="allow")


class CoverProps(_Props):
    title: str = ""
    groomName: str = ""
    brideName: str = ""
    date: str = ""
    place: str = ""
    mainPhoto: str = ""


class InvitationProps(_Props):
    text: str = ""
    groomParents: str = ""
    brideParents: str = ""


class CalendarProps(_Props):
    weddingDate: str = ""
    weddingTime: str = ""
    weddingDateText: str = ""

    @field_validator("weddingDate")
    @classmethod
    def _date_shape(cls, value: str) -> str:
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be YYYY-MM-DD")
        return value

    @field_validator("weddingTime")
    @classmethod
    def _time_shape(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM")
        return value


class Transport(BaseModel):
    mode: str
    text: str


class LocationProps(_Props):
    placeName: str = ""
    address: str = ""
    hall: str = ""
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    mapUrl: str = ""
    transport: list[Transport] = Field(default_factory=list)


class BankAccount(BaseModel):
    side: Literal["groom", "bride"]
    owner: str
    bank: str
    number: str


class AccountProps(_Props):
    accounts: list[BankAccount] = Field(default_factory=list)


class GalleryProps(_Props):
    photos: list[str] = Field(default_factory=list)


class Suggestion(BaseModel):
    displayText: str = Field(min_length=1)
    value: str = Field(min_length=1)


class AgentSuggestMessageProps(_Props):
    suggestions: list[Suggestion] = Field(min_length=1)


PROPS_BY_TYPE: dict[str, type[_Props]] = {
    "Cover": CoverProps,
    "Invitation": InvitationProps,
    "Calendar": CalendarProps,
    "Location": LocationProps,
    "Account": AccountProps,
    "Gallery": GalleryProps,
    "AgentSuggestMessage": AgentSuggestMessageProps,
}


class ComponentError(ValueError):
    """A component does not follow the protocol; ``message`` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "props"
    return f"{where}: {first['msg']}"


def validate_props(component_type: str, props: Any) -> dict[str, Any]:
    """The props of a known component type, validated and normalised (JSON-ready);
    the props of an unknown type as they came."""
    if not isinstance(props, dict):
        raise ComponentError(f"{component_type} props must be an object")
    schema = PROPS_BY_TYPE.get(component_type)
    if schema is None:
        return props
    try:
        return schema.model_validate(props).model_dump(mode="json")
    except ValidationError as error:
        raise ComponentError(f"{component_type} {_first_problem(error)}") from None


# Known types that belong to the chat, never to a saved page (PROTOCOL.md: "only in chat").
CHAT_ONLY_TYPES = frozenset({"AgentSuggestMessage"})


def check_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each component with its known props validated (JSON-ready) and an id; everything
    else it carries is kept as it came. Raises Invalid naming the first bad component."""
    checked: list[dict[str, Any]] = []
    for index, component in enumerate(components):
        kind = component.get("type")
        if not isinstance(kind, str) or not kind:
            raise Invalid(f"component #{index + 1} has no type", field=f"componentData.components.{index}.type")
        if kind in CHAT_ONLY_TYPES:
            raise Invalid(
                f"component #{index + 1} ({kind}) is only used in chat, not on a page",
                field=f"componentData.components.{index}.type",
            )
        try:
            props = validate_props(kind, component.get("props", {}))
        except ComponentError as error:
            raise Invalid(
                f"component #{index + 1} ({error.message})", field=f"componentData.components.{index}.props"
            ) from None
        checked.append({**component, "id": component.get("id") or uuid.uuid4().hex[:12], "props": props})
    return checked
