"""Storage keys: whatever ``validate_key`` accepts is a safe relative path under any root,
on a filesystem and in S3; whatever could leave the root is refused before any I/O."""

from __future__ import annotations

import os
import posixpath
import string
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mochung.adapters.storage import MAX_KEY_BYTES, validate_key
from mochung.domain.ports import InvalidStorageKey

SAFE = string.ascii_letters + string.digits + "._-"
segments = st.text(SAFE, min_size=1, max_size=20)
# keys built from the pieces a hostile or careless caller would use
pieces = st.sampled_from(["..", ".", "", "files", "42", "a.png", ".hidden", "C:", "\\", "\x00", "\x7f", "\x9f", "~"])
hostile = st.lists(segments | pieces, min_size=1, max_size=6).map("/".join) | st.text(max_size=60)


def _is_safe_relative_path(key: str) -> bool:
    parts = key.split("/")
    return (
        not key.startswith("/")
        and all(part and part not in (".", "..") and not part.startswith(".") for part in parts)
        and all(ch in SAFE for part in parts for ch in part)
        and posixpath.normpath(key) == key  # nothing for a path resolver to fold away
        and PurePosixPath(key).parts == tuple(parts)
    )


@settings(max_examples=300, deadline=None)
@given(key=hostile | st.lists(segments, min_size=1, max_size=5).map("/".join))
def test_property_an_accepted_key_is_a_safe_relative_path(key: str) -> None:
    try:
        accepted = validate_key(key)
    except InvalidStorageKey as refused:
        assert str(refused)  # refused with a reason, never another exception
        assert not _is_safe_relative_path(key) or len(key.encode()) > MAX_KEY_BYTES
    else:
        assert accepted == key
        assert _is_safe_relative_path(key)
        root = "/srv/mochung/files"
        assert os.path.normpath(os.path.join(root, key)).startswith(root + "/")


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(segments.filter(lambda s: not s.startswith(".")), min_size=1, max_size=5))
def test_property_every_key_of_plain_segments_is_accepted(parts: list[str]) -> None:
    key = "/".join(parts)

    assert validate_key(key) == key


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(segments, max_size=3).map("/".join),
    after=st.lists(segments, max_size=3).map("/".join),
    bad=st.sampled_from(["..", "."]),
)
def test_property_a_dot_or_dot_dot_segment_is_refused(before: str, after: str, bad: str) -> None:
    key = "/".join(part for part in (before, bad, after) if part)

    with pytest.raises(InvalidStorageKey):
        validate_key(key)


@settings(max_examples=200, deadline=None)
@given(
    key=st.lists(segments, min_size=1, max_size=4).map("/".join),
    at=st.integers(min_value=0),
    bad=st.sampled_from(["\\", "\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028", "é", "한"]),
)
def test_property_a_backslash_control_or_non_ascii_character_anywhere_is_refused(key: str, at: int, bad: str) -> None:
    index = at % (len(key) + 1)

    with pytest.raises(InvalidStorageKey):
        validate_key(key[:index] + bad + key[index:])


@settings(max_examples=100, deadline=None)
@given(key=st.lists(segments, min_size=1, max_size=4).map("/".join), prefix=st.sampled_from(["/", "//", "C:", "c:/"]))
def test_property_an_absolute_key_is_refused(key: str, prefix: str) -> None:
    with pytest.raises(InvalidStorageKey):
        validate_key(prefix + key)


@pytest.mark.parametrize("key", [None, 42, b"files/1/a.png", ["files"]])
def test_a_key_that_is_not_a_string_is_refused(key: object) -> None:
    with pytest.raises(InvalidStorageKey, match="storage key must be a string"):
        validate_key(key)


def test_a_key_over_1024_bytes_is_refused() -> None:
    with pytest.raises(InvalidStorageKey, match="longer than 1024 bytes"):
        validate_key("/".join(["a" * 100] * 11))
