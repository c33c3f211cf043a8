"""RSVP (참석 의사): a guest answers without an account and changes the answer with the edit
token they got; the couple lists, filters, sums up, exports and deletes answers.

The token is shown once, at creation; only its SHA-256 is stored, so a leaked database
does not let anyone change answers. An answer is refused (``RsvpClosed``, 409) when the
couple switched RSVP off or its deadline passed, and the page is NotFound when it is not
published or hidden: the same rules for a new answer and a change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from typing import Literal

from tortoise.transactions import in_transaction

from mochung.domain.errors import Forbidden, Invalid, NotFound, RsvpClosed
from mochung.domain.guests.settings import RsvpSettings, read_settings
from mochung.domain.guests.wedding import SEOUL
from mochung.domain.jsonlimits import SPACES
from mochung.domain.listing import Slice, paginate, where
from mochung.domain.models import Page, Rsvp
from mochung.domain.pages import public_page

Side = Literal["groom", "bride"]
Meal = Literal["yes", "no", "undecided"]
SIDES: tuple[Side, ...] = ("groom", "bride")
MEALS: tuple[Meal, ...] = ("yes", "no", "undecided")
MAX_NAME = 40
MAX_MESSAGE = 300
MAX_PHONE = 20
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
# what check_answer accepts, as one pattern for the document: blank, or once trimmed a
# number of at most MAX_PHONE characters (so it ends in a digit or '-', never a space)
PHONE_OR_BLANK = f"^[{SPACES}]*(\\+[0-9][0-9 -]{{4,17}}[0-9-]|[0-9][0-9 -]{{4,18}}[0-9-])?[{SPACES}]*$"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Answer:
    """What a guest sends; checked against the page's settings by :func:`check_answer`.
    Its fields are the columns of :class:`Rsvp` it fills."""

    side: Side
    name: str
    attending: bool
    party_size: int
    meal: Meal | None = None
    phone: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class SideCount:
    attending: int = 0
    guests: int = 0


@dataclass(frozen=True)
class Summary:
    responses: int = 0
    attending: int = 0
    not_attending: int = 0
    guests: int = 0  # people coming: the party sizes of attending answers
    by_side: dict[str, SideCount] = field(default_factory=lambda: {side: SideCount() for side in SIDES})
    meals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEALS, 0))


def _clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()


def check_answer(answer: Answer, settings: RsvpSettings) -> Answer:
    """The answer as stored: trimmed, limits checked (``Invalid`` names the field).

    Not attending means a party of 0 whatever was sent, and no meal. Without ``askMeal``
    the meal is not kept; with it an attending guest who did not say is ``undecided``.
    """
    name = _clean(answer.name)
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"name must be 1-{MAX_NAME} characters", field="name")
    message = _clean(answer.message) if answer.message is not None else ""
    if len(message) > MAX_MESSAGE:
        raise Invalid(f"message must be at most {MAX_MESSAGE} characters", field="message")
    phone = answer.phone.strip() if answer.phone is not None else ""
    if phone and (len(phone) > MAX_PHONE or not _PHONE.match(phone)):
        raise Invalid("phone must be a phone number (digits, spaces, '-', an optional leading '+')", field="phone")
    if answer.side not in SIDES:
        raise Invalid("side must be groom or bride", field="side")
    party_size, meal = 0, None
    if answer.attending:
        if not 1 <= answer.party_size <= settings.max_party_size:
            raise Invalid(f"partySize must be between 1 and {settings.max_party_size}", field="partySize")
        party_size = answer.party_size
        if settings.ask_meal:
            meal = answer.meal or "undecided"
    return Answer(
        side=answer.side,
        name=name,
        attending=answer.attending,
        party_size=party_size,
        meal=meal,
        phone=phone or None,
        message=message or None,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _open_page(slug: str, now: dt.datetime) -> tuple[Page, RsvpSettings]:
    page = await public_page(slug)
    settings = read_settings(page.settings).rsvp
    if settings.closed(now):
        reason = "RSVP is not open on this page" if not settings.enabled else "the RSVP deadline has passed"
        raise RsvpClosed(reason)
    return page, settings


async def answer(slug: str, sent: Answer, now: dt.datetime) -> tuple[Rsvp, str]:
    """Store a new answer; returns it with its edit token (shown this once)."""
    page, settings = await _open_page(slug, now)
    checked = check_answer(sent, settings)
    token = secrets.token_urlsafe(24)
    rsvp = await Rsvp.create(page_id=page.id, edit_token_hash=_token_hash(token), **asdict(checked))
    return rsvp, token


async def change(slug: str, rsvp_id: uuid.UUID, token: str, sent: Answer, now: dt.datetime) -> Rsvp:
    """Replace an answer; the edit token must be the one given at creation (403 otherwise)."""
    page, settings = await _open_page(slug, now)
    checked = check_answer(sent, settings)
    async with in_transaction() as connection:
        rsvp = await Rsvp.filter(id=rsvp_id, page_id=page.id).using_db(connection).select_for_update().first()
        if rsvp is None:
            raise NotFound("RSVP not found")
        if not token or not hmac.compare_digest(rsvp.edit_token_hash, _token_hash(token)):
            raise Forbidden("wrong edit token for this RSVP")
        rsvp.update_from_dict(asdict(checked))
        await rsvp.save(using_db=connection)
    return rsvp


async def list_rsvps(
    page: Page, side: Side | None, attending: bool | None, limit: int, cursor: str | None
) -> Slice[Rsvp]:
    """The couple's view, newest first."""
    query = where(Rsvp.filter(page_id=page.id), side=side, attending=attending)
    return await paginate(query, limit=limit, cursor=cursor)


async def all_rsvps(page: Page) -> list[Rsvp]:
    """Every answer, oldest first (the CSV export)."""
    return await Rsvp.filter(page_id=page.id).order_by("created_at", "id")


async def summary(page_id: uuid.UUID) -> Summary:
    """Counts over every answer of the page. Meals count people (party sizes) of attending
    answers, as a caterer needs them."""
    rows = await Rsvp.filter(page_id=page_id).values_list("side", "attending", "party_size", "meal")
    by_side = {side: [0, 0] for side in SIDES}
    meals: dict[str, int] = dict.fromkeys(MEALS, 0)
    responses = attending = guests = 0
    for side, is_attending, party_size, meal in rows:
        responses += 1
        if not is_attending:
            continue
        attending += 1
        guests += int(party_size)
        if side in by_side:
            by_side[side][0] += 1
            by_side[side][1] += int(party_size)
        if meal in meals:
            meals[meal] += int(party_size)
    return Summary(
        responses=responses,
        attending=attending,
        not_attending=responses - attending,
        guests=guests,
        by_side={side: SideCount(attending=a, guests=g) for side, (a, g) in by_side.items()},
        meals=meals,
    )


async def delete_rsvp(page: Page, rsvp_id: uuid.UUID) -> None:
    deleted = await Rsvp.filter(id=rsvp_id, page_id=page.id).delete()
    if not deleted:
        raise NotFound("RSVP not found")


CSV_COLUMNS = ("응답 시각", "구분", "이름", "참석", "인원", "식사", "연락처", "메시지")
_SIDE_KO = {"groom": "신랑측", "bride": "신부측"}
_MEAL_KO = {"yes": "예", "no": "아니오", "undecided": "미정"}


def _cell(text: str) -> str:
    """A cell Excel will not run as a formula (CSV injection): a leading = + - @ gets a '."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(rows: list[Rsvp]) -> list[list[str]]:
    """The export's header and rows, in Korean (the couple's Excel), times in KST."""
    table = [list(CSV_COLUMNS)]
    for rsvp in rows:
        table.append(
            [
                rsvp.created_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M"),
                _SIDE_KO.get(rsvp.side, rsvp.side),
                _cell(rsvp.name),
                "참석" if rsvp.attending else "불참",
                str(rsvp.party_size),
                _MEAL_KO.get(rsvp.meal or "", ""),
                _cell(rsvp.phone or ""),
                _cell(rsvp.message or ""),
            ]
        )
    return table
