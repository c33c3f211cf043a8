"""How the offline model understands a request: keyword tables in Korean and English.

A request can carry several intents ("when and where?"). Questions about a section are
answered in text; the same words with a verb of making ("만들어", "add", "write") ask for
a component instead. Nothing recognised means the helpful fallback.
"""

from __future__ import annotations

import functools
import re

MAKE_WORDS = (
    "만들",
    "추가",
    "넣어",
    "생성",
    "작성",
    "써줘",
    "써 줘",
    "써주",
    "꾸며",
    "바꿔",
    "고쳐",
    "make",
    "create",
    "add",
    "build",
    "generate",
    "write",
    "draft",
    "design",
    "insert",
    "compose",
)
REWRITE_WORDS = (
    "다시",
    "고쳐",
    "수정",
    "바꿔",
    "다르게",
    "새로",
    "짧게",
    "다듬",
    "다른",
    "rewrite",
    "again",
    "another",
    "different",
    "change",
    "shorter",
    "revise",
    "improve",
    "edit",
    "polish",
)
# English verbs that must be whole words ("add" is not "address", "edit" not "edition").
WHOLE_WORDS = frozenset({"add", "edit", "make", "help", "change"})
SHORT_WORDS = ("짧게", "간단", "간결", "short", "brief", "concise")

GREETING_WORDS = (
    "인사말",
    "인사 말",
    "인사글",
    "초대 글",
    "초대글",
    "초대 문구",
    "초대문구",
    "청첩 문구",
    "초대의 글",
    "모시는 글",
    "greeting",
    "invitation text",
    "invitation message",
    "wording",
    "invite text",
)
COVER_WORDS = ("커버", "표지", "메인 화면", "첫 화면", "cover", "front page", "title page")
CALENDAR_WORDS = ("달력", "캘린더", "calendar")
MAP_WORDS = ("지도", "map")
DATE_WORDS = (
    "언제",
    "날짜",
    "몇 시",
    "몇시",
    "시간",
    "일시",
    "요일",
    "며칠",
    "몇월",
    "몇 월",
    "when",
    "date",
    "time",
    "what day",
    "which day",
)
VENUE_WORDS = (
    "어디",
    "장소",
    "예식장",
    "웨딩홀",
    "위치",
    "오시는",
    "길 안내",
    "길안내",
    "길찾기",
    "찾아가",
    "가는 길",
    "가는길",
    "주소",
    "주차",
    "교통",
    "네비",
    "where",
    "venue",
    "location",
    "address",
    "direction",
    "parking",
    "get there",
    "navigate",
    "hall",
)
ACCOUNT_WORDS = (
    "계좌",
    "축의금",
    "마음 전하",
    "마음전하",
    "송금",
    "입금",
    "은행",
    "account",
    "gift money",
    "bank",
    "transfer",
    "send money",
    "cash gift",
    "monetary gift",
)
PEOPLE_WORDS = (
    "이름",
    "성함",
    "부모님",
    "혼주",
    "names",
    "parents",
    "who is getting married",
    "who's getting married",
)
COUNTDOWN_WORDS = (
    "며칠 남",
    "며칠남",
    "몇 일 남",
    "몇일 남",
    "몇일남",
    "디데이",
    "d-day",
    "남은 날",
    "남은날",
    "how many days",
    "days left",
    "days until",
    "days till",
    "days to go",
    "days away",
    "countdown",
    "how long until",
    "how long till",
    "how long to go",
)
RSVP_WORDS = (
    "몇 명",
    "몇명",
    "참석 인원",
    "참석인원",
    "참석 의사",
    "참석의사",
    "참석한다",
    "참석 한다",
    "참석하",
    "참석자",
    "참석 여부",
    "불참",
    "인원",
    "하객 수",
    "하객수",
    "온대",
    "오신대",
    "온다고",
    "오신다고",
    "식사 인원",
    "rsvp",
    "how many guests",
    "how many people",
    "how many are coming",
    "who is coming",
    "who's coming",
    "guests coming",
    "people coming",
    "attending",
    "attendance",
    "head count",
    "headcount",
    "head-count",
    "guest count",
)
GUESTBOOK_WORDS = (
    "방명록",
    "축하 메시지",
    "축하메시지",
    "축하 글",
    "축하글",
    "guestbook",
    "guest book",
    "guests wrote",
    "guests write",
    "guests say",
    "guests said",
    "messages from guests",
    "messages from our guests",
    "well wishes",
)
SIDE_WORDS = {
    "groom": ("신랑 측", "신랑측", "신랑 쪽", "신랑쪽", "groom's side", "groom side", "groom's guests", "groom"),
    "bride": ("신부 측", "신부측", "신부 쪽", "신부쪽", "bride's side", "bride side", "bride's guests", "bride"),
}
SUGGEST_WORDS = (
    "뭘 물어",
    "뭐 물어",
    "무엇을 물어",
    "추천 질문",
    "제안",
    "뭘 할 수",
    "뭐 할 수",
    "무엇을 할 수",
    "뭘 도와",
    "뭐 도와",
    "무엇을 도와",
    "도움말",
    "뭐부터",
    "무엇부터",
    "할 수 있어",
    "suggest",
    "what can you",
    "what else",
    "ideas",
    "what should i ask",
    "what do you do",
    "help",
)

# Intents whose answer needs facts from the page (the context agent).
NEEDS_CONTEXT = frozenset(
    {
        "people",
        "date",
        "venue",
        "accounts",
        "greeting",
        "greeting_read",
        "cover",
        "calendar_card",
        "map_card",
        "account_card",
        "countdown",
        "rsvp",
        "guestbook",
    }
)
NEEDS_MAP = frozenset({"venue", "map_card"})
MAKES_COMPONENT = frozenset(
    {"greeting", "cover", "calendar_card", "map_card", "account_card", "suggestions", "fallback"}
)


def _has(text: str, words: tuple[str, ...]) -> bool:
    """Korean words match anywhere (particles attach to them); English words match at a word
    start, so "date" is not found in "update" nor "add" in "address"."""
    english, korean = _matcher(words)
    return any(word in text for word in korean) or (english is not None and english.search(text) is not None)


@functools.cache
def _matcher(words: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One compiled pattern for the English words of a table (the tables are constants, so
    this is made once per table), and the Korean words to look for as substrings."""
    english = [
        rf"{re.escape(word)}(?![a-z])" if word in WHOLE_WORDS else re.escape(word) for word in words if word.isascii()
    ]
    pattern = re.compile(rf"\b(?:{'|'.join(english)})") if english else None
    return pattern, tuple(word for word in words if not word.isascii())


def detect_intents(text: str) -> list[str]:
    """The intents of one request, in a fixed order (the order the answer follows)."""
    return list(_intents(text))


@functools.lru_cache(maxsize=256)  # a turn asks about the same request at each of its model calls
def _intents(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    making = _has(lowered, MAKE_WORDS)
    found: list[str] = []
    if _has(lowered, COVER_WORDS):
        found.append("cover")
    if _has(lowered, GREETING_WORDS):
        found.append("greeting" if making or _has(lowered, REWRITE_WORDS) else "greeting_read")
    if _has(lowered, COUNTDOWN_WORDS) and not making:
        found.append("countdown")
    if _has(lowered, CALENDAR_WORDS) and "countdown" not in found:
        found.append("calendar_card" if making else "date")
    if _has(lowered, DATE_WORDS) and not {"date", "calendar_card", "cover", "countdown"} & set(found):
        found.append("date")
    if _has(lowered, MAP_WORDS):
        found.append("map_card" if making else "venue")
    if _has(lowered, VENUE_WORDS) and not {"venue", "map_card", "cover"} & set(found):
        found.append("venue")
    if _has(lowered, ACCOUNT_WORDS):
        found.append("account_card" if making else "accounts")
    if _has(lowered, PEOPLE_WORDS) and not {"cover", "greeting", "greeting_read"} & set(found):
        found.append("people")
    # the guests' answers and notes are read, never made: asked beside a component, they are
    # words of the component's text ("참석해 주세요" in a greeting)
    if not MAKES_COMPONENT & set(found):
        if _has(lowered, RSVP_WORDS):
            found.append("rsvp")
        if _has(lowered, GUESTBOOK_WORDS):
            found.append("guestbook")
    if not found and _has(lowered, SUGGEST_WORDS):
        found.append("suggestions")
    return tuple(found)


def asked_side(text: str) -> str | None:
    """ "신부 측 참석 인원은?" → ``bride``: the side a question is about, if it names one."""
    lowered = text.lower()
    sides = [side for side, words in SIDE_WORDS.items() if _has(lowered, words)]
    return sides[0] if len(sides) == 1 else None


def is_rewrite(text: str) -> bool:
    return _has(text.lower(), REWRITE_WORDS)


def wants_short(text: str) -> bool:
    return _has(text.lower(), SHORT_WORDS)


def follow_up_intents(text: str, earlier_requests: list[str]) -> list[str]:
    """ "다시 써줘" / "another one" right after a request repeats it as a rewrite."""
    if not is_rewrite(text):
        return []
    for earlier in reversed(earlier_requests):
        intents = [intent for intent in detect_intents(earlier) if intent in MAKES_COMPONENT]
        if intents:
            return ["greeting" if intent == "greeting_read" else intent for intent in intents]
    return []
