"""Map agent tools: find a place and build directions links.

A failing search (bad key, timeout, provider down) raises :class:`MapSearchError`, which
ends the turn with a clear error event rather than a made-up address.
"""

from __future__ import annotations

from langchain.tools import ToolRuntime, tool
from langchain_core.tools import BaseTool

from mochung.agents.tools.turn import TurnContext, to_json


@tool
async def search_place(query: str, runtime: ToolRuntime[TurnContext]) -> str:
    """Search places by keyword (venue name or address). Returns candidates with name,
    address, coordinates and directions links for Kakao Map, Naver Map and T map."""
    context = runtime.context
    with context.record("map", "search_place", {"query": query}):
        places = await context.maps.search(query)
        return to_json({"query": query, "places": [place.as_dict() for place in places]})


@tool
async def get_place_details(name: str, runtime: ToolRuntime[TurnContext]) -> str:
    """Details of one place by its exact name: address, phone, coordinates, and the
    directions links (kakao, naver, naver_web, tmap). ``place`` is null when not found."""
    context = runtime.context
    with context.record("map", "get_place_details", {"name": name}):
        place = await context.maps.details(name)
        return to_json({"name": name, "place": place.as_dict() if place else None})


def map_tools() -> list[BaseTool]:
    return [search_place, get_place_details]
