"""Page rules that need no database: slugs, titles, the size of componentData, the day a
view counts for, and the Markdown snapshot kept beside each page."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mochung.domain.errors import Invalid, TooLarge
from mochung.domain.models import Page
from mochung.domain.pages import (
    MAX_COMPONENT_DATA_BYTES,
    SLUG_PATTERN,
    check_component_data_size,
    check_slug,
    check_title,
    render_markdown,
    slug_from_title,
    snapshot_key,
)

SLUG_RULE = "slug must be 3-64 characters: lowercase letters, digits and '-'"


@dataclass
class PageRow:
    """The fields of a Page the snapshot reads (a Page needs a database to exist)."""

    title: str = "민준 ♥ 서연 결혼합니다"
    slug: str = "minjun-seoyeon"
    component_data: dict[str, Any] | None = field(default_factory=lambda: {"components": []})
    version: int = 1
    is_published: bool = True
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)


def page(**fields: Any) -> PageRow:
    return PageRow(**fields)


def render(row: PageRow) -> str:
    return render_markdown(cast(Page, row))


# ---- slugs and titles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [("our-day", "our-day"), ("  Our-Day-2027 ", "our-day-2027"), ("abc", "abc"), ("a" * 64, "a" * 64)],
)
def test_a_slug_is_trimmed_and_lowercased(given: str, kept: str) -> None:
    assert check_slug(given) == kept


@pytest.mark.parametrize("given", ["", "ab", "a" * 65, "our day", "our_day", "우리날", "our/day", "our.day", "../x"])
def test_other_slugs_are_refused_saying_what_a_slug_is(given: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_slug(given)

    assert (refused.value.field, refused.value.message) == ("slug", SLUG_RULE)


def test_a_slug_made_from_a_title_keeps_its_ascii_words() -> None:
    slug = slug_from_title("Minjun & Seoyeon's Wedding!")

    assert re.fullmatch(r"minjun-seoyeon-s-wedding-[a-z0-9]{6}", slug)


def test_a_title_without_ascii_still_gets_a_slug() -> None:
    assert re.fullmatch(r"page-[a-z0-9]{6}", slug_from_title("우리 결혼합니다"))


def test_accents_are_dropped_not_the_letters() -> None:
    assert slug_from_title("Zoë & Renée").startswith("zoe-renee-")


def test_two_slugs_from_one_title_differ() -> None:
    assert slug_from_title("Our day") != slug_from_title("Our day")


def test_a_title_is_trimmed() -> None:
    assert check_title("  우리 결혼합니다 ") == "우리 결혼합니다"
    assert check_title("가" * 200) == "가" * 200


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "title must not be empty"),
        ("   ", "title must not be empty"),
        ("가" * 201, "title must be at most 200 characters"),
    ],
)
def test_an_empty_or_long_title_is_refused(given: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_title(given)

    assert (refused.value.field, refused.value.message) == ("title", message)


def test_component_data_up_to_256_kib_is_accepted_and_more_is_too_large() -> None:
    def data(text_bytes: int) -> dict[str, Any]:
        return {"components": [{"type": "Invitation", "props": {"text": "x" * text_bytes}}]}

    overhead = len(json.dumps(data(0), separators=(",", ":")).encode())
    check_component_data_size(data(MAX_COMPONENT_DATA_BYTES - overhead))

    with pytest.raises(TooLarge) as refused:
        check_component_data_size(data(MAX_COMPONENT_DATA_BYTES - overhead + 1))
    assert refused.value.message == "componentData is larger than 256 KiB"


def test_korean_text_counts_in_utf8_bytes() -> None:
    with pytest.raises(TooLarge):
        check_component_data_size({"components": [{"type": "Invitation", "props": {"text": "가" * 90_000}}]})


# ---- the Markdown snapshot ---------------------------------------------------------------


def read_snapshot(markdown: str) -> tuple[dict[str, Any], str, list[Any]]:
    """The front matter, the heading and the fenced YAML blocks, read the way a Markdown
    reader does (CommonMark: a fence closes on a line of at least as many backticks)."""
    lines = markdown.split("\n")
    assert lines[0] == "---"
    end = lines.index("---", 1)
    front = yaml.safe_load("\n".join(lines[1:end]))
    rest = lines[end + 1 :]
    heading = next(line for line in rest if line.startswith("# "))
    blocks: list[Any] = []
    opened: tuple[str, list[str]] | None = None
    for line in rest:
        if opened is None:
            match = re.fullmatch(r"(`{3,})yaml", line)
            if match:
                opened = (match.group(1), [])
        elif re.fullmatch(rf"{opened[0]}`*", line):
            blocks.append(yaml.safe_load("\n".join(opened[1])))
            opened = None
        else:
            opened[1].append(line)
    assert opened is None, "a fence was left open"
    return front, heading, blocks


def test_the_snapshot_has_the_page_in_front_matter_and_a_block_per_component() -> None:
    components = [
        {"type": "Cover", "id": "cover-1", "props": {"title": "민준 & 서연", "date": "2027-05-01"}},
        {"type": "Calendar", "id": "cal-1", "props": {"weddingDate": "2027-05-01", "weddingTime": "12:30"}},
    ]
    row = page(component_data={"components": components}, version=3, is_published=False)

    front, heading, blocks = read_snapshot(render(row))

    assert front == {
        "id": str(row.id),
        "userId": str(row.user_id),
        "title": "민준 ♥ 서연 결혼합니다",
        "slug": "minjun-seoyeon",
        "version": 3,
        "isPublished": False,
    }
    assert heading == "# 민준 ♥ 서연 결혼합니다"
    assert blocks == components
    assert "민준 & 서연" in render(row)  # Korean is written as it is, not escaped


def test_backticks_in_a_value_get_a_longer_fence() -> None:
    component = {"type": "Invitation", "id": "i", "props": {"text": "```\n# not a heading\n````"}}

    markdown = render(page(component_data={"components": [component]}))

    assert "`````yaml" in markdown
    assert read_snapshot(markdown)[2] == [component]


def test_a_title_on_several_lines_is_one_heading_and_cannot_open_a_block() -> None:
    component = {"type": "Cover", "id": "c", "props": {}}
    row = page(title="민준\n```yaml\n서연", component_data={"components": [component]})

    front, heading, blocks = read_snapshot(render(row))

    assert (front["title"], heading, blocks) == ("민준\n```yaml\n서연", "# 민준 ```yaml 서연", [component])


def test_a_page_without_components_is_front_matter_and_heading() -> None:
    empty: list[dict[str, Any] | None] = [None, {}, {"components": []}]
    for data in empty:
        front, heading, blocks = read_snapshot(render(page(component_data=data)))
        assert (front["slug"], heading, blocks) == ("minjun-seoyeon", "# 민준 ♥ 서연 결혼합니다", [])


def test_the_snapshot_lives_under_the_owners_folder() -> None:
    row = page()

    assert snapshot_key(cast(Page, row)) == f"pages/{row.user_id}/{row.id}.md"


def test_a_next_line_character_survives_the_snapshot() -> None:
    component = {"type": "Invitation", "id": "i", "props": {"text": "첫 줄\x85둘째 줄"}}

    assert read_snapshot(render(page(component_data={"components": [component]})))[2] == [component]


# ---- properties ------------------------------------------------------------------------

texts = st.characters()
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(texts, max_size=40)
    | st.sampled_from(["```", "---", "...", "`", "````yaml", "# x", "null", "yes", "~", "- a", ": b", "\t", "\r\n"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(texts, max_size=10), inner, max_size=4),
    max_leaves=15,
)
components = st.fixed_dictionaries(
    {"type": st.sampled_from(["Cover", "Invitation", "Gallery", "Guestbook"]), "id": st.text(texts, max_size=12)},
    optional={"props": st.dictionaries(st.text(texts, max_size=10), json_values, max_size=5)},
)
# what check_title lets through: trimmed, 1 to 200 characters, on one line or several
titles = (
    (st.text(texts, min_size=1, max_size=200) | st.sampled_from(["a\n```yaml\nb", "x\n---\ny", "1\n# 2", "~~~\n``"]))
    .map(str.strip)
    .filter(bool)
)
slugs = st.from_regex(SLUG_PATTERN, fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(
    title=titles,
    slug=slugs,
    version=st.integers(min_value=1, max_value=10**6),
    published=st.booleans(),
    blocks=st.lists(components, max_size=5),
)
def test_property_the_snapshot_reads_back_as_the_page(
    title: str, slug: str, version: int, published: bool, blocks: list[dict[str, Any]]
) -> None:
    row = page(title=title, slug=slug, version=version, is_published=published, component_data={"components": blocks})

    front, heading, read_blocks = read_snapshot(render(row))

    assert front == {
        "id": str(row.id),
        "userId": str(row.user_id),
        "title": title,
        "slug": slug,
        "version": version,
        "isPublished": published,
    }
    assert heading == "# " + " ".join(title.split())  # on one line, whatever the title holds
    assert read_blocks == blocks  # no value closes its fence early or opens another


@settings(max_examples=100, deadline=None)
@given(title=st.text(max_size=300))
def test_property_a_slug_from_any_title_is_a_valid_slug(title: str) -> None:
    slug = slug_from_title(title)

    assert check_slug(slug) == slug
    assert SLUG_PATTERN.fullmatch(slug) and "--" not in slug[:-7] and not slug.startswith("-")


@settings(max_examples=200, deadline=None)
@given(raw=st.text(max_size=80))
def test_property_check_slug_accepts_exactly_the_slug_pattern(raw: str) -> None:
    try:
        slug = check_slug(raw)
    except Invalid as refused:
        assert refused.field == "slug"
        assert not SLUG_PATTERN.match(raw.strip().lower())
    else:
        assert SLUG_PATTERN.fullmatch(slug) and slug == raw.strip().lower()
        assert check_slug(slug) == slug
