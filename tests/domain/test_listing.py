"""Cursor slices: the opaque ``nextCursor`` a client passes back, and the limits a list takes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mochung.domain.errors import Invalid
from mochung.domain.listing import MAX_LIMIT, MIN_LIMIT, check_limit, decode_cursor, encode_cursor

ROW = uuid.UUID("0b8f0c0e-6a4e-4d55-9f0e-2d5f3a1c9b77")
SEOUL = dt.timezone(dt.timedelta(hours=9))
REFUSED = "invalid cursor: pass back the nextCursor of a previous page"


def _cursor_of(payload: object) -> str:
    """A hand-made cursor: what a client could forge."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_a_cursor_leads_back_to_the_row_it_was_made_from() -> None:
    created = dt.datetime(2027, 5, 1, 12, 30, 15, 123456, tzinfo=SEOUL)

    cursor = encode_cursor("created_at", created, ROW)

    assert decode_cursor(cursor, "created_at") == (created, ROW)
    value, _ = decode_cursor(cursor, "created_at")
    assert value.utcoffset() == dt.timedelta(0)  # kept in UTC, whatever the database gave


def test_a_cursor_is_url_safe_and_unpadded() -> None:
    cursor = encode_cursor("created_at", dt.datetime(2027, 5, 1, tzinfo=dt.UTC), str(ROW))

    assert cursor.isascii() and not set(cursor) & set("+/=")


def test_a_naive_time_is_taken_as_utc() -> None:
    cursor = encode_cursor("created_at", dt.datetime(2027, 5, 1, 3, 0), ROW)

    assert decode_cursor(cursor, "created_at") == (dt.datetime(2027, 5, 1, 3, 0, tzinfo=dt.UTC), ROW)


def test_a_cursor_of_another_list_is_refused() -> None:
    cursor = encode_cursor("updated_at", dt.datetime(2027, 5, 1, tzinfo=dt.UTC), ROW)

    with pytest.raises(Invalid) as refused:
        decode_cursor(cursor, "created_at")

    assert (refused.value.field, refused.value.message) == ("cursor", REFUSED)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "!!!!",
        "커서",
        _cursor_of(["created_at", "2027-05-01T00:00:00+00:00", str(ROW)]),
        _cursor_of({"k": "created_at", "v": "2027-05-01T00:00:00", "id": str(ROW)}),  # naive time
        _cursor_of({"k": "created_at", "v": "yesterday", "id": str(ROW)}),
        _cursor_of({"k": "created_at", "v": "2027-05-01T00:00:00+00:00", "id": "row-7"}),
        _cursor_of({"k": "created_at", "v": "2027-05-01T00:00:00+00:00", "id": 7}),
        _cursor_of({"k": "created_at", "v": 1_700_000_000, "id": str(ROW)}),
        _cursor_of({"k": "created_at", "id": str(ROW)}),
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),  # nested deeper than the JSON parser goes
        base64.urlsafe_b64encode(b"\xff\xfe not utf-8").decode(),
    ],
)
def test_anything_we_did_not_issue_is_refused_as_a_bad_cursor(cursor: str) -> None:
    with pytest.raises(Invalid) as refused:
        decode_cursor(cursor, "created_at")

    assert (refused.value.field, refused.value.message) == ("cursor", REFUSED)


@pytest.mark.parametrize("limit", [MIN_LIMIT, 50, MAX_LIMIT])
def test_limits_from_1_to_200_are_accepted(limit: int) -> None:
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [-1, 0, MAX_LIMIT + 1, 10_000])
def test_other_limits_are_refused(limit: int) -> None:
    with pytest.raises(Invalid) as refused:
        check_limit(limit)

    assert (refused.value.field, refused.value.message) == ("limit", "must be between 1 and 200")


# ---- properties ------------------------------------------------------------------------

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
moments = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=offsets)
keys = st.sampled_from(["created_at", "updated_at", "reviewed_at"]) | st.text(max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(key=keys, moment=moments, row=st.uuids())
def test_property_every_cursor_decodes_to_the_instant_and_row_it_was_made_from(
    key: str, moment: dt.datetime, row: uuid.UUID
) -> None:
    value, row_id = decode_cursor(encode_cursor(key, moment, row), key)

    assert (value, row_id) == (moment, row)  # the same instant, whatever the offset
    assert value.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(cursor=st.text(max_size=200) | st.binary(max_size=150).map(lambda b: base64.urlsafe_b64encode(b).decode()))
def test_property_garbage_cursors_are_refused_with_the_domain_error(cursor: str) -> None:
    try:
        value, row_id = decode_cursor(cursor, "created_at")
    except Invalid as refused:
        assert refused.field == "cursor"
    else:  # only a well-formed cursor of this list gets through
        assert value.tzinfo is not None and isinstance(row_id, uuid.UUID)


@settings(max_examples=300, deadline=None)
@given(
    payload=json_values
    | st.fixed_dictionaries(
        {"k": st.just("created_at") | json_values, "v": json_values, "id": json_values | st.uuids().map(str)}
    )
)
def test_property_forged_json_cursors_are_refused_with_the_domain_error(payload: object) -> None:
    try:
        value, row_id = decode_cursor(_cursor_of(payload), "created_at")
    except Invalid as refused:
        assert refused.field == "cursor"
    else:
        assert value.tzinfo is not None and isinstance(row_id, uuid.UUID)
