"""Helpers of the agents' tests: reading a turn's events the way the chat pipeline does."""

from __future__ import annotations

from typing import Any

from mochung.agents import AgentEvent, AgentTurn


async def collect(turn: AgentTurn) -> list[AgentEvent]:
    return [event async for event in turn.events()]


def kinds(events: list[AgentEvent]) -> list[str]:
    """The event types with runs of chunks folded into one ``chunk*``."""
    folded: list[str] = []
    for event in events:
        name = "chunk*" if event.type == "chunk" else event.type
        if not folded or folded[-1] != name or name != "chunk*":
            folded.append(name)
    return folded


def answer(events: list[AgentEvent]) -> str:
    return next(event.content or "" for event in events if event.type == "text")


def components(events: list[AgentEvent]) -> list[dict[str, Any]]:
    return [event.component for event in events if event.type == "component" and event.component]
