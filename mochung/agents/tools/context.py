"""Context agent tools: read the couple's wedding page (never write it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.tools import ToolRuntime, tool
from langchain_core.tools import BaseTool

from mochung.agents.tools.turn import TurnContext, to_json
from mochung.agents.wedding import WeddingContext

NO_PAGE = {"error": "no wedding page is attached to this chat yet"}


def _read(runtime: ToolRuntime[TurnContext], name: str, view: Callable[[WeddingContext], dict[str, Any]]) -> str:
    context = runtime.context
    with context.record("context", name, {}):
        if context.wedding is None:
            return to_json(NO_PAGE)
        return to_json(view(context.wedding))


@tool
async def get_wedding_info(runtime: ToolRuntime[TurnContext]) -> str:
    """The wedding at a glance: couple's names, parents, date and time, venue (name, hall,
    address, coordinates, transport) and which sections the page has."""
    return _read(runtime, "get_wedding_info", WeddingContext.wedding_info)


@tool
async def get_invitation_text(runtime: ToolRuntime[TurnContext]) -> str:
    """The greeting (invitation text) currently on the page, with the parents' names."""
    return _read(runtime, "get_invitation_text", WeddingContext.invitation_text)


@tool
async def get_account_info(runtime: ToolRuntime[TurnContext]) -> str:
    """The gift bank accounts on the page: side (groom/bride), owner, bank, number."""
    return _read(runtime, "get_account_info", WeddingContext.account_info)


@tool
async def get_calendar_info(runtime: ToolRuntime[TurnContext]) -> str:
    """The wedding date (YYYY-MM-DD), time (HH:MM), weekday and the date as written on the page,
    today's date in Korea (KST) and days_until_wedding (0 on the day, negative once past)."""
    return _read(runtime, "get_calendar_info", WeddingContext.calendar_info)


@tool
async def get_rsvp_summary(runtime: ToolRuntime[TurnContext]) -> str:
    """The guests' RSVP answers summed up: whether RSVP is on and its deadline, responses,
    answers attending and not, people coming (guests) in all and by side (groom/bride:
    attending answers and people), and meals (people by yes/no/undecided)."""
    return _read(runtime, "get_rsvp_summary", WeddingContext.rsvp_info)


@tool
async def get_guestbook_entries(runtime: ToolRuntime[TurnContext]) -> str:
    """The newest guestbook (방명록) entries, newest first: the writer's name, what they wrote
    (plain text) and when (KST); whether the guestbook is on."""
    return _read(runtime, "get_guestbook_entries", WeddingContext.guestbook_info)


def context_tools() -> list[BaseTool]:
    return [
        get_wedding_info,
        get_invitation_text,
        get_account_info,
        get_calendar_info,
        get_rsvp_summary,
        get_guestbook_entries,
    ]
