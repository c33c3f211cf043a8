"""Uploaded files: the type is read from the bytes, the name is cleaned for showing, and the
storage key is the server's own."""

from __future__ import annotations

import re
import string
import unicodedata
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mochung.adapters.storage import validate_key
from mochung.domain.files import JPEG, MAX_FILENAME, PDF, PNG, SNIFF_BYTES, WEBP, FileType, clean_filename, new_file_key
from mochung.domain.files import sniff_file_type as sniff
from tests.support import images

ACCEPTED = (JPEG, PNG, WEBP, PDF)


@pytest.mark.parametrize(
    ("data", "kind"),
    [(images.PNG, PNG), (images.JPEG, JPEG), (images.WEBP, WEBP), (images.PDF, PDF)],
)
def test_each_accepted_type_is_known_by_its_first_bytes(data: bytes, kind: FileType) -> None:
    assert sniff(data[:SNIFF_BYTES]) == kind


def test_the_types_and_their_extensions() -> None:
    assert [(t.mime_type, t.extension) for t in ACCEPTED] == [
        ("image/jpeg", "jpg"),
        ("image/png", "png"),
        ("image/webp", "webp"),
        ("application/pdf", "pdf"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"just some text, not a picture",
        b"GIF89a\x01\x00\x01\x00",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but a sound
        b"RIFF\x24\x00\x00\x00WEB",  # too short to be WebP
        b"\x89PNG\r\n",  # a PNG signature cut short
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"MZ\x90\x00",
    ],
)
def test_anything_else_is_no_accepted_type(data: bytes) -> None:
    assert sniff(data) is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("우리 사진.png", "우리 사진.png"),
        ("  wedding.jpg  ", "wedding.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\신부\\Pictures\\cover.webp", "cover.webp"),
        ("photos/2027/cover.png", "cover.png"),
        ("x\x00y\x1b[31m.png", "xy[31m.png"),
        ("line\nbreak.pdf", "linebreak.pdf"),
        ("bidi\u202etxt.exe", "biditxt.exe"),  # a right-to-left override is a format character
        (None, "file"),
        ("", "file"),
        (".", "file"),
        ("..", "file"),
        ("photos/", "file"),
        ("\x00\x01", "file"),
    ],
)
def test_a_filename_keeps_only_its_last_part_without_control_characters(given: str | None, kept: str) -> None:
    assert clean_filename(given) == kept


def test_a_long_filename_is_cut_to_255_keeping_its_extension() -> None:
    cleaned = clean_filename("사" * 300 + ".jpeg")

    assert len(cleaned) == MAX_FILENAME
    assert cleaned == "사" * 250 + ".jpeg"


def test_a_long_filename_without_a_short_extension_is_simply_cut() -> None:
    assert clean_filename("a" * 300) == "a" * MAX_FILENAME
    assert clean_filename("a" * 300 + "." + "b" * 11) == ("a" * 300 + "." + "b" * 11)[:MAX_FILENAME]


def test_a_new_key_is_under_the_owners_folder_named_by_the_file_id() -> None:
    owner = uuid.uuid4()

    file_id, key = new_file_key(owner, PNG)

    assert key == f"files/{owner}/{file_id}.png"
    assert validate_key(key) == key
    assert new_file_key(owner, PNG)[0] != file_id


# ---- properties ------------------------------------------------------------------------

names = st.text(max_size=400) | st.lists(
    st.sampled_from(["..", ".", "", "사진", "photo.png", "a\\b", "\x00", "\u202e", " ", "x" * 130]), max_size=6
).map("/".join)


@settings(max_examples=300, deadline=None)
@given(name=st.none() | names)
def test_property_a_cleaned_filename_is_one_short_printable_part(name: str | None) -> None:
    cleaned = clean_filename(name)

    assert 1 <= len(cleaned) <= MAX_FILENAME
    assert "/" not in cleaned and "\\" not in cleaned
    assert cleaned not in (".", "..")
    assert not any(unicodedata.category(ch).startswith("C") for ch in cleaned)
    assert cleaned == cleaned.strip() or len(cleaned) == MAX_FILENAME
    assert clean_filename(cleaned) == cleaned  # cleaning twice changes nothing


@settings(max_examples=100, deadline=None)
@given(
    stem=st.text(alphabet=string.ascii_letters + "가나다 _-", min_size=1, max_size=40),
    extension=st.sampled_from(["png", "jpg", "jpeg", "webp", "pdf"]),
)
def test_property_an_ordinary_name_is_kept_as_it_is(stem: str, extension: str) -> None:
    name = f"{stem.strip() or 'x'}.{extension}"

    assert clean_filename(name) == name


@settings(max_examples=300, deadline=None)
@given(head=st.binary(max_size=SNIFF_BYTES * 2))
def test_property_the_type_depends_only_on_a_known_signature(head: bytes) -> None:
    kind = sniff(head)

    signatures = {
        JPEG: head.startswith(b"\xff\xd8\xff"),
        PNG: head.startswith(b"\x89PNG\r\n\x1a\n"),
        WEBP: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
        PDF: head.startswith(b"%PDF-"),
    }
    if kind is None:
        assert not any(signatures.values())
    else:
        assert signatures[kind]
    assert sniff(head[:SNIFF_BYTES]) == kind  # the first 12 bytes are enough


@settings(max_examples=50, deadline=None)
@given(owner=st.uuids(), kind=st.sampled_from(ACCEPTED))
def test_property_every_new_key_is_a_valid_storage_key(owner: uuid.UUID, kind: FileType) -> None:
    file_id, key = new_file_key(owner, kind)

    assert validate_key(key) == key
    assert re.fullmatch(rf"files/{owner}/{file_id}\.(jpg|png|webp|pdf)", key)
