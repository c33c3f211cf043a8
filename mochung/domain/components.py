"""The components of a page's ``componentData`` (PROTOCOL.md "Component"): their schemas
and the one parser every feature uses (the pages, and the agents for what they read and emit).

Props are optional (a page under construction is partial) but typed: dates, times,
coordinates and account sides must have the documented shape. Unknown props are kept, and
unknown component types pass through untouched (the builder adds types over time).
``AgentSuggestMessage`` belongs to the chat: a page refuses it, the agents emit it.

The schemas live here, in the domain, so the web process validates a page without the
agents, and the agents' tools take their arguments in these same shapes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from mochung.domain import jsonlimits
from mochung.domain.errors import Invalid


class _Props(BaseModel):
    model_config = ConfigDict(extra="allow")


URL_RULE = "must be an http(s) URL or one of this server's file URLs (/files/…)"


def _link(value: str) -> str:
    """A URL a guest's browser may open or load: ``http(s)://host/…``, or a path of this
    server's own files (``/files/…``); never ``javascript:``, ``data:`` and the like."""
    if not value:
        return value
    if value.startswith("/files/"):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(URL_RULE) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or value != value.strip():
        raise ValueError(URL_RULE)
    return value


Link = Annotated[str, AfterValidator(_link)]


class CoverProps(_Props):
    title: str = ""
    groomName: str = ""
    brideName: str = ""
    date: str = ""
    place: str = ""
    mainPhoto: Link = ""


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
        if not value:
            return value
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be YYYY-MM-DD")
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a real date (YYYY-MM-DD)") from None
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
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    mapUrl: Link = ""
    transport: list[Transport] = Field(default_factory=list)


class BankAccount(BaseModel):
    side: Literal["groom", "bride"]
    owner: str
    bank: str
    number: str


class AccountProps(_Props):
    accounts: list[BankAccount] = Field(default_factory=list)


class GalleryProps(_Props):
    photos: list[Link] = Field(default_factory=list)


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


class ComponentError(Invalid):
    """A component does not follow the protocol: ``message`` says which and why, ``field``
    where in ``componentData`` (a refused page body is a 400 with that detail)."""


class Component(BaseModel):
    """``{type, id, props}``; known types have their props validated, unknown ones are kept."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(min_length=1, max_length=100)
    id: str | None = Field(default=None, max_length=100)
    props: dict[str, Any] = Field(default_factory=dict)


# The shape of ``componentData`` on the wire, checked when a request body is read (a class
# without a docstring: the OpenAPI document shows it as it always has);
# :func:`parse_components` then judges each component.
class ComponentData(BaseModel):
    model_config = ConfigDict(extra="allow")
    components: list[Component] = Field(default_factory=list)


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
_WHERE = "componentData.components"


def parse_components(component_data: Any, *, allow_chat_only: bool = False) -> list[dict[str, Any]]:
    """The components of a ``componentData`` object (None: no components), each with its
    known props validated (JSON-ready) and an id (a new one when it came without);
    everything else a component carries is kept as it came.

    A chat-only type (``AgentSuggestMessage``) is refused unless ``allow_chat_only``.
    Raises :class:`ComponentError` naming the first malformed component.
    """
    if component_data is None:
        return []
    if not isinstance(component_data, dict):
        raise ComponentError("componentData must be an object with a components list", field="componentData")
    components = component_data.get("components", [])
    if not isinstance(components, list):
        raise ComponentError("componentData.components must be a list", field=_WHERE)
    parsed: list[dict[str, Any]] = []
    for index, component in enumerate(components):
        number, where = index + 1, f"{_WHERE}.{index}"
        if not isinstance(component, dict):
            raise ComponentError(f"component #{number} is not an object", field=where)
        kind = component.get("type")
        if not isinstance(kind, str) or not kind:
            raise ComponentError(f"component #{number} has no type", field=f"{where}.type")
        if kind in CHAT_ONLY_TYPES and not allow_chat_only:
            raise ComponentError(
                f"component #{number} ({kind}) is only used in chat, not on a page", field=f"{where}.type"
            )
        try:
            props = validate_props(kind, component.get("props", {}))
        except ComponentError as error:
            raise ComponentError(f"component #{number} ({error.message})", field=f"{where}.props") from None
        parsed.append({**component, "id": component.get("id") or uuid.uuid4().hex[:12], "props": props})
    return parsed


def readable(component_data: Any) -> dict[str, Any]:
    """A stored ``componentData`` as it can be served. Anything nested deeper than the JSON
    depth limit (stored before there was one) is left out, so one such component never
    makes a page, or its owner's list of pages, unreadable."""
    if not isinstance(component_data, dict) or not component_data:
        return {"components": []}
    if not jsonlimits.too_deep(component_data):
        return component_data
    components = component_data.get("components")
    kept = (
        [c for c in components if not jsonlimits.too_deep(c, jsonlimits.MAX_DEPTH - 2)]
        if isinstance(components, list)
        else []
    )
    rest = {
        key: value
        for key, value in component_data.items()
        if key != "components" and not jsonlimits.too_deep(value, jsonlimits.MAX_DEPTH - 1)
    }
    return {**rest, "components": kept}


def chat_component(component_type: str, props: dict[str, Any]) -> dict[str, Any]:
    """A component as the chat carries it (what the agents emit): ``{"type", "props"}``,
    of a known type, validated."""
    if component_type not in PROPS_BY_TYPE:
        raise ComponentError(f"unknown component type {component_type!r}")
    return {"type": component_type, "props": validate_props(component_type, props)}
