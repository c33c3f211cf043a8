"""Cursor pagination (``mochung.domain.listing``) on real rows, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from mochung.domain.errors import Invalid
from mochung.domain.listing import MAX_LIMIT, decode_cursor, encode_cursor, paginate
from mochung.domain.models import AuditEntry


async def _entries(count: int, same_time: bool = False) -> list[str]:
    moment = dt.datetime(2026, 5, 16, 12, 0, tzinfo=dt.UTC)
    ids = []
    for index in range(count):
        entry = await AuditEntry.create(action="test", target=f"t{index}")
        created = moment if same_time else moment + dt.timedelta(seconds=index)
        await AuditEntry.filter(id=entry.id).update(created_at=created)
        ids.append(str(entry.id))
    return ids


async def _walk(limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = await paginate(AuditEntry.all(), limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen.extend(str(item.id) for item in page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def test_walking_every_page_sees_each_row_once_newest_first(client) -> None:
    ids = await _entries(7)
    assert await _walk(3) == list(reversed(ids))
    assert await _walk(7) == list(reversed(ids))


async def test_rows_with_the_same_time_are_split_by_id_without_loss(client) -> None:
    ids = await _entries(5, same_time=True)
    seen = await _walk(2)
    assert sorted(seen) == sorted(ids) and len(seen) == 5


async def test_empty_list_has_no_next_cursor(client) -> None:
    page = await paginate(AuditEntry.all(), limit=10)
    assert page.items == [] and page.next_cursor is None


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
async def test_limit_out_of_bounds_is_invalid(client, limit: int) -> None:
    with pytest.raises(Invalid) as raised:
        await paginate(AuditEntry.all(), limit=limit)
    assert raised.value.field == "limit"


@pytest.mark.parametrize("cursor", ["garbage", "e30", "!!!", encode_cursor("updated_at", dt.datetime.now(dt.UTC), "x")])
def test_bad_cursors_are_invalid(cursor: str) -> None:
    with pytest.raises(Invalid) as raised:
        decode_cursor(cursor, "created_at")
    assert raised.value.field == "cursor"
