"""The Socket.IO payloads of PROTOCOL.md "Socket.IO", as pydantic models validated in one
place (:func:`validate`), before a handler runs.

A refused payload gets the same ``message-error`` it always did: ``invalid_payload`` when
it (or ``resume``, or ``component``) is not an object, ``invalid`` with the field's rule,
``forbidden`` for a ``userId`` that is not the token's user. Fields are declared in the
order they are judged, so the first refusal is the one the client hears about. A field a
client leaves out is judged as ``null`` (each field says what ``null`` means).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from mochung.domain import chat, jsonlimits, rooms
from mochung.domain.errors import Invalid

P = TypeVar("P", bound="Payload")
REFUSAL_CODES = frozenset({"invalid_payload", "invalid", "forbidden"})
RESUME_IS_AN_OBJECT = "resume must be an object {message_id, after_seq}"
COMPONENT_IS_AN_OBJECT = "component must be an object with a value"


class Refused(Exception):
    """A payload that failed validation: ``code`` and ``message`` are the message-error's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Judged:
    """What validation needs to know about the socket: the token's user."""

    user_id: uuid.UUID


def parse_uuid(value: object, field: str) -> uuid.UUID:
    """A client-sent id (also the agent endpoint's ``wedding_context.page_id``)."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError) as error:
        raise Invalid(f"{field} must be a UUID", field=field) from error


def _refuse(code: str, message: str) -> PydanticCustomError:
    # No context is given, so the message is shown as written (its braces included).
    return PydanticCustomError(code, message)


def _uuid(field: str, optional: bool) -> Callable[[object], uuid.UUID | None]:
    def judge(value: object) -> uuid.UUID | None:
        if optional and value in (None, ""):
            return None
        try:
            return parse_uuid(value, field)
        except Invalid as error:
            raise _refuse("invalid", error.message) from None

    return judge


def _object(message: str, optional: bool) -> Callable[[object], object]:
    def judge(value: object) -> object:
        if not isinstance(value, dict) and not (optional and value is None):
            raise _refuse("invalid_payload", message)
        return value

    return judge


def _after_seq(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _refuse("invalid", "resume.after_seq must be a non-negative integer")
    return value


def _claimed_user(value: object, info: ValidationInfo) -> str | None:
    """The token decides who the user is; a ``userId`` may only repeat it."""
    if value in (None, ""):
        return None
    judged = info.context
    if not isinstance(judged, Judged):
        raise TypeError("payloads are validated with validate(), which passes the socket's Judged")
    if str(value) != str(judged.user_id):
        raise _refuse("forbidden", "userId is not the token's user")
    return str(value)


def _text(value: object) -> str:
    if not isinstance(value, str):  # blank or too long: chat.check_text, with the settings
        raise _refuse("invalid", chat.TEXT_REQUIRED)
    return value


def _room(value: object) -> str:
    if not isinstance(value, str):  # blank or too long: rooms.join_session
        raise _refuse("invalid", rooms.ROOM_RULE)
    return value


ClaimedUser = Annotated[str | None, BeforeValidator(_claimed_user)]
Text = Annotated[str, BeforeValidator(_text)]
Room = Annotated[str, BeforeValidator(_room)]
# a room named only to find a joined session: any value, as text; empty means none
RoomName = Annotated[str | None, BeforeValidator(lambda value: str(value) if value else None)]
SessionId = Annotated[uuid.UUID | None, BeforeValidator(_uuid("session_id", optional=True))]
WeddingId = Annotated[uuid.UUID | None, BeforeValidator(_uuid("wedding_id", optional=True))]


class Payload(BaseModel):
    """snake_case like the rest of the socket protocol; ``userId`` is the one camelCase name."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    not_an_object: ClassVar[str] = "the payload must be a JSON object"

    @model_validator(mode="before")
    @classmethod
    def _every_field_judged(cls, data: object) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise _refuse("invalid_payload", cls.not_an_object)
        prepared = cls.prepare(dict(data))
        missing = {field.alias or name: None for name, field in cls.model_fields.items()}
        return {**missing, **prepared}

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The raw object before its fields are judged (a subclass derives fields here)."""
        return data


class JoinRoom(Payload):
    user_id: ClaimedUser = Field(alias="userId")
    resume: Annotated[dict[str, Any] | None, BeforeValidator(_object(RESUME_IS_AN_OBJECT, optional=True))]
    room: Room
    wedding_id: WeddingId


class Resume(Payload):
    """``joinRoom``'s ``resume``, judged after the join: a refused resume still joins."""

    message_id: Annotated[uuid.UUID, BeforeValidator(_uuid("resume.message_id", optional=False))]
    after_seq: Annotated[int, BeforeValidator(_after_seq)]

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {"after_seq": 0, **data}


class LeaveRoom(Payload):
    user_id: ClaimedUser = Field(alias="userId")
    room: Annotated[str, BeforeValidator(str)]  # any value names a room (none joined: nothing happens)


class ChatMessage(Payload):
    """``chat_history`` and ``timestamp`` are ignored: the server keeps the history."""

    user_id: ClaimedUser = Field(alias="userId")
    text: Text
    session_id: SessionId
    room: RoomName
    wedding_id: WeddingId


class ComponentMessage(Payload):
    """A clicked suggestion: the text of the turn is the component's ``value`` (or
    ``props.value``)."""

    component: Annotated[dict[str, Any], BeforeValidator(_object(COMPONENT_IS_AN_OBJECT, optional=False))]
    text: Text
    session_id: SessionId
    room: RoomName
    wedding_id: WeddingId

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        component = data.get("component")
        text = None
        if isinstance(component, dict):
            props = component.get("props")
            text = component.get("value", props.get("value") if isinstance(props, dict) else None)
        return {**data, "text": text}


class CancelMessage(Payload):
    message_id: Annotated[uuid.UUID, BeforeValidator(_uuid("message_id", optional=False))]


class _TooDeep:
    """Stands for the arguments of a packet nested deeper than ``jsonlimits.MAX_DEPTH``."""

    def __repr__(self) -> str:
        return "<too deep>"


TOO_DEEP = _TooDeep()
_EVENT_NAME = re.compile(r'\s*\[\s*"([A-Za-z0-9_:.-]{1,100})"')


class PacketJson:
    """The JSON module python-socketio and Engine.IO decode packets with (``json=`` of the
    server): orjson, which never recurses and is strict JSON, and a depth limit. A packet
    nested too deeply keeps its event name and gets :data:`TOO_DEEP` as its argument, so
    :func:`validate` answers ``invalid_payload`` instead of the event being dropped (or a
    ``RecursionError`` escaping the server's JSON parser, as with the standard library)."""

    @staticmethod
    def dumps(value: object, *args: Any, **kwargs: Any) -> str:
        return json.dumps(value, *args, **kwargs)

    @staticmethod
    def loads(text: str | bytes, *_: Any, **__: Any) -> Any:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            if "depth limit" not in str(error):
                raise ValueError(str(error)) from None
            found = _EVENT_NAME.match(text if isinstance(text, str) else text.decode("utf-8", "replace"))
            if found is None:
                raise ValueError(jsonlimits.TOO_DEEP) from None
            return [found.group(1), TOO_DEEP]
        if not jsonlimits.parsed_too_deep(text, value):
            return value
        if isinstance(value, list) and value and isinstance(value[0], str):
            return [value[0], TOO_DEEP]
        return [TOO_DEEP] if isinstance(value, list) else TOO_DEEP


def validate(model: type[P], data: object, judged: Judged) -> P:
    """``data`` as ``model``, or :class:`Refused` with the first refusal."""
    if data is TOO_DEEP:
        raise Refused("invalid_payload", jsonlimits.TOO_DEEP)
    where = jsonlimits.nul_path(data)
    if where is not None:  # PostgreSQL cannot store a NUL: refused on both databases
        raise Refused("invalid", f"{where or 'the payload'} {jsonlimits.NUL_RULE}")
    try:
        return model.model_validate(data, context=judged)
    except ValidationError as error:
        first = error.errors()[0]
        code = first["type"] if first["type"] in REFUSAL_CODES else "invalid"
        raise Refused(code, first["msg"]) from None
