"""How the offline model decides its next message. Pure: messages + offered tools → message.

It plays whichever agent offered it tools (recognised by the tool names), and reads the
conversation the way a hosted model would:

- **main** (offered ``call_*_agent``): detect the intents of the last user message
  (:mod:`.intents`; a bare "다시"/"again" repeats the previous request as a rewrite), then
  step through a fixed plan, one tool call per step, skipping what already ran in this turn:
  1. ``call_context_agent`` when the answer needs facts from the page,
  2. ``call_map_agent`` for venue/directions/map requests, when the page names a venue,
  3. ``call_output_agent`` with a JSON brief for each component asked for (greeting, cover,
     calendar, map, accounts; suggestions for "what can you do" and for the fallback),
  4. the final answer, written from the tools' results in the user's language.
- **context**: calls the read tools the request's topics need, then answers with their
  results as one JSON object.
- **map**: ``search_place`` for the quoted name in the request, ``get_place_details`` for
  the best match, then the place as JSON.
- **output**: one ``make_*`` call per brief in the request's JSON, then the created
  components as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from mochung.agents.messages import text_of
from mochung.agents.offline import intents as rules
from mochung.agents.offline import writing
from mochung.agents.wedding import detect_language

MAKE_TOOL = {
    "cover": "make_cover",
    "invitation": "make_invitation",
    "calendar": "make_calendar",
    "location": "make_location",
    "account": "make_account",
    "suggestions": "make_suggestions",
}


def loads(text: str) -> dict[str, Any]:
    """The JSON object in a tool result or a request (bare or in a ```json fence), else {}."""
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.S)
    candidate = fenced[1] if fenced else text[text.find("{") :] if "{" in text else ""
    try:
        value = json.loads(candidate)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _turn(messages: Sequence[BaseMessage]) -> tuple[str, list[str], list[tuple[str, str]], int]:
    """(request, earlier user requests, [(tool name, result)] since the request, steps taken)."""
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    request = text_of(messages[start]) if start >= 0 else ""
    earlier = [text_of(m) for m in messages[:start] if isinstance(m, HumanMessage)]
    names: dict[str, str] = {}
    results: list[tuple[str, str]] = []
    steps = 0
    for message in messages[start + 1 :]:
        if isinstance(message, AIMessage):
            steps += 1
            names.update({call["id"] or "": call["name"] for call in message.tool_calls})
        elif isinstance(message, ToolMessage):
            results.append((message.name or names.get(message.tool_call_id, ""), text_of(message)))
    return request, earlier, results, steps


def _call(name: str, args: dict[str, Any], step: int) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{step}_{name}"}])


def decide(messages: Sequence[BaseMessage], tool_names: Sequence[str]) -> AIMessage:
    tools = set(tool_names)
    if "call_context_agent" in tools:
        return _main(messages)
    if "get_wedding_info" in tools:
        return _context(messages)
    if "search_place" in tools:
        return _map(messages)
    if "make_suggestions" in tools:
        return _output(messages)
    request, _, _, _ = _turn(messages)
    return AIMessage(content=writing.fallback_answer(detect_language(request)))


# --- main agent -------------------------------------------------------------------------


CONTEXT_TOPICS = {
    "people": "the couple's names and their parents",
    "date": "the wedding date and time",
    "calendar_card": "the wedding date and time",
    "venue": "the venue and its address",
    "map_card": "the venue and its address",
    "cover": "the couple's names, venue and date for the cover",
    "accounts": "the gift bank accounts",
    "account_card": "the gift bank accounts",
    "greeting": "the current greeting text and the couple's details",
    "greeting_read": "the current greeting text",
    "countdown": "the wedding date and how many days are left until it (today in Korea)",
    "rsvp": "the guests' RSVP answers: head-count in all and by side",
    "guestbook": "the latest guestbook entries",
}


def _main(messages: Sequence[BaseMessage]) -> AIMessage:
    request, earlier, results, steps = _turn(messages)
    language = detect_language(request)
    intents = rules.detect_intents(request) or rules.follow_up_intents(request, earlier) or ["fallback"]
    side = rules.asked_side(request)
    done = dict(results)
    facts: dict[str, Any] = {}
    for value in loads(done.get("call_context_agent", "")).values():
        if isinstance(value, dict):
            facts.update(value)
    if any(i in rules.NEEDS_CONTEXT for i in intents) and "call_context_agent" not in done:
        topics = list(dict.fromkeys(CONTEXT_TOPICS[i] for i in intents if i in CONTEXT_TOPICS))
        return _call(
            "call_context_agent", {"request": "Look up on the wedding page: " + "; ".join(topics) + "."}, steps
        )
    has_place = bool(facts.get("place_name") or facts.get("address"))
    if any(i in rules.NEEDS_MAP for i in intents) and has_place and "call_map_agent" not in done:
        query = facts.get("place_name") or facts.get("address")
        where = f" ({facts['address']})" if facts.get("address") and facts.get("place_name") else ""
        return _call("call_map_agent", {"request": f'Find "{query}"{where} and build directions links.'}, steps)
    place = loads(done.get("call_map_agent", "")).get("place")
    # A rewrite: asked for in words, or reached as a follow-up ("다시 써줘" after "인사말 써줘").
    rewrite = rules.is_rewrite(request) or "greeting" not in rules.detect_intents(request)
    briefs = _briefs(intents, facts, place, language, request, rewrite=rewrite)
    if briefs and "call_output_agent" not in done:
        brief = json.dumps({"language": language, "components": briefs}, ensure_ascii=False)
        return _call("call_output_agent", {"request": f"Make these components:\n```json\n{brief}\n```"}, steps)
    created = loads(done.get("call_output_agent", "")).get("created", [])
    searched = "call_map_agent" in done
    return AIMessage(
        content=_answer(intents, facts, place, created, language, rewrite=rewrite, searched=searched, side=side)
    )


def _briefs(
    intents: list[str],
    facts: dict[str, Any],
    place: dict[str, Any] | None,
    language: str,
    request: str,
    *,
    rewrite: bool,
) -> list[dict[str, Any]]:
    no_page = "error" in facts
    briefs: list[dict[str, Any]] = []
    date_text = writing.date_phrase(facts, language)
    for intent in intents:
        if intent == "greeting":
            briefs.append(
                {
                    "kind": "invitation",
                    "brief": {
                        "groom_name": facts.get("groom_name"),
                        "bride_name": facts.get("bride_name"),
                        "groom_parents": facts.get("groom_parents"),
                        "bride_parents": facts.get("bride_parents"),
                        "date": date_text,
                        "place": facts.get("place_name"),
                        "current_text": facts.get("text"),
                        "rewrite": rewrite,
                        "short": rules.wants_short(request),
                    },
                }
            )
        elif intent == "cover" and not no_page and facts.get("groom_name") and facts.get("bride_name"):
            title = facts.get("cover_title") or ("저희 결혼합니다" if language == "ko" else "We're getting married")
            briefs.append(
                {
                    "kind": "cover",
                    "args": {
                        "title": title,
                        "groom_name": facts["groom_name"],
                        "bride_name": facts["bride_name"],
                        "date": date_text,
                        "place": facts.get("place_name") or "",
                        "main_photo": facts.get("main_photo") or "",
                    },
                }
            )
        elif intent == "calendar_card" and facts.get("wedding_date"):
            briefs.append(
                {
                    "kind": "calendar",
                    "args": {
                        "wedding_date": facts["wedding_date"],
                        "wedding_time": facts.get("wedding_time") or "",
                        "wedding_date_text": date_text,
                    },
                }
            )
        elif intent == "map_card" and (facts.get("place_name") or facts.get("address")):
            found = place or {}
            briefs.append(
                {
                    "kind": "location",
                    "args": {
                        "place_name": facts.get("place_name") or found.get("name") or "",
                        "address": facts.get("address") or found.get("road_address") or found.get("address") or "",
                        "hall": facts.get("hall") or "",
                        "lat": facts.get("lat") if facts.get("lat") is not None else found.get("lat"),
                        "lng": facts.get("lng") if facts.get("lng") is not None else found.get("lng"),
                        "map_url": writing.place_links(facts, place)["kakao"],
                        "transport": facts.get("transport") or [],
                    },
                }
            )
        elif intent == "account_card" and facts.get("accounts"):
            briefs.append({"kind": "account", "args": {"accounts": facts["accounts"]}})
        elif intent in ("suggestions", "fallback"):
            briefs.append({"kind": "suggestions", "args": {"suggestions": writing.suggestions(language)}})
    return briefs


def _answer(
    intents: list[str],
    facts: dict[str, Any],
    place: dict[str, Any] | None,
    created: list[Any],
    language: str,
    *,
    rewrite: bool,
    searched: bool,
    side: str | None = None,
) -> str:
    made = {item["type"]: item for item in created if isinstance(item, dict) and "type" in item}
    needs_page = {
        "countdown",
        "rsvp",
        "guestbook",
        "people",
        "date",
        "venue",
        "accounts",
        "greeting_read",
        "cover",
        "calendar_card",
        "map_card",
        "account_card",
    }
    if "error" in facts and any(i in needs_page for i in intents):
        return writing.NO_PAGE[language]
    parts: list[str] = []
    for intent in intents:
        if intent == "date":
            phrase = writing.date_phrase(facts, language)
            parts.append(
                (f"예식은 {phrase}에 열려요." if language == "ko" else f"The wedding is on {phrase}.")
                if phrase
                else writing.MISSING["date"][language]
            )
        elif intent == "venue":
            has_place = facts.get("place_name") or facts.get("address")
            parts.append(
                writing.venue_answer(facts, place, language, searched=searched)
                if has_place
                else writing.MISSING["venue"][language]
            )
        elif intent == "accounts":
            accounts = facts.get("accounts") or []
            parts.append(
                writing.accounts_answer(accounts, language) if accounts else writing.MISSING["accounts"][language]
            )
        elif intent == "greeting_read":
            text = facts.get("text")
            parts.append(
                (f"지금 청첩장의 인사말이에요:\n\n{text}" if language == "ko" else f"Your current greeting:\n\n{text}")
                if text
                else (
                    '아직 인사말이 없어요. "인사말 써줘"라고 하시면 써 드릴게요.'
                    if language == "ko"
                    else 'There is no greeting yet. Say "write a greeting" and I\'ll write one.'
                )
            )
        elif intent == "people":
            parts.append(writing.people_answer(facts, language))
        elif intent == "countdown":
            parts.append(writing.countdown_answer(facts, language))
        elif intent == "rsvp":
            parts.append(writing.rsvp_answer(facts.get("rsvp"), language, side))
        elif intent == "guestbook":
            parts.append(writing.guestbook_answer(facts.get("guestbook"), language))
        elif intent == "fallback":
            parts.append(writing.fallback_answer(language))
        else:
            kind = {
                "greeting": "Invitation",
                "cover": "Cover",
                "calendar_card": "Calendar",
                "map_card": "Location",
                "account_card": "Account",
                "suggestions": "AgentSuggestMessage",
            }[intent]
            if kind in made:
                parts.append(writing.made_answer(made[kind], language, rewrite))
            else:
                missing = {"Cover": "names", "Calendar": "date", "Location": "venue", "Account": "accounts"}
                parts.append(writing.MISSING[missing.get(kind, "names")][language])
    return "\n\n".join(part for part in parts if part)


# --- sub-agents ---------------------------------------------------------------------------


def _context(messages: Sequence[BaseMessage]) -> AIMessage:
    request, _, results, steps = _turn(messages)
    wanted: list[str] = []
    for intent in rules.detect_intents(request):
        if intent in ("date", "calendar_card", "countdown"):
            wanted.append("get_calendar_info")
        elif intent == "rsvp":
            wanted.append("get_rsvp_summary")
        elif intent == "guestbook":
            wanted.append("get_guestbook_entries")
        elif intent in ("venue", "map_card", "cover", "people"):
            wanted.append("get_wedding_info")
        elif intent in ("accounts", "account_card"):
            wanted.append("get_account_info")
        elif intent in ("greeting", "greeting_read"):
            wanted.append("get_invitation_text")
            if "details" in request.lower() or "names" in request.lower():
                wanted.append("get_wedding_info")
    done = dict(results)
    for name in dict.fromkeys(wanted or ["get_wedding_info"]):
        if name not in done:
            return _call(name, {}, steps)
    return AIMessage(content=json.dumps({name: loads(result) for name, result in results}, ensure_ascii=False))


def _map(messages: Sequence[BaseMessage]) -> AIMessage:
    request, _, results, steps = _turn(messages)
    quoted = re.search(r"\"([^\"]+)\"", request)
    query = quoted[1] if quoted else request
    done = dict(results)
    if "search_place" not in done:
        return _call("search_place", {"query": query}, steps)
    places = loads(done["search_place"]).get("places") or []
    if places and "get_place_details" not in done:
        return _call("get_place_details", {"name": places[0]["name"]}, steps)
    place = loads(done.get("get_place_details", "")).get("place")
    return AIMessage(content=json.dumps({"query": query, "place": place}, ensure_ascii=False))


def _output(messages: Sequence[BaseMessage]) -> AIMessage:
    request, _, results, steps = _turn(messages)
    plan = loads(request)
    requested = plan.get("language")
    language = str(requested) if requested in ("ko", "en") else detect_language(request)
    briefs = plan.get("components") or [{"kind": "suggestions", "args": {"suggestions": writing.suggestions(language)}}]
    done = [name for name, _ in results]
    for brief in briefs:
        name = MAKE_TOOL.get(str(brief.get("kind")))
        if name is None or name in done:
            continue
        if name == "make_invitation":
            details = brief.get("brief") or {}
            args = {
                "text": writing.greeting_text(language, details),
                "groom_parents": details.get("groom_parents") or "",
                "bride_parents": details.get("bride_parents") or "",
            }
        else:
            args = brief.get("args") or {}
        return _call(name, args, steps)
    outcomes = [loads(result) for _, result in results]
    created = [outcome["created"] for outcome in outcomes if "created" in outcome]
    errors = [outcome["error"] for outcome in outcomes if "error" in outcome]
    return AIMessage(content=json.dumps({"created": created, "errors": errors}, ensure_ascii=False))
