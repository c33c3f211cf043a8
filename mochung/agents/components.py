"""The components the agents emit and read, validated against the domain's schemas
(PROTOCOL.md "Component", ``mochung.domain.components``).

Every component the agents emit is validated before it leaves them, and every component
of a wedding page handed to the agents is validated on the way in.
"""

from __future__ import annotations

from typing import Any

from mochung.domain.components import PROPS_BY_TYPE, ComponentError, validate_props

__all__ = ["PROPS_BY_TYPE", "ComponentError", "chat_component", "parse_page_components", "validate_props"]


def chat_component(component_type: str, props: dict[str, Any]) -> dict[str, Any]:
    """A component as it leaves the agents: ``{"type", "props"}``, validated."""
    if component_type not in PROPS_BY_TYPE:
        raise ComponentError(f"unknown component type {component_type!r}")
    return {"type": component_type, "props": validate_props(component_type, props)}


def parse_page_components(component_data: Any) -> list[dict[str, Any]]:
    """The components of a page's ``componentData``, each known type validated.

    Raises :class:`ComponentError` naming the first malformed component.
    """
    if component_data is None:
        return []
    if not isinstance(component_data, dict):
        raise ComponentError("componentData must be an object with a components list")
    components = component_data.get("components", [])
    if not isinstance(components, list):
        raise ComponentError("componentData.components must be a list")
    parsed: list[dict[str, Any]] = []
    for index, component in enumerate(components):
        if not isinstance(component, dict):
            raise ComponentError(f"component #{index + 1} is not an object")
        component_type = component.get("type")
        if not isinstance(component_type, str) or not component_type:
            raise ComponentError(f"component #{index + 1} has no type")
        try:
            props = validate_props(component_type, component.get("props", {}))
        except ComponentError as error:
            raise ComponentError(f"component #{index + 1} ({error.message})") from None
        parsed.append({"type": component_type, "id": component.get("id"), "props": props})
    return parsed
