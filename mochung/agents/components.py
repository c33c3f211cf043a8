"""Pydantic schemas of the page components (PROTOCOL.md "Component").

Every component the agents emit is validated here before it leaves them, and every
component of a wedding page handed to the agents is validated on the way in. Props are
optional (a page under construction is partial) but typed: dates, times, coordinates and
account sides must have the documented shape. Unknown props are kept, unknown component
types are passed through untouched (the builder adds types over time).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ComponentError(ValueError):
    """A component does not follow the protocol; ``message`` says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Props(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CoverProps(Props):
    title: str = ""
    groomName: str = ""
    brideName: str = ""
    date: str = ""
    place: str = ""
    mainPhoto: str = ""


class InvitationProps(Props):
    text: str = ""
    groomParents: str = ""
    brideParents: str = ""


class CalendarProps(Props):
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


class LocationProps(Props):
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


class AccountProps(Props):
    accounts: list[BankAccount] = Field(default_factory=list)


class GalleryProps(Props):
    photos: list[str] = Field(default_factory=list)


class Suggestion(BaseModel):
    displayText: str = Field(min_length=1)
    value: str = Field(min_length=1)


class AgentSuggestMessageProps(Props):
    suggestions: list[Suggestion] = Field(min_length=1)


PROPS_BY_TYPE: dict[str, type[Props]] = {
    "Cover": CoverProps,
    "Invitation": InvitationProps,
    "Calendar": CalendarProps,
    "Location": LocationProps,
    "Account": AccountProps,
    "Gallery": GalleryProps,
    "AgentSuggestMessage": AgentSuggestMessageProps,
}


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "props"
    return f"{where}: {first['msg']}"


def validate_props(component_type: str, props: Any) -> dict[str, Any]:
    """The props of a known component type, validated and normalised (JSON-ready)."""
    schema = PROPS_BY_TYPE.get(component_type)
    if not isinstance(props, dict):
        raise ComponentError(f"{component_type} props must be an object")
    if schema is None:
        return props
    try:
        return schema.model_validate(props).model_dump(mode="json")
    except ValidationError as error:
        raise ComponentError(f"{component_type} {_describe(error)}") from None


def chat_component(component_type: str, props: dict[str, Any]) -> dict[str, Any]:
    """A component as it leaves the agents: ``{"type", "props"}``, validated."""
    if component_type not in PROPS_BY_TYPE:
        raise ComponentError(f"unknown component type {component_type!r}")
    return {"type": component_type, "props": validate_props(component_type, props)}


def parse_page_components(component_data: Any) -> list[dict[str, Any]]:
    """The components of a page's ``componentData``, each known type validated.

    Raises :class:`ComponentError` naming the first malformed component.
    """
    if component_data is None:
        return []
    if not isinstance(component_data, dict):
        raise ComponentError("componentData must be an object with a components list")
    components = component_data.get("components", [])
    if not isinstance(components, list):
        raise ComponentError("componentData.components must be a list")
    parsed: list[dict[str, Any]] = []
    for index, component in enumerate(components):
        if not isinstance(component, dict):
            raise ComponentError(f"component #{index + 1} is not an object")
        component_type = component.get("type")
        if not isinstance(component_type, str) or not component_type:
            raise ComponentError(f"component #{index + 1} has no type")
        try:
            props = validate_props(component_type, component.get("props", {}))
        except ComponentError as error:
            raise ComponentError(f"component #{index + 1} ({error.message})") from None
        parsed.append({"type": component_type, "id": component.get("id"), "props": props})
    return parsed
