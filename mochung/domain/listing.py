"""Cursor pagination for every admin list: ``{items, nextCursor}`` with an opaque cursor.

Keyset pagination, newest first, on a datetime column (``created_at`` by default) with
the id as tie-breaker: a page never skips or repeats a row when rows are added while an
admin pages through, and the cost does not grow with the page number (no OFFSET).

The cursor is URL-safe base64 of a small JSON object naming the sort column, the last
row's value and id. It is opaque to clients and not signed: a forged cursor can only
move the starting point of a list the caller may already read. Anything that does not
decode, or names another column, is refused as ``Invalid(field="cursor")`` (400).

Usage::

    page = await paginate(Payment.filter(status="failed"), limit=query.limit, cursor=query.cursor)
    page.items, page.next_cursor
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from mochung.domain.errors import Invalid

DEFAULT_LIMIT = 50
MIN_LIMIT = 1
MAX_LIMIT = 200

M = TypeVar("M", bound=Model)
T = TypeVar("T")


@dataclass(frozen=True)
class Slice(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: str, value: dt.datetime, row_id: uuid.UUID | str) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    raw = json.dumps({"k": key, "v": value.astimezone(dt.UTC).isoformat(), "id": str(row_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: str) -> tuple[dt.datetime, uuid.UUID]:
    """The (value, id) a cursor points after; ``Invalid`` for anything we did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or data.get("k") != key:
            raise ValueError("cursor of another list")
        if not isinstance(data.get("v"), str) or not isinstance(data.get("id"), str):
            raise ValueError("cursor fields are not strings")
        value = dt.datetime.fromisoformat(data["v"])
        if value.tzinfo is None:
            raise ValueError("naive time")
        return value, uuid.UUID(data["id"])
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, RecursionError) as error:
        raise Invalid("invalid cursor: pass back the nextCursor of a previous page", field="cursor") from error


def where(query: QuerySet[M], **filters: object) -> QuerySet[M]:
    """``query`` narrowed by each of ``filters`` that is given (not None): a list's optional filters."""
    given = {name: value for name, value in filters.items() if value is not None}
    return query.filter(**given) if given else query


def check_limit(limit: int) -> int:
    if not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise Invalid(f"must be between {MIN_LIMIT} and {MAX_LIMIT}", field="limit")
    return limit


async def paginate(
    query: QuerySet[M], *, limit: int = DEFAULT_LIMIT, cursor: str | None = None, key: str = "created_at"
) -> Slice[M]:
    """One page of ``query``, newest ``key`` first; ``next_cursor`` is None on the last page."""
    check_limit(limit)
    if cursor:
        value, last_id = decode_cursor(cursor, key)
        older: dict[str, Any] = {f"{key}__lt": value}  # Any: Q's keyword `join_type` is a str
        tied: dict[str, Any] = {key: value, "id__lt": last_id}
        query = query.filter(Q(**older) | Q(**tied))
    rows = await query.order_by(f"-{key}", "-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key, getattr(rows[-1], key), rows[-1].pk) if more and rows else None
    return Slice(items=list(rows), next_cursor=next_cursor)
