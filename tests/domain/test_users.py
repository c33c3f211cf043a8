"""The account rules that need no database: what an email address must look like."""

from __future__ import annotations

import pytest

from mochung.domain.errors import Invalid
from mochung.domain.users import normalise_email


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("bride@example.com", "bride@example.com"),
        ("  Bride@Example.COM \n", "Bride@Example.COM"),  # trimmed; the case is the user's
        ("신부@예시.한국", "신부@예시.한국"),
        ("first.last+wedding@mail.example.co.kr", "first.last+wedding@mail.example.co.kr"),
        ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
    ],
)
def test_an_address_is_trimmed_and_otherwise_kept(given: str, kept: str) -> None:
    assert normalise_email(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "",
        "   ",
        "bride",
        "bride@",
        "@example.com",
        "bride@example",
        "bride@@example.com",
        "bri de@example.com",
        "bride@exam ple.com",
        "x" * 65 + "@example.com",  # the part before @ is at most 64 characters
        "bride@" + "d" * 250 + ".com",  # the whole address at most 254
    ],
)
def test_anything_else_is_refused_on_the_email_field(given: str) -> None:
    with pytest.raises(Invalid) as refused:
        normalise_email(given)

    assert (refused.value.field, refused.value.message) == ("email", "must be a valid email address")
