"""What every handler shares: camelCase wire models, answering with JSON, and ``endpoint``:
the description the OpenAPI document is built from, which also admits the caller and hands
the handler its validated body and query."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

from mochung.domain import jsonlimits
from mochung.domain.errors import Invalid, NotFound
from mochung.domain.models import Page, User
from mochung.server.http.callers import Auth, admit

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# a handler as written: the request, then the keyword arguments ``endpoint`` hands in
Route = Callable[..., Awaitable[web.StreamResponse]]
# what a path id names, loaded for the caller before the body is read (404 first)
Loader = Callable[[uuid.UUID, User], Awaitable[object]]
M = TypeVar("M", bound=BaseModel)


def iso_utc(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


UtcDatetime = Annotated[dt.datetime, PlainSerializer(iso_utc, return_type=str)]


def _whole(value: object) -> object:
    """JSON has one kind of number: ``3.0`` is the integer 3, as JSON Schema's "integer" says."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# an integer above 0 and nothing else (not "3", not true), written as JSON may write it (3 or
# 3.0); the bound sits inside so the document states it (``exclusiveMinimum``)
PositiveJsonInt = Annotated[int, Strict(), Field(gt=0), BeforeValidator(_whole)]

# The ``pattern`` of text that must say something: the domain strips it and refuses what is
# left empty, so the document says "holds a non-space character" (and, as for all text, no
# NUL: see ``RefusesNul``).
HAS_TEXT = f"^[^\\u0000]*[^{jsonlimits.SPACES}\\u0000][^\\u0000]*$"
# The same for a guest's text, from which the domain also drops control characters.
HAS_PRINTABLE = f"^[^\\u0000]*[^{jsonlimits.SPACES}\\u0000-\\u001f\\u007f][^\\u0000]*$"


class RefusesNul(BaseModel):
    """A request model: no text anywhere in it (nested objects included) holds a NUL.
    PostgreSQL cannot store one, so both databases refuse it here, before anything is done.

    Patterns are read by Python's ``re``, as the domain (``str.strip``) and the fuzzer that
    reads the document do: one meaning of ``\\s`` everywhere."""

    model_config = ConfigDict(regex_engine="python-re")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str | dict | list):
            where = jsonlimits.nul_path(value)
            if where is not None:
                name = info.field_name or ""
                field = cls.model_fields.get(name)
                alias = (field.alias if field is not None else None) or name
                inside = f" (at {alias}.{where})" if where else ""
                raise PydanticCustomError("nul", f"{jsonlimits.NUL_RULE}{inside}")
        return value


class WireModel(RefusesNul):
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


def _field_name(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _message(error: ErrorDetails) -> str:
    if error["type"] == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") in (HAS_TEXT, HAS_PRINTABLE):
        return "must not be blank"  # what the domain says of it; the pattern itself tells a person nothing
    return error["msg"]


def _details(error: ValidationError) -> list[tuple[str, str]]:
    return [(_field_name(e["loc"]), _message(e)) for e in error.errors()]


async def read_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    data = jsonlimits.loads(raw) if raw.strip() else {}  # 400 when not JSON or nested too deeply
    if not isinstance(data, dict):
        raise Invalid("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Invalid("validation failed", details=_details(error)) from error


def read_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as error:
        raise Invalid("invalid query parameters", details=_details(error)) from error


def path_id(request: web.Request, name: str = "id") -> uuid.UUID:
    """A path id; anything that is not a UUID cannot name an object, so it is 404."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError as error:
        raise NotFound(f"no such {name}") from error


# the column's length: a longer slug names no page (and Tortoise refuses to even look for it)
SLUG_MAX_LENGTH: int = getattr(Page._meta.fields_map["slug"], "max_length", None) or 64


def no_such_slug(slug: str) -> bool:
    """A ``{slug}`` no page can have: with a NUL (PostgreSQL could not even look) or longer
    than the column. Its route answers 404 at once."""
    return jsonlimits.NUL in slug or len(slug.lower()) > SLUG_MAX_LENGTH


def respond(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
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
    response: object = None
    status: int = 200
    errors: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    load: Loader | None = None
    # a path parameter's rule (name -> regular expression): anything else is 400, before the handler
    path_patterns: dict[str, str] = field(default_factory=dict)
    # the media type of this route's errors when they are not the JSON ``ErrorBody`` (a route
    # for browsers answers its own error page, and then its own 404 for a NUL in the slug too)
    error_media: str | None = None
    # other answers than ``status`` that are not errors: status -> model (202 while it runs)
    also: dict[int, object] = field(default_factory=dict)


def _arguments(route: Route, spec: Endpoint) -> frozenset[str]:
    """The keyword arguments ``route`` takes, checked against the description so a handler
    that forgets (or invents) one fails at import, not on its first call. ``query``,
    ``body`` and ``found`` are handed in whenever they are described; ``caller`` and
    ``path_id`` only to a handler that asks (the caller is admitted either way)."""
    declared = frozenset(list(inspect.signature(route).parameters)[1:])
    required = {
        name
        for name, described in (("found", spec.load is not None), ("query", spec.query), ("body", spec.body))
        if described
    }
    optional = {"path_id"} | ({"caller"} if spec.auth in ("user", "admin") else set())
    if spec.load is not None and spec.auth not in ("user", "admin"):
        raise TypeError(f"{route.__qualname__}: load needs an admitted caller")
    if not required <= declared or not declared <= required | optional:
        raise TypeError(f"{route.__qualname__} must take (request, {', '.join(sorted(required))}) as keywords")
    return declared


def endpoint(
    *,
    summary: str,
    tag: str,
    auth: Auth = "none",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: object = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    extra: dict[str, Any] | None = None,
    load: Loader | None = None,
    path_patterns: dict[str, str] | None = None,
    error_media: str | None = None,
    also: dict[int, object] | None = None,
) -> Callable[[Route], Handler]:
    """Describe a handler for the OpenAPI document and admit its requests.

    The handler is called as ``route(request, **arguments)`` with, as it declares:
    ``caller`` (the user ``auth`` admits: 401/403 otherwise), ``path_id`` (the ``{id}`` of
    the path as a UUID: 404 otherwise), ``found`` (what ``load(path_id, caller)`` returns,
    for a route that answers 404 before it judges the body), ``query`` and ``body`` (the
    validated models: 400 otherwise). They are resolved in that order; a path parameter
    breaking its ``path_patterns`` rule is 400 before any of them but the caller.
    """
    spec = Endpoint(
        summary,
        tag,
        auth,
        body,
        query,
        response,
        status,
        errors,
        extra or {},
        load,
        path_patterns or {},
        error_media,
        also or {},
    )

    def attach(route: Route) -> Handler:
        wanted = _arguments(route, spec)

        @functools.wraps(route)
        async def handler(request: web.Request) -> web.StreamResponse:
            arguments: dict[str, object] = {}
            caller = None
            if spec.auth in ("user", "admin"):
                caller = await admit(request, admin=spec.auth == "admin")
            if spec.error_media is None and no_such_slug(request.match_info.get("slug", "")):
                raise NotFound("page not found")
            for name, pattern in spec.path_patterns.items():  # (a route without that parameter has none)
                if name in request.match_info and not re.fullmatch(pattern, request.match_info[name]):
                    raise Invalid(f"must match {pattern}", field=name)
            if "caller" in wanted:
                arguments["caller"] = caller
            if "path_id" in wanted or spec.load is not None:
                target = path_id(request)
                if "path_id" in wanted:
                    arguments["path_id"] = target
                if spec.load is not None and caller is not None:
                    arguments["found"] = await spec.load(target, caller)
            if spec.query is not None:
                arguments["query"] = read_query(request, spec.query)
            if spec.body is not None:
                arguments["body"] = await read_body(request, spec.body)
            return await route(request, **arguments)

        handler.__endpoint__ = spec  # type: ignore[attr-defined]  # read back by the OpenAPI document (docs.py)
        return handler

    return attach
