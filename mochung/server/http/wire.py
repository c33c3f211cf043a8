"""What every handler shares: camelCase wire models, reading a validated body or query,
answering with JSON, and the endpoint description the OpenAPI document is built from."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, PlainSerializer, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

Auth = Literal["none", "user", "admin", "provider"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


def iso_utc(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcDatetime = Annotated[dt.datetime, PlainSerializer(iso_utc, return_type=str)]


class WireModel(BaseModel):
    """A body on the wire: camelCase names, unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class ErrorDetail(WireModel):
    field: str
    message: str


class ErrorBody(WireModel):
    status_code: int
    message: str
    error: str
    request_id: str | None = None
    details: list[ErrorDetail] | None = None


class BadRequest(Exception):
    """A request that failed validation; ``details`` name each field."""

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


def _field_name(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _details(error: ValidationError) -> list[ErrorDetail]:
    return [ErrorDetail(field=_field_name(e["loc"]), message=e["msg"]) for e in error.errors()]


async def read_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest("request body must be JSON") from error
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest("validation failed", _details(error)) from error


def read_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as error:
        raise BadRequest("invalid query parameters", _details(error)) from error


def path_uuid(request: web.Request, name: str = "id") -> str:
    """A path id; anything that is not a UUID cannot name an object, so it is 404."""
    import uuid

    value = request.match_info[name]
    try:
        return str(uuid.UUID(value))
    except ValueError as error:
        raise web.HTTPNotFound(reason=f"no such {name}") from error


def respond(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(by_alias=True)
    else:
        body = TypeAdapter(Any).dump_json(payload, by_alias=True).decode()
    return web.Response(text=body, status=status, content_type="application/json", headers=headers)


@dataclass(frozen=True)
class Endpoint:
    summary: str
    tag: str
    auth: Auth = "none"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def endpoint(**description: Any) -> Callable[[Handler], Handler]:
    """Attach what the OpenAPI document says about a handler."""

    def attach(handler: Handler) -> Handler:
        handler.__endpoint__ = Endpoint(**description)  # type: ignore[attr-defined]
        return handler

    return attach
