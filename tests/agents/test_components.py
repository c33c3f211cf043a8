"""Component schemas (PROTOCOL.md "Component"): what the agents accept from a page and emit
(the domain's one parser, ``mochung.domain.components``)."""

from __future__ import annotations

import pytest

from mochung.domain.components import ComponentError, chat_component, parse_components


def test_known_components_are_validated_and_unknown_ones_kept() -> None:
    components = parse_components(
        {
            "components": [
                {"type": "Calendar", "id": "c", "props": {"weddingDate": "2026-05-16", "weddingTime": "09:05"}},
                {"type": "Location", "id": "l", "props": {"placeName": "홀", "lat": "37.5", "lng": 127}},
                {"type": "Sticker", "id": "s", "props": {"emoji": "💐", "nested": {"a": 1}}},
            ]
        }
    )
    assert components[0]["props"]["weddingDate"] == "2026-05-16"
    assert components[1]["props"]["lat"] == 37.5
    assert components[2] == {"type": "Sticker", "id": "s", "props": {"emoji": "💐", "nested": {"a": 1}}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("components", "componentData must be an object with a components list"),
        ({"components": {}}, "componentData.components must be a list"),
        ({"components": [3]}, "component #1 is not an object"),
        ({"components": [{"type": "Calendar", "props": {"weddingDate": "5/16"}}]}, "weddingDate: Value error"),
        ({"components": [{"type": "Calendar", "props": {"weddingTime": "25:00"}}]}, "must be HH:MM"),
        ({"components": [{"type": "Account", "props": {"accounts": [{"side": "uncle"}]}}]}, "Account accounts.0"),
        ({"components": [{"type": "Cover", "props": []}]}, "Cover props must be an object"),
    ],
)
def test_malformed_pages_are_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(ComponentError) as raised:
        parse_components(data)
    assert message in raised.value.message


def test_chat_components_are_type_and_props_only() -> None:
    component = chat_component("AgentSuggestMessage", {"suggestions": [{"displayText": "A", "value": "a"}]})
    assert component == {"type": "AgentSuggestMessage", "props": {"suggestions": [{"displayText": "A", "value": "a"}]}}
    with pytest.raises(ComponentError, match="suggestions"):
        chat_component("AgentSuggestMessage", {"suggestions": []})
    with pytest.raises(ComponentError, match="unknown component type"):
        chat_component("Banner", {})


def test_chat_only_components_are_refused_on_a_page_unless_allowed() -> None:
    suggestions = {"suggestions": [{"displayText": "A", "value": "a"}]}
    data = {"components": [{"type": "AgentSuggestMessage", "props": suggestions}]}
    with pytest.raises(ComponentError) as raised:
        parse_components(data)
    assert "only used in chat" in raised.value.message
    assert raised.value.field == "componentData.components.0.type"
    assert parse_components(data, allow_chat_only=True)[0]["type"] == "AgentSuggestMessage"


def test_every_parsed_component_has_an_id() -> None:
    parsed = parse_components({"components": [{"type": "Gallery"}, {"type": "Gallery", "id": "g"}]})
    assert parsed[0]["id"] and parsed[1]["id"] == "g"
