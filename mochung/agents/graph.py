"""The agent graph: a main agent that calls three specialised agents as tools.

Each agent is its own ``create_agent`` graph, compiled once per runtime and shared by every
turn; what differs between turns (the wedding, the map search, the record of what ran)
travels as the run context (:class:`TurnContext`), handed on to the sub-agents explicitly.
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain.tools import ToolRuntime, tool
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from mochung.agents.messages import text_of
from mochung.agents.tools.context import context_tools
from mochung.agents.tools.maps import map_tools
from mochung.agents.tools.output import output_tools
from mochung.agents.tools.turn import TurnContext

MAIN_AGENT = "main"
SUB_AGENT_STEPS = 25  # a sub-agent needs a handful of steps; more means it is looping
OUTPUT_CHARS = 2000  # of a sub-agent's answer, kept in the trajectory

MAIN_PROMPT = """You are the assistant of 모청 (Mochung), helping a couple build their mobile wedding invitation.
Answer in the language of the couple's last message (Korean or English), warmly and briefly.
You work through three specialised agents, called as tools:
- call_context_agent: reads the couple's invitation page (names, parents, date and time, venue, greeting,
  gift accounts), their guests' RSVP answers (head-count in all and by side, meals), the latest guestbook
  entries, and how many days are left until the wedding (today in Korea). Call it before saying anything
  about their wedding or their guests; never invent facts.
- call_map_agent: finds the venue and returns directions links for Kakao Map, Naver Map and T map.
  Use it for venue, address and directions questions; pass the venue name and address.
- call_output_agent: creates invitation components (Cover, Invitation greeting, Calendar, Location, Account)
  and suggestion buttons (AgentSuggestMessage). Use it when the couple asks you to make, write or rewrite
  something, or wants ideas of what to ask; pass every fact the component needs and the language.
If the page lacks something, say what is missing and which builder section to fill in."""

CONTEXT_PROMPT = """You read a couple's wedding invitation page with your tools and report the facts asked for.
Call the tools the request needs, then answer with the facts only (JSON is fine). Never invent anything."""

MAP_PROMPT = """You find wedding venues. Search the place by the name (or address) in the request with
search_place, get the best match's details with get_place_details, then report the place: name, address,
coordinates and its directions links (kakao, naver, naver_web, tmap). Say so plainly if nothing was found."""

OUTPUT_PROMPT = """You create the components of a mobile wedding invitation with your make_* tools, exactly as
requested and with the facts given. Write greetings in the requested language, warm and dignified.
Dates are YYYY-MM-DD, times HH:MM. After creating them, list what you created."""


def _sub_agent(model: BaseChatModel, tools: list[Any], prompt: str, name: str) -> Any:
    return create_agent(model, tools, system_prompt=prompt, context_schema=TurnContext, name=name)


def build_agent_graph(model: BaseChatModel) -> Any:
    """The compiled main agent; run it with ``context=TurnContext(...)``.

    Only the main agent's tokens reach the couple, so only the main agent streams: the
    sub-agents' model calls return whole messages (the same model and client, with
    ``disable_streaming``), sparing a callback and a message chunk per token of answers
    nobody watches."""
    quiet = model.model_copy(update={"disable_streaming": True})
    context_agent = _sub_agent(quiet, context_tools(), CONTEXT_PROMPT, "context")
    map_agent = _sub_agent(quiet, map_tools(), MAP_PROMPT, "map")
    output_agent = _sub_agent(quiet, output_tools(), OUTPUT_PROMPT, "output")

    async def delegate(agent: Any, tool_name: str, request: str, runtime: ToolRuntime[TurnContext]) -> str:
        context = runtime.context
        with context.record(MAIN_AGENT, tool_name, {"request": request}) as entry:
            state = await agent.ainvoke(
                {"messages": [HumanMessage(request)]},
                context=context,
                config={"recursion_limit": SUB_AGENT_STEPS},
            )
            answer = text_of(state["messages"][-1])
            entry["output"] = answer[:OUTPUT_CHARS]  # what the evaluation's judge reads
            return answer

    @tool
    async def call_context_agent(request: str, runtime: ToolRuntime[TurnContext]) -> str:
        """Ask the context agent for facts from the couple's invitation page (names, parents, date and
        time, days left until the wedding, venue and address, greeting text, gift accounts) and from
        their guests (RSVP head-count in all and by side, meals, latest guestbook entries). Describe
        what you need."""
        return await delegate(context_agent, "call_context_agent", request, runtime)

    @tool
    async def call_map_agent(request: str, runtime: ToolRuntime[TurnContext]) -> str:
        """Ask the map agent to find a place (give the venue name in double quotes and its address) and
        build directions links for Kakao Map, Naver Map and T map."""
        return await delegate(map_agent, "call_map_agent", request, runtime)

    @tool
    async def call_output_agent(request: str, runtime: ToolRuntime[TurnContext]) -> str:
        """Ask the output agent to create components: Cover, Invitation (greeting), Calendar, Location,
        Account, or AgentSuggestMessage (suggestion buttons). Give the language and all the facts."""
        return await delegate(output_agent, "call_output_agent", request, runtime)

    return create_agent(
        model,
        [call_context_agent, call_map_agent, call_output_agent],
        system_prompt=MAIN_PROMPT,
        context_schema=TurnContext,
        name=MAIN_AGENT,
    )
