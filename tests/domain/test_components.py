"""A page's components as the pages rules read them: known types have typed props, unknown
types and props are kept, chat-only types stay out of pages, and the first bad component
is named in the refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mochung.domain.components import ComponentError, parse_components
from mochung.domain.errors import Invalid

COVER = {"type": "Cover", "id": "cover-1", "props": {"title": "민준 & 서연", "date": "2027-05-01"}}
SUGGEST = {"type": "AgentSuggestMessage", "props": {"suggestions": [{"displayText": "예", "value": "yes"}]}}


def refusal(data: Any, **options: Any) -> tuple[str | None, str]:
    with pytest.raises(ComponentError) as refused:
        parse_components(data, **options)
    assert isinstance(refused.value, Invalid)  # a refused page body is a 400
    return refused.value.field, refused.value.message


def test_known_props_are_filled_in_and_the_id_is_kept() -> None:
    [cover] = parse_components({"components": [COVER]})

    assert cover["id"] == "cover-1"
    assert cover["props"] == {
        "title": "민준 & 서연",
        "groomName": "",
        "brideName": "",
        "date": "2027-05-01",
        "place": "",
        "mainPhoto": "",
    }


def test_a_component_without_an_id_gets_one() -> None:
    first, second = parse_components({"components": [{"type": "Gallery"}, {"type": "Gallery", "id": ""}]})

    assert re.fullmatch(r"[0-9a-f]{12}", first["id"]) and re.fullmatch(r"[0-9a-f]{12}", second["id"])
    assert first["id"] != second["id"]
    assert first["props"] == {"photos": []}


def test_unknown_types_props_and_fields_are_kept_as_they_came() -> None:
    future = {"type": "Guestbook", "id": "g-1", "props": {"anything": ["kept", 1]}, "style": {"dark": True}}
    cover = {**COVER, "props": {**COVER["props"], "fontSize": 18}, "note": "mine"}  # type: ignore[dict-item]

    parsed = parse_components({"components": [future, cover]})

    assert parsed[0] == future
    assert parsed[1]["props"]["fontSize"] == 18 and parsed[1]["note"] == "mine"


def test_no_component_data_is_no_components() -> None:
    assert parse_components(None) == []
    assert parse_components({}) == []
    assert parse_components({"components": []}) == []


def test_typed_props_are_normalised_to_json() -> None:
    location = {
        "type": "Location",
        "props": {"lat": "37.5665", "lng": 126.978, "transport": [{"mode": "지하철", "text": "2호선"}]},
    }

    [parsed] = parse_components({"components": [location]})

    assert (parsed["props"]["lat"], parsed["props"]["lng"]) == (37.5665, 126.978)
    assert parsed["props"]["transport"] == [{"mode": "지하철", "text": "2호선"}]


@pytest.mark.parametrize(
    ("component", "field", "message"),
    [
        ({"props": {}}, "componentData.components.1.type", "component #2 has no type"),
        ({"type": ""}, "componentData.components.1.type", "component #2 has no type"),
        ({"type": 7}, "componentData.components.1.type", "component #2 has no type"),
        ("Cover", "componentData.components.1", "component #2 is not an object"),
        (
            {"type": "Calendar", "props": {"weddingDate": "2027/05/01"}},
            "componentData.components.1.props",
            "component #2 (Calendar weddingDate: Value error, must be YYYY-MM-DD)",
        ),
        (
            {"type": "Calendar", "props": {"weddingTime": "25:00"}},
            "componentData.components.1.props",
            "component #2 (Calendar weddingTime: Value error, must be HH:MM)",
        ),
        (
            {"type": "Location", "props": {"lat": 91}},
            "componentData.components.1.props",
            "component #2 (Location lat: Input should be less than or equal to 90)",
        ),
        (
            {
                "type": "Account",
                "props": {"accounts": [{"side": "mother", "owner": "김", "bank": "국민", "number": "1"}]},
            },
            "componentData.components.1.props",
            "component #2 (Account accounts.0.side: Input should be 'groom' or 'bride')",
        ),
        (
            {"type": "Gallery", "props": ["a.png"]},
            "componentData.components.1.props",
            "component #2 (Gallery props must be an object)",
        ),
    ],
)
def test_the_first_bad_component_is_named_with_what_is_wrong(component: Any, field: str, message: str) -> None:
    assert refusal({"components": [COVER, component, {"type": ""}]}) == (field, message)


def test_component_data_that_is_not_an_object_with_a_list_is_refused() -> None:
    assert refusal(["Cover"]) == ("componentData", "componentData must be an object with a components list")
    assert refusal({"components": {"type": "Cover"}}) == (
        "componentData.components",
        "componentData.components must be a list",
    )


def test_a_chat_only_component_is_refused_on_a_page() -> None:
    assert refusal({"components": [SUGGEST]}) == (
        "componentData.components.0.type",
        "component #1 (AgentSuggestMessage) is only used in chat, not on a page",
    )


def test_the_chat_may_carry_a_chat_only_component_and_checks_it_too() -> None:
    [parsed] = parse_components({"components": [SUGGEST]}, allow_chat_only=True)
    assert parsed["props"]["suggestions"] == [{"displayText": "예", "value": "yes"}]

    empty = {"type": "AgentSuggestMessage", "props": {"suggestions": []}}
    field, message = refusal({"components": [empty]}, allow_chat_only=True)
    assert field == "componentData.components.0.props"
    assert message.startswith("component #1 (AgentSuggestMessage suggestions: List should have at least 1 item")
