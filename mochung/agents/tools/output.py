"""Output agent tools: each builds one component of PROTOCOL.md, validates it with its
pydantic schema, and adds it to the turn's answer. An invalid component is refused with
the reason (so a hosted model can correct itself) and never reaches the couple."""

from __future__ import annotations

from typing import Any

from langchain.tools import ToolRuntime, tool
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from mochung.agents.tools.turn import TurnContext, to_json
from mochung.domain.components import BankAccount, ComponentError, Suggestion, Transport, chat_component


def _emit(runtime: ToolRuntime[TurnContext], tool_name: str, component_type: str, props: dict[str, Any]) -> str:
    context = runtime.context
    with context.record("output", tool_name, props):
        try:
            component = chat_component(component_type, props)
        except ComponentError as error:
            return to_json({"error": f"invalid {component_type}: {error.message}"})
        context.components.append(component)
        return to_json({"created": component})


def _props(arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool's arguments (its ``locals()``) as the component's props: the names in
    camelCase as PROTOCOL.md spells them, lists of models as plain dicts, ``runtime`` left out."""
    props: dict[str, Any] = {}
    for name, value in arguments.items():
        if name == "runtime":
            continue
        if isinstance(value, list):
            value = [item.model_dump() if isinstance(item, BaseModel) else dict(item) for item in value]
        head, *rest = name.split("_")
        props[head + "".join(part.title() for part in rest)] = value
    return props


@tool
async def make_cover(
    title: str,
    groom_name: str,
    bride_name: str,
    date: str,
    place: str,
    runtime: ToolRuntime[TurnContext],
    main_photo: str = "",
) -> str:
    """Make the Cover component (the invitation's first screen)."""
    return _emit(runtime, "make_cover", "Cover", _props(locals()))


@tool
async def make_invitation(
    text: str, runtime: ToolRuntime[TurnContext], groom_parents: str = "", bride_parents: str = ""
) -> str:
    """Make the Invitation component: the greeting text and the parents' names."""
    return _emit(runtime, "make_invitation", "Invitation", _props(locals()))


@tool
async def make_calendar(
    wedding_date: str, runtime: ToolRuntime[TurnContext], wedding_time: str = "", wedding_date_text: str = ""
) -> str:
    """Make the Calendar component. wedding_date is YYYY-MM-DD, wedding_time HH:MM (24h)."""
    return _emit(runtime, "make_calendar", "Calendar", _props(locals()))


@tool
async def make_location(
    place_name: str,
    address: str,
    runtime: ToolRuntime[TurnContext],
    hall: str = "",
    lat: float | None = None,
    lng: float | None = None,
    map_url: str = "",
    transport: list[Transport] | None = None,
) -> str:
    """Make the Location component (venue, address, coordinates, map link, transport)."""
    transport = transport or []
    return _emit(runtime, "make_location", "Location", _props(locals()))


@tool
async def make_account(accounts: list[BankAccount], runtime: ToolRuntime[TurnContext]) -> str:
    """Make the Account component listing the gift accounts (side is groom or bride)."""
    return _emit(runtime, "make_account", "Account", _props(locals()))


@tool
async def make_suggestions(suggestions: list[Suggestion], runtime: ToolRuntime[TurnContext]) -> str:
    """Make the AgentSuggestMessage component: buttons of what the couple could ask next.
    displayText is shown on the button, value is sent as their next message."""
    return _emit(runtime, "make_suggestions", "AgentSuggestMessage", _props(locals()))


def output_tools() -> list[BaseTool]:
    return [make_cover, make_invitation, make_calendar, make_location, make_account, make_suggestions]
