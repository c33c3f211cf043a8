"""The wire side of cursor pagination (``mochung.domain.listing``): the ``limit`` and
``cursor`` query parameters every list route accepts, and the ``{items, nextCursor}`` body.

A list route subclasses :class:`SliceQuery` for its filters and answers
``respond_slice(found, Paginated[ItemModel], item_out)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from aiohttp import web
from pydantic import Field, model_validator

from mochung.domain.listing import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT, Slice
from mochung.server.http.wire import WireModel, respond

ItemT = TypeVar("ItemT")
RowT = TypeVar("RowT")
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"


class SliceQuery(WireModel):
    # an empty parameter is as if absent (below): the OpenAPI document allows "" for each
    blank_is_absent: ClassVar[bool] = True

    limit: int = Field(default=DEFAULT_LIMIT, ge=MIN_LIMIT, le=MAX_LIMIT)
    # opaque: no schema can say which values the server issued, only their alphabet (URL-safe
    # base64, unpadded); what it did not issue for this list is 400 (``domain.listing``)
    cursor: str | None = Field(
        default=None,
        max_length=512,
        pattern=CURSOR_PATTERN,
        description="Opaque: the nextCursor of the previous page of this same list, passed back unchanged "
        "(URL-safe base64 without padding). A value the server did not issue for this list is 400 "
        "(invalid cursor); empty means the first page.",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, values: Any) -> Any:
        """``?q=&cursor=`` (a form with empty filters) reads as no filter, not as a bad value."""
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value != ""}
        return values


class Paginated(WireModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = None


def respond_slice(found: Slice[RowT], wire: type[Paginated[ItemT]], out: Callable[[RowT], ItemT]) -> web.Response:
    """The ``{items, nextCursor}`` answer of a list route: every row of ``found`` through ``out``."""
    return respond(wire(items=[out(row) for row in found.items], next_cursor=found.next_cursor))
