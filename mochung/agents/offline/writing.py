"""What the offline model writes: answers, greetings and suggestions, in Korean or English.

Everything here is a pure function of the facts the tools returned, so the same request on
the same page always gets the same answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mochung.adapters.maps import directions_links

GREETINGS = {
    "ko": [
        "서로가 마주 보며 다져온 사랑을\n이제 함께 한곳을 바라보며 걸어가려 합니다.\n"
        "저희 두 사람의 새로운 시작을\n따뜻한 마음으로 축복해 주시면 감사하겠습니다.",
        "따뜻한 햇살 같은 사람을 만나\n평생을 함께하기로 약속했습니다.\n"
        "귀한 걸음 하시어 저희의 첫걸음을\n지켜봐 주시면 더없는 기쁨이겠습니다.",
        "오랜 기다림 끝에 서로의 반쪽을 만났습니다.\n사랑과 믿음으로 한 가정을 이루는 날,\n"
        "함께하시어 축하해 주시면 감사하겠습니다.",
    ],
    "en": [
        "Together with our families,\nwe joyfully invite you to celebrate\nthe beginning of our new life together.",
        'Two hearts, one promise.\nWe would be honoured by your presence\nas we say "I do".',
        "After many seasons of love and laughter,\nwe are getting married,\nand we would love for you to be there.",
    ],
}
SHORT_GREETINGS = {
    "ko": ["사랑으로 하나 되는 날, 귀한 걸음으로 축복해 주세요.", "저희 결혼합니다. 오셔서 함께 기뻐해 주세요."],
    "en": ["We're getting married! Please join us and share our joy.", "Come celebrate our wedding day with us."],
}
SUGGESTIONS = {
    "ko": [
        ("예식 일시", "예식이 언제예요?"),
        ("오시는 길", "예식장이 어디예요?"),
        ("축의금 계좌", "축의금 계좌 알려줘"),
        ("인사말 써줘", "인사말 써줘"),
        ("커버 만들기", "커버 만들어줘"),
    ],
    "en": [
        ("Date & time", "When is the wedding?"),
        ("Directions", "Where is the venue?"),
        ("Gift accounts", "What are the gift accounts?"),
        ("Write greeting", "Write a greeting for the invitation"),
        ("Make cover", "Make the cover"),
    ],
}
SIDE = {"ko": {"groom": "신랑측", "bride": "신부측"}, "en": {"groom": "Groom's side", "bride": "Bride's side"}}
NO_PAGE = {
    "ko": "이 대화에는 아직 청첩장이 연결되어 있지 않아요. 빌더에서 청첩장을 만들거나 고른 뒤 다시 물어봐 주세요.",
    "en": "No invitation page is attached to this chat yet. Create or open your page in the builder, then ask again.",
}
NOT_FOUND = {
    "ko": "지도 검색에서는 이 장소를 찾지 못해서, 이름과 주소로 검색하는 링크를 드려요.",
    "en": "The map search did not find this place, so these links search by its name and address.",
}
MISSING = {
    "date": {
        "ko": "청첩장에 아직 예식 날짜가 없어요. 빌더의 달력(Calendar) 섹션에 날짜와 시간을 넣어 주세요.",
        "en": "Your invitation has no wedding date yet. Add the date and time in the Calendar section of the builder.",
    },
    "venue": {
        "ko": "청첩장에 아직 예식 장소가 없어요. 빌더에서 오시는 길(Location) 섹션에 장소와 주소를 넣어 주세요.",
        "en": "Your invitation has no venue yet. Add the place and address in the Location section of the builder.",
    },
    "accounts": {
        "ko": "청첩장에 아직 축의금 계좌가 없어요. 계좌(Account) 섹션에 신랑측·신부측 계좌를 넣어 주세요.",
        "en": "Your invitation has no gift accounts yet. Add them in the Account section of the builder.",
    },
    "people": {
        "ko": "청첩장에 아직 신랑·신부 이름이 없어요. 빌더의 커버(Cover) 섹션에 두 분의 이름을 넣어 주세요.",
        "en": "Your invitation doesn't have the couple's names yet. Add them in the Cover section of the builder.",
    },
    "names": {
        "ko": "커버에 넣을 신랑·신부 이름이 아직 청첩장에 없어요. 두 분의 이름을 알려 주세요.",
        "en": "Your invitation doesn't have the couple's names yet. Tell me both names and I'll make the cover.",
    },
}


def date_phrase(facts: dict[str, Any], language: str) -> str:
    """ "2026년 5월 16일 토요일 오후 12시 30분" / "Saturday, May 16, 2026 at 12:30 PM"."""
    date_text, iso, time = facts.get("wedding_date_text"), facts.get("wedding_date"), facts.get("wedding_time")
    if not iso:
        return str(date_text or "")
    day = dt.date.fromisoformat(iso)
    clock = dt.time.fromisoformat(time) if time else None
    if language == "ko":
        phrase = f"{day.year}년 {day.month}월 {day.day}일 {facts.get('weekday_ko') or ''}".strip()
        if clock:
            half = "오전" if clock.hour < 12 else "오후"
            hour = clock.hour % 12 or 12
            phrase += f" {half} {hour}시" + (f" {clock.minute}분" if clock.minute else "")
        return phrase
    phrase = f"{day.strftime('%A')}, {day.strftime('%B')} {day.day}, {day.year}"
    if clock:
        phrase += " at " + clock.strftime("%I:%M %p").lstrip("0")
    return phrase


def greeting_text(language: str, brief: dict[str, Any]) -> str:
    """A greeting for the Invitation component; a rewrite never repeats the current one."""
    pool = SHORT_GREETINGS[language] if brief.get("short") else GREETINGS[language]
    current = str(brief.get("current_text") or "")
    index = next((i for i, body in enumerate(pool) if body in current), -1)
    if index >= 0:  # the page already has one of ours: take the next
        body = pool[(index + 1) % len(pool)]
    else:
        body = pool[1] if brief.get("rewrite") else pool[0]
    lines = [body]
    groom, bride = brief.get("groom_name"), brief.get("bride_name")
    if groom and bride:
        lines.append(f"신랑 {groom} · 신부 {bride}" if language == "ko" else f"{groom} & {bride}")
    when, where = brief.get("date"), brief.get("place")
    if when or where:
        lines.append(" · ".join(str(part) for part in (when, where) if part))
    return "\n\n".join(lines)


def suggestions(language: str) -> list[dict[str, str]]:
    return [{"displayText": shown, "value": value} for shown, value in SUGGESTIONS[language]]


def place_links(facts: dict[str, Any], place: dict[str, Any] | None) -> dict[str, str]:
    if place and place.get("links"):
        links: dict[str, str] = place["links"]
        return links
    return directions_links(
        facts.get("place_name") or "", facts.get("lat"), facts.get("lng"), facts.get("address") or ""
    )


def venue_answer(facts: dict[str, Any], place: dict[str, Any] | None, language: str, *, searched: bool) -> str:
    name, hall = facts.get("place_name") or facts.get("address"), facts.get("hall")
    address = facts.get("address") or (place or {}).get("road_address") or (place or {}).get("address")
    links = place_links(facts, place)
    ko = language == "ko"
    if ko:
        lines = [f"예식 장소는 {name}{' ' + hall if hall else ''}이에요."]
    else:
        lines = [f"The wedding is at {name}" + (f", {hall}" if hall else "") + "."]
    if address:
        lines.append(f"주소: {address}" if ko else f"Address: {address}")
    if place and place.get("phone"):
        lines.append(f"전화: {place['phone']}" if ko else f"Phone: {place['phone']}")
    for way in facts.get("transport") or []:
        lines.append(f"- {way.get('mode')}: {way.get('text')}")
    if searched and not place:
        lines.append(NOT_FOUND[language])
    lines.append(
        ("길찾기: " if ko else "Directions: ")
        + f"{'카카오맵' if ko else 'Kakao Map'} {links['kakao']} · "
        + f"{'네이버 지도' if ko else 'Naver Map'} {links['naver_web']} · "
        + f"{'T맵' if ko else 'T map'} {links['tmap']}"
    )
    return "\n".join(lines)


def people_answer(facts: dict[str, Any], language: str) -> str:
    groom, bride = facts.get("groom_name"), facts.get("bride_name")
    if not groom and not bride:
        return MISSING["people"][language]
    ko = language == "ko"
    lines = [f"신랑 {groom or '-'} · 신부 {bride or '-'}" if ko else f"Groom: {groom or '-'} · Bride: {bride or '-'}"]
    if facts.get("groom_parents"):
        lines.append(("신랑측 혼주: " if ko else "Groom's parents: ") + str(facts["groom_parents"]))
    if facts.get("bride_parents"):
        lines.append(("신부측 혼주: " if ko else "Bride's parents: ") + str(facts["bride_parents"]))
    return "\n".join(lines)


def accounts_answer(accounts: list[dict[str, Any]], language: str) -> str:
    lines = ["마음 전하실 곳이에요:" if language == "ko" else "Gift accounts:"]
    for account in accounts:
        side = SIDE[language].get(account.get("side", ""), account.get("side", ""))
        lines.append(f"- {side} {account.get('owner')}: {account.get('bank')} {account.get('number')}")
    return "\n".join(lines)


def made_answer(component: dict[str, Any], language: str, rewrite: bool) -> str:
    kind, props = component["type"], component["props"]
    ko = language == "ko"
    if kind == "Invitation":
        head = (
            ("인사말을 다시 써 봤어요:" if rewrite else "인사말을 써 봤어요:")
            if ko
            else ("Here is a new version of your greeting:" if rewrite else "Here is a greeting for your invitation:")
        )
        return f"{head}\n\n{props['text']}"
    if kind == "Cover":
        names = f"{props['groomName']} ♥ {props['brideName']}"
        details = ", ".join(part for part in (props["date"], props["place"]) if part)
        return (f"커버를 만들었어요: {names}" if ko else f"I made your cover: {names}") + (
            f" ({details})" if details else ""
        )
    if kind == "Calendar":
        when = props["weddingDateText"] or props["weddingDate"]
        return f"달력을 만들었어요 ({when})." if ko else f"I made the calendar ({when})."
    if kind == "Location":
        return (
            f"오시는 길 지도를 만들었어요: {props['placeName']}, {props['address']}"
            if ko
            else f"I made the map section: {props['placeName']}, {props['address']}"
        )
    if kind == "Account":
        count = len(props["accounts"])
        return (
            f"축의금 계좌 섹션을 만들었어요 (계좌 {count}개)." if ko else f"I made the gift account section ({count})."
        )
    if kind == "AgentSuggestMessage":
        return (
            "이런 것들을 물어보시거나 부탁하실 수 있어요. 아래에서 골라 보세요."
            if ko
            else "Here are a few things you can ask me. Pick one below."
        )
    return ""


def fallback_answer(language: str) -> str:
    if language == "ko":
        return (
            "저는 모청의 청첩장 도우미예요. 예식 날짜와 시간, 장소와 길찾기, 축의금 계좌 안내, "
            "인사말 쓰기와 다시 쓰기, 커버 만들기를 도와드릴 수 있어요. 아래에서 골라 보세요."
        )
    return (
        "I'm Mochung's invitation assistant. I can tell you the wedding date and time, find the venue "
        "with directions, list the gift accounts, write or rewrite your greeting, and make the cover. "
        "Pick one below."
    )


def countdown_answer(facts: dict[str, Any], language: str) -> str:
    """ "결혼식까지 30일 남았어요 (D-30)" from the date and today in Korea."""
    days = facts.get("days_until_wedding")
    phrase = date_phrase(facts, language)
    if not isinstance(days, int) or not phrase:
        return MISSING["date"][language]
    if language == "ko":
        if days > 0:
            return f"결혼식까지 {days}일 남았어요 (D-{days}). 예식은 {phrase}이에요."
        if days == 0:
            return f"오늘이 바로 결혼식 날이에요 (D-Day)! 예식은 {phrase}이에요."
        return f"결혼식은 {-days}일 전({phrase})에 지났어요."
    if days > 1:
        return f"{days} days to go until the wedding on {phrase}."
    if days == 1:
        return f"Just 1 day to go: the wedding is tomorrow, {phrase}."
    if days == 0:
        return f"Today is the day! The wedding is on {phrase}."
    past = -days
    return f"The wedding was {past} day{'s' if past != 1 else ''} ago, on {phrase}."


def _people(count: int, language: str) -> str:
    return f"{count}명" if language == "ko" else f"{count} {'person' if count == 1 else 'people'}"


def rsvp_answer(rsvp: Any, language: str, side: str | None = None) -> str:
    """The head-count: in all, by side (the side asked about first), meals when asked for."""
    ko = language == "ko"
    if not isinstance(rsvp, dict) or not rsvp.get("known", True):
        return (
            "참석 의사 응답을 지금은 확인할 수 없어요. 잠시 후 다시 물어봐 주세요."
            if ko
            else "I can't see the RSVP answers right now. Please ask again in a moment."
        )
    responses = int(rsvp.get("responses") or 0)
    if responses == 0:
        if not rsvp.get("enabled"):
            return (
                "아직 참석 의사를 받고 있지 않아요. "
                "청첩장 설정에서 참석 의사(RSVP) 받기를 켜면 하객들이 답할 수 있어요."
                if ko
                else "RSVP is not switched on yet. Turn it on in your page settings so guests can answer."
            )
        return "아직 참석 의사를 보낸 하객이 없어요." if ko else "No guest has answered the RSVP yet."
    by_side = rsvp.get("by_side") or {}
    groom, bride = by_side.get("groom") or {}, by_side.get("bride") or {}
    guests, attending, absent = (
        int(rsvp.get("guests") or 0),
        int(rsvp.get("attending") or 0),
        int(rsvp.get("not_attending") or 0),
    )
    lines: list[str] = []
    if side in ("groom", "bride"):
        counts = groom if side == "groom" else bride
        name = SIDE[language][side]
        people, answers = int(counts.get("guests") or 0), int(counts.get("attending") or 0)
        lines.append(
            f"{name} 참석 인원은 {_people(people, language)}이에요 (참석 응답 {answers}건)."
            if ko
            else f"{name}: {_people(people, language)} coming "
            f"({answers} attending answer{'s' if answers != 1 else ''})."
        )
    if ko:
        lines.append(
            f"지금까지 {responses}건의 응답 중 {attending}건이 참석, {absent}건이 불참이에요. "
            f"오시는 분은 모두 {guests}명이에요 (신랑측 {int(groom.get('guests') or 0)}명 · "
            f"신부측 {int(bride.get('guests') or 0)}명)."
        )
    else:
        lines.append(
            f"So far {responses} answer{'s' if responses != 1 else ''}: {attending} attending, {absent} not. "
            f"{guests} {'person is' if guests == 1 else 'people are'} coming "
            f"(groom's side {int(groom.get('guests') or 0)} · bride's side {int(bride.get('guests') or 0)})."
        )
    meals = rsvp.get("meals") or {}
    if any(meals.get(meal) for meal in ("yes", "no", "undecided")):
        lines.append(
            f"식사: 예 {int(meals.get('yes') or 0)}명 · 아니오 {int(meals.get('no') or 0)}명 · "
            f"미정 {int(meals.get('undecided') or 0)}명"
            if ko
            else f"Meals: yes {int(meals.get('yes') or 0)} · no {int(meals.get('no') or 0)} · "
            f"undecided {int(meals.get('undecided') or 0)}"
        )
    deadline = rsvp.get("deadline")
    if deadline and rsvp.get("enabled"):
        lines.append(f"응답 마감: {str(deadline)[:10]}" if ko else f"RSVP deadline: {str(deadline)[:10]}")
    return "\n".join(lines)


def guestbook_answer(book: Any, language: str) -> str:
    """The newest guestbook entries, as written (quoted, one a line)."""
    ko = language == "ko"
    entries = book.get("entries") if isinstance(book, dict) else None
    if not isinstance(book, dict) or not book.get("known", True):
        return (
            "방명록을 지금은 확인할 수 없어요. 잠시 후 다시 물어봐 주세요."
            if ko
            else "I can't see the guestbook right now. Please ask again in a moment."
        )
    if not entries:
        if not book.get("enabled"):
            return (
                "방명록이 아직 꺼져 있어요. 청첩장 설정에서 방명록을 켜면 하객들이 축하 글을 남길 수 있어요."
                if ko
                else "The guestbook is not switched on yet. Turn it on in your page settings so guests can write."
            )
        return "아직 방명록에 남겨진 글이 없어요." if ko else "Nobody has written in the guestbook yet."
    head = f"방명록의 최근 글 {len(entries)}개예요:" if ko else f"The latest {len(entries)} guestbook entries:"
    lines = [head]
    for entry in entries:
        content = " ".join(str(entry.get("content") or "").split())
        lines.append(f'- {entry.get("name")}: "{content}"')
    return "\n".join(lines)
